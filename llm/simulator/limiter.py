"""Shared sliding-window RPM/TPM limiter.

Contract: a request is admitted when, over the last ``window`` seconds, fewer
than ``rpm`` requests were admitted and admitted tokens plus the new estimate
stay within ``tpm``.  A refusal reports the exact delay until enough capacity
frees up.  Requests are charged their total (prompt + completion) tokens.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class Ticket:
    """An admitted request in the window."""

    at: float
    tokens: int


class RateLimited(Exception):
    """Raised by :meth:`RateLimiter.acquire` when over the limit."""

    def __init__(self, kind: str, retry_after_s: float, limit: int, used: int, requested: int) -> None:
        super().__init__(f"{kind} limit reached; retry in {retry_after_s:.3f}s")
        self.kind = kind
        self.retry_after_s = retry_after_s
        self.limit = limit
        self.used = used
        self.requested = requested


def format_duration(seconds: float) -> str:
    """Format like OpenAI's ``x-ratelimit-reset-*`` headers: ``20ms``, ``1.5s``, ``6m0s``."""
    millis = max(0, math.ceil(seconds * 1000))
    if millis < 1000:
        return f"{millis}ms"
    minutes, rest = divmod(millis, 60_000)
    secs = f"{rest / 1000:.3f}".rstrip("0").rstrip(".")
    return f"{minutes}m{secs}s" if minutes else f"{secs}s"


class RateLimiter:
    """Thread-safe sliding-window limiter over requests and tokens."""

    def __init__(
        self,
        rpm: int | None,
        tpm: int | None,
        *,
        window: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rpm = rpm
        self.tpm = tpm
        self.window = window
        # Per-minute limits enforced over a shorter window, as providers quantize them
        # (600 RPM over 1 s = 10 requests a second): capacities are in window units.
        self.request_capacity = max(1, round(rpm * window / 60)) if rpm is not None else None
        self.token_capacity = max(1, round(tpm * window / 60)) if tpm is not None else None
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: deque[Ticket] = deque()
        self._tokens = 0

    @property
    def enabled(self) -> bool:
        """Whether any limit is configured."""
        return self.rpm is not None or self.tpm is not None

    def _prune(self, now: float) -> None:
        horizon = now - self.window
        while self._entries and self._entries[0].at <= horizon:
            self._tokens -= self._entries.popleft().tokens

    def acquire(self, tokens: int) -> Ticket:
        """Admit one request estimated at ``tokens`` or raise :class:`RateLimited`."""
        with self._lock:
            now = self._clock()
            self._prune(now)
            cap = self.request_capacity
            if self.rpm is not None and cap is not None and len(self._entries) >= cap:
                oldest = self._entries[len(self._entries) - cap]
                raise RateLimited("requests", oldest.at + self.window - now, self.rpm, len(self._entries), 1)
            if self.tpm is not None and self.token_capacity is not None and self._tokens + tokens > self.token_capacity:
                raise RateLimited("tokens", self._token_wait(now, tokens), self.tpm, self._tokens, tokens)
            ticket = Ticket(at=now, tokens=tokens)
            self._entries.append(ticket)
            self._tokens += tokens
            return ticket

    def _token_wait(self, now: float, tokens: int) -> float:
        if self.token_capacity is None or tokens > self.token_capacity:
            return self.window
        need = self._tokens + tokens - self.token_capacity
        for entry in self._entries:
            need -= entry.tokens
            if need <= 0:
                return entry.at + self.window - now
        return self.window

    def headers(self) -> dict[str, str]:
        """``x-ratelimit-*`` headers describing the current window."""
        if not self.enabled:
            return {}
        with self._lock:
            now = self._clock()
            self._prune(now)
            reset = (self._entries[-1].at + self.window - now) if self._entries else 0.0
            out: dict[str, str] = {}
            per_minute = 60 / self.window  # headers speak per-minute units, like OpenAI's
            if self.rpm is not None and self.request_capacity is not None:
                remaining = max(0, self.request_capacity - len(self._entries))
                out["x-ratelimit-limit-requests"] = str(self.rpm)
                out["x-ratelimit-remaining-requests"] = str(min(self.rpm, int(remaining * per_minute)))
                out["x-ratelimit-reset-requests"] = format_duration(reset)
            if self.tpm is not None and self.token_capacity is not None:
                remaining = max(0, self.token_capacity - self._tokens)
                out["x-ratelimit-limit-tokens"] = str(self.tpm)
                out["x-ratelimit-remaining-tokens"] = str(min(self.tpm, int(remaining * per_minute)))
                out["x-ratelimit-reset-tokens"] = format_duration(reset)
            return out

    def reset(self) -> None:
        """Forget every admitted request."""
        with self._lock:
            self._entries.clear()
            self._tokens = 0
