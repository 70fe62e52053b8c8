"""Signed tracking URLs for emails: an open pixel and click redirects, under SITE_URL only.

Tokens are `django.core.signing` dumps (HMAC with SECRET_KEY, a salt per kind, a timestamp) over
the Email's id (and the job's, for clicks), so they can't be forged or retargeted; the redirect
target is looked up server-side from the ids, never carried in the URL. Tokens minted before
Email rows existed carry a digest id instead ("d"); they keep working for the digest.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.urls import reverse

OPEN_SALT = "emails.tracking.open"
CLICK_SALT = "emails.tracking.click"


class BadToken(Exception):
    """A tracking token that is forged, altered, malformed or too old."""


@dataclass(frozen=True)
class Hit:
    """What a valid token points at: an Email (or, for an older token, a digest) and maybe a job."""

    email_id: int | None = None
    legacy_digest_id: int | None = None
    job_id: int | None = None


def _absolute(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def open_token(*, email_id: int) -> str:
    return signing.dumps({"e": email_id}, salt=OPEN_SALT)


def click_token(*, email_id: int, job_id: int) -> str:
    return signing.dumps({"e": email_id, "j": job_id}, salt=CLICK_SALT)


def open_url(*, email_id: int) -> str:
    return _absolute(reverse("emails:open", kwargs={"token": open_token(email_id=email_id)}))


def click_url(*, email_id: int, job_id: int) -> str:
    return _absolute(reverse("emails:click", kwargs={"token": click_token(email_id=email_id, job_id=job_id)}))


def _load(token: str, *, salt: str, keys: tuple[str, ...]) -> Hit:
    try:
        payload = signing.loads(token, salt=salt, max_age=timedelta(days=settings.EMAIL_TRACKING_MAX_AGE_DAYS))
    except signing.BadSignature as exc:  # SignatureExpired is a subclass
        raise BadToken(str(exc)) from exc
    if not isinstance(payload, dict):
        raise BadToken("unexpected payload")
    for target in ("e", "d"):  # "d": a digest id, in tokens minted before Email rows
        wanted = (target, *keys)
        if all(isinstance(payload.get(k), int) and not isinstance(payload.get(k), bool) for k in wanted):
            return Hit(
                email_id=payload["e"] if target == "e" else None,
                legacy_digest_id=payload["d"] if target == "d" else None,
                job_id=payload.get("j") if keys else None,
            )
    raise BadToken("unexpected payload")


def open_token_read(token: str) -> Hit:
    """The Email an open-pixel token points at; BadToken if it isn't one of ours."""
    return _load(token, salt=OPEN_SALT, keys=())


def click_token_read(token: str) -> Hit:
    """The Email and job a click token points at; BadToken if it isn't one of ours."""
    return _load(token, salt=CLICK_SALT, keys=("j",))
