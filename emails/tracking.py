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
from functools import lru_cache

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
        # The key django.utils.crypto.salted_hmac derives for Signer.signature, derived once.
        self._algorithm = signer.algorithm
        key_salt = force_bytes(signer.salt) + b"signer"
        self._key = getattr(hashlib, signer.algorithm)(key_salt + force_bytes(signer.key)).digest()

    def token(self, *, job_id: int) -> str:
        # json.dumps(..., separators=(",", ":")) of two ints, as signing's JSONSerializer writes it.
        payload = f'{{"e":{self._email_id},"j":{int(job_id)}}}'.encode("latin-1")
        value = base64.urlsafe_b64encode(payload).rstrip(b"=").decode() + self._stamp
        mac = hmac.digest(self._key, value.encode(), self._algorithm)
        return f"{value}{self._sep}{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"


_MARKER = "tokenmarker0"


@lru_cache(maxsize=16)
def _around(site_url: str, name: str) -> tuple[str, str]:
    """The absolute URL of route `name` before and after its token (reversed once, not per email;
    tokens are URL-safe base64 and ":", which reverse() would leave as they are)."""
    before, after = (site_url.rstrip("/") + reverse(name, kwargs={"token": _MARKER})).split(_MARKER)
    return before, after


def open_url(*, email_id: int) -> str:
    before, after = _around(settings.SITE_URL, "emails:open")
    return before + open_token(email_id=email_id) + after


def click_url(*, email_id: int, job_id: int) -> str:
    before, after = _around(settings.SITE_URL, "emails:click")
    return before + click_token(email_id=email_id, job_id=job_id) + after


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
