"""Fault descriptions: scripted (queued) and random (seeded).

Contract: a fault applies to exactly one live chat/responses call.  HTTP faults
(``429``, ``5xx``, ``401``, ``400``, ``insufficient_quota``, ``hang``) replace the
answer; content faults (``truncate``, ``invalid_json``, ``refusal``,
``content_filter``) alter a successful answer; ``ok`` means no fault.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any, TypeAlias

from llm.simulator.config import SimulatorConfig

HTTP_FAULTS = frozenset({"429", "5xx", "401", "400", "insufficient_quota", "hang"})
CONTENT_FAULTS = frozenset({"truncate", "invalid_json", "refusal", "content_filter"})
_ALIASES = {"rate_limit": "429", "fail_5xx": "5xx", "quota": "insufficient_quota", "timeout": "hang"}
_STATUS_5XX = (500, 502, 503)
_RATE_TO_KIND = {
    "fail_5xx": "5xx",
    "hang": "hang",
    "rate_limit": "429",
    "insufficient_quota": "insufficient_quota",
    "truncate": "truncate",
    "invalid_json": "invalid_json",
    "refusal": "refusal",
    "content_filter": "content_filter",
}


@dataclass(frozen=True, kw_only=True)
class Fault:
    """One fault to apply.

    Attributes:
        kind: normalized name (``"ok"``, ``"429"``, ``"5xx"``, ``"hang"``, ...).
        status: HTTP status for ``5xx`` (500/502/503/504).
        retry_after_ms: override of the 429 retry-after.
        hang_seconds: override of the configured hang duration.
        message: override of the error message (HTTP faults).
    """

    kind: str
    status: int | None = None
    retry_after_ms: int | None = None
    hang_seconds: float | None = None
    message: str | None = None

    @property
    def is_http(self) -> bool:
        """True for faults that replace the whole HTTP answer."""
        return self.kind in HTTP_FAULTS


OK = Fault(kind="ok")
FaultSpec: TypeAlias = "str | Fault | tuple[str, dict[str, Any]]"


def make_fault(name: str, **options: Any) -> Fault:
    """Build a :class:`Fault` from a name like ``"429"``, ``"503"`` or ``"refusal"``.

    ``"500"``/``"502"``/``"503"``/``"504"`` become ``kind="5xx"`` with that status.
    Raises ``ValueError`` for unknown names or options.
    """
    name = _ALIASES.get(name, name)
    if name.isdigit() and name.startswith("5"):
        options.setdefault("status", int(name))
        name = "5xx"
    if name not in HTTP_FAULTS | CONTENT_FAULTS | {"ok"}:
        raise ValueError(f"unknown fault {name!r}")
    allowed = {"status", "retry_after_ms", "hang_seconds", "message"}
    unknown = set(options) - allowed
    if unknown:
        raise ValueError(f"unknown fault options {sorted(unknown)}; allowed: {sorted(allowed)}")
    if name == "5xx":
        options.setdefault("status", 500)
    return Fault(kind=name, **options)


def coerce(spec: FaultSpec) -> Fault:
    """Accept ``"429"``, ``("429", {"retry_after_ms": 50})`` or a :class:`Fault`."""
    if isinstance(spec, Fault):
        return spec
    if isinstance(spec, str):
        return make_fault(spec)
    if isinstance(spec, tuple) and len(spec) == 2 and isinstance(spec[0], str) and isinstance(spec[1], dict):
        return make_fault(spec[0], **spec[1])
    raise TypeError(f"cannot interpret fault spec {spec!r}")


def pick_random(config: SimulatorConfig, rng: random.Random) -> Fault:
    """Draw one fault from the configured rates (single uniform draw)."""
    draw = rng.random()
    cumulative = 0.0
    for field_name, kind in _RATE_TO_KIND.items():
        cumulative += getattr(config, field_name)
        if draw < cumulative:
            if kind == "5xx":
                return Fault(kind="5xx", status=rng.choice(_STATUS_5XX))
            return Fault(kind=kind)
    return OK


def pick_content_fault(config: SimulatorConfig, rng: random.Random) -> Fault:
    """Draw only among content faults (used for batch lines)."""
    draw = rng.random()
    cumulative = 0.0
    for kind in ("truncate", "invalid_json", "refusal", "content_filter"):
        cumulative += getattr(config, kind)
        if draw < cumulative:
            return Fault(kind=kind)
    return OK
