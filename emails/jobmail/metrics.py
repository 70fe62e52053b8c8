"""Job email generation metrics (the seed's keys), counted in the Django cache (Redis in production,
so every process adds to the same counters) with atomic increments.

`avg_response_time` is milliseconds per generated email: an on-demand generation counts its own
wall time; a bulk run counts each chunk's wall time divided over its emails.
"""

from __future__ import annotations

from typing import Any

from django.core.cache import cache

PREFIX = "emails:metrics:"
COUNTERS = (
    "total_requests",
    "successful_requests",
    "failed_requests",
    "cache_hits",
    "response_ms_total",
    "total_tokens_used",
    "fallbacks",
    "mock",
    "line_lookups",
    "line_cache_hits",
)
LANGUAGES = ("en", "ja")


def _key(name: str, language: str = "") -> str:
    return f"{PREFIX}{language + ':' if language else ''}{name}"


def _incr(key: str, amount: int) -> None:
    if not amount:
        return
    cache.add(key, 0, None)  # no-op when present: incr needs the key
    try:
        cache.incr(key, amount)
    except ValueError:  # evicted between the two calls
        cache.set(key, amount, None)


class MetricsBatch:
    """Counts gathered in memory and added to the shared counters in one go (a chunk of a run adds
    a few dozen increments, not a few per email)."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}

    def _add(self, name: str, amount: int, language: str = "") -> None:
        if amount:
            self.counts[_key(name)] = self.counts.get(_key(name), 0) + amount
            if language in LANGUAGES:
                key = _key(name, language)
                self.counts[key] = self.counts.get(key, 0) + amount

    def request(
        self,
        *,
        language: str,
        ok: bool,
        cached: bool = False,
        ms: float = 0.0,
        tokens: int = 0,
        fallback: bool = False,
        mock: bool = False,
    ) -> None:
        """One generation request, overall and for its language."""
        self._add("total_requests", 1, language)
        self._add("successful_requests", int(ok), language)
        self._add("failed_requests", int(not ok), language)
        self._add("cache_hits", int(cached), language)
        self._add("response_ms_total", round(ms), language)
        self._add("total_tokens_used", tokens, language)
        self._add("fallbacks", int(fallback), language)
        self._add("mock", int(mock), language)

    def lines(self, *, lookups: int, hits: int, tokens: int) -> None:
        """Job-line lookups and hits (shared lines: the cross-person cache) and their tokens."""
        self._add("line_lookups", lookups)
        self._add("line_cache_hits", hits)
        self._add("total_tokens_used", tokens)

    def flush(self) -> None:
        for key, amount in self.counts.items():
            _incr(key, amount)
        self.counts.clear()


def _block(language: str = "") -> dict[str, Any]:
    values = cache.get_many([_key(name, language) for name in COUNTERS])
    counts = {name: int(values.get(_key(name, language)) or 0) for name in COUNTERS}
    successful = counts["successful_requests"]
    block: dict[str, Any] = {
        "total_requests": counts["total_requests"],
        "successful_requests": successful,
        "failed_requests": counts["failed_requests"],
        "cache_hits": counts["cache_hits"],
        "avg_response_time": round(counts["response_ms_total"] / successful, 1) if successful else 0.0,
        "total_tokens_used": counts["total_tokens_used"],
        "fallbacks": counts["fallbacks"],
        "mock": counts["mock"],
    }
    if not language:
        lookups = counts["line_lookups"]
        block["line_lookups"] = lookups
        block["line_cache_hits"] = counts["line_cache_hits"]
        block["line_cache_hit_rate"] = round(counts["line_cache_hits"] / lookups, 3) if lookups else 0.0
    return block


def metrics_read() -> dict[str, Any]:
    """The seed's keys overall, plus the same per language under `by_language`."""
    return {**_block(), "by_language": {language: _block(language) for language in LANGUAGES}}
