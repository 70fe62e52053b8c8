"""Throttles for the endpoints worth guessing at or flooding: login, token and uploads (DRF's
rate throttles, counted in the default cache, which is Redis when REDIS_URL is set).

Rates come from settings.API_THROTTLE_RATES at request time, so an operator's environment and a
test's settings override both apply; a scope without a rate is not throttled.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from rest_framework import throttling
from rest_framework.request import Request


class ScopedRateThrottle(throttling.ScopedRateThrottle):
    """DRF's ScopedRateThrottle (views opt in with `throttle_scope`), its rates read per request."""

    def get_rate(self) -> str | None:
        if self.scope is None:
            return None
        return settings.API_THROTTLE_RATES.get(self.scope)


class AnonScopedRateThrottle(ScopedRateThrottle):
    """Counted per client address even when a user is signed in (login and token: guessing passwords)."""

    def get_cache_key(self, request: Request, view: object) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class _LoginThrottle(throttling.SimpleRateThrottle):
    """The `login` scope, per client address, for a view that isn't DRF's."""

    scope = "login"

    def get_rate(self) -> str | None:
        return settings.API_THROTTLE_RATES.get(self.scope)

    def get_cache_key(self, request: HttpRequest, view: object) -> str:
        # get_ident reads only request.META, which a plain Django request has too.
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}  # type: ignore[arg-type]


def login_throttled(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Wrap a (non-DRF) login view: POSTs beyond the `login` rate per address answer 429."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        if request.method == "POST":
            throttle = _LoginThrottle()
            # A plain Django request and no view: SimpleRateThrottle reads only request.META.
            if throttle.rate and not throttle.allow_request(request, None):  # type: ignore[arg-type]
                wait = throttle.wait()
                response = HttpResponse(
                    "Too many login attempts; try again later.\n", status=429, content_type="text/plain; charset=utf-8"
                )
                response["Retry-After"] = str(max(1, math.ceil(wait or 1)))
                return response
        return view(request, *args, **kwargs)

    return wrapper
