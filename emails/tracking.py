"""Signed tracking URLs for emails: an open pixel and click redirects, under SITE_URL only.

Tokens are `django.core.signing` dumps (HMAC with SECRET_KEY, a salt per kind, a timestamp), so
they can't be forged or retargeted; the redirect target is looked up server-side from the ids,
never carried in the URL.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.urls import reverse

OPEN_SALT = "emails.tracking.open"
CLICK_SALT = "emails.tracking.click"


class BadToken(Exception):
    """A tracking token that is forged, altered, malformed or too old."""


def _max_age() -> timedelta:
    return timedelta(days=getattr(settings, "EMAIL_TRACKING_MAX_AGE_DAYS", 365))


def _absolute(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def open_token(*, digest_id: int) -> str:
    return signing.dumps({"d": digest_id}, salt=OPEN_SALT)


def click_token(*, digest_id: int, job_id: int) -> str:
    return signing.dumps({"d": digest_id, "j": job_id}, salt=CLICK_SALT)


def open_url(*, digest_id: int) -> str:
    return _absolute(reverse("emails:open", kwargs={"token": open_token(digest_id=digest_id)}))


def click_url(*, digest_id: int, job_id: int) -> str:
    return _absolute(reverse("emails:click", kwargs={"token": click_token(digest_id=digest_id, job_id=job_id)}))


def _load(token: str, *, salt: str, keys: tuple[str, ...]) -> dict[str, int]:
    try:
        payload = signing.loads(token, salt=salt, max_age=_max_age())
    except signing.BadSignature as exc:  # SignatureExpired is a subclass
        raise BadToken(str(exc)) from exc
    if not isinstance(payload, dict) or any(not isinstance(payload.get(k), int) for k in keys):
        raise BadToken("unexpected payload")
    return payload


def open_token_read(token: str) -> int:
    """The digest id in an open-pixel token; BadToken if it isn't one of ours."""
    return _load(token, salt=OPEN_SALT, keys=("d",))["d"]


def click_token_read(token: str) -> tuple[int, int]:
    """(digest id, job id) in a click token; BadToken if it isn't one of ours."""
    payload = _load(token, salt=CLICK_SALT, keys=("d", "j"))
    return payload["d"], payload["j"]
