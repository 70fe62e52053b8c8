"""Signed tracking URLs for emails: an open pixel and click redirects, under SITE_URL only.

Tokens are `django.core.signing` dumps (HMAC with SECRET_KEY, a salt per kind, a timestamp) over
the Email's id (and the job's, for clicks), so they can't be forged or retargeted; the redirect
target is looked up server-side from the ids, never carried in the URL. Tokens minted before
Email rows existed carry a digest id instead ("d"); they keep working for the digest.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils.encoding import force_bytes

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


class ClickTokens:
    """The click tokens of one email's links: the very tokens `click_token` makes (a TimestampSigner
    over the same compact JSON, read back by `click_token_read`), with the HMAC key derived and the
    timestamp taken once per email instead of once per link (a weekly email has ~40 links)."""

    def __init__(self, *, email_id: int) -> None:
        signer = signing.TimestampSigner(salt=CLICK_SALT)
        self._email_id = int(email_id)
        self._sep = signer.sep
        self._stamp = signer.sep + signer.timestamp()
        # As django.utils.crypto.salted_hmac derives it for Signer.signature.
        hasher = getattr(hashlib, signer.algorithm)
        key = hasher(force_bytes(signer.salt + "signer") + force_bytes(signer.key)).digest()
        self._mac = hmac.new(key, digestmod=hasher)

    def token(self, *, job_id: int) -> str:
        # json.dumps(..., separators=(",", ":")) of two ints, as signing's JSONSerializer writes it.
        payload = f'{{"e":{self._email_id},"j":{int(job_id)}}}'.encode("latin-1")
        value = base64.urlsafe_b64encode(payload).rstrip(b"=").decode() + self._stamp
        mac = self._mac.copy()
        mac.update(value.encode())
        return f"{value}{self._sep}{base64.urlsafe_b64encode(mac.digest()).rstrip(b'=').decode()}"


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
