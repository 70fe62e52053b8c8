"""Who must not get which email: unsubscribes (one-click, RFC 8058), preferences, hard bounces and
spam complaints (django-anymail's tracking webhooks). Every send asks `send_blocked` first.

Links are signed (django.core.signing, a salt per purpose) over the address and the scope, so they
work without a login and can't be retargeted; they don't expire (an unsubscribe link in a year-old
email must still work). Rows are unique per (address, scope); writes are idempotent upserts.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.urls import reverse

from emails.models import Email, Suppression, SuppressionScope

logger = logging.getLogger("contentops.emails")

UNSUBSCRIBE_SALT = "emails.unsubscribe"
PREFERENCES_SALT = "emails.preferences"
# Kinds sent in bulk: they carry List-Unsubscribe and a scope of their own.
BULK_KINDS = (Email.Kind.DIGEST, Email.Kind.JOB_RECOMMENDATION)
# Keyed by the kind's value (Email.Kind members are str), so a plain kind string looks up too.
SCOPE_OF_KIND: dict[str, SuppressionScope] = {
    Email.Kind.DIGEST: Suppression.Scope.DIGEST,
    Email.Kind.JOB_RECOMMENDATION: Suppression.Scope.JOB_RECOMMENDATION,
}
# ESP events that mean "never again" (a soft bounce comes as `deferred` and is not one of them).
SUPPRESSING_EVENTS = {"bounced": Suppression.Reason.BOUNCED, "complained": Suppression.Reason.COMPLAINED}


class BadLink(Exception):
    """An unsubscribe or preference token that is forged, altered or malformed."""


@dataclass(frozen=True)
class UnsubscribeTarget:
    address: str
    scope: str


def normalize(address: str) -> str:
    return (address or "").strip().lower()


@lru_cache(maxsize=16)
def _prefix(site_url: str, name: str) -> str:
    """The absolute URL of route `name` up to its token (reversed once, not once per email)."""
    marker = "token"
    return (site_url.rstrip("/") + reverse(name, kwargs={"token": marker}))[: -len(marker)]


# Not compressed: zlib cannot shorten a payload this small (signing then keeps it as is anyway), and
# each attempt costs a deflate set-up per email. Compressed tokens already sent still read the same.
def unsubscribe_token(*, address: str, scope: str) -> str:
    return signing.dumps({"a": normalize(address), "s": scope}, salt=UNSUBSCRIBE_SALT)


def unsubscribe_url(*, address: str, scope: str) -> str:
    return _prefix(settings.SITE_URL, "emails:unsubscribe") + unsubscribe_token(address=address, scope=scope)


def unsubscribe_token_read(token: str) -> UnsubscribeTarget:
    try:
        payload = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except signing.BadSignature as exc:
        raise BadLink(str(exc)) from exc
    if not isinstance(payload, dict) or not isinstance(payload.get("a"), str):
        raise BadLink("unexpected payload")
    if payload.get("s") not in Suppression.Scope.values:
        raise BadLink("unexpected scope")
    if not payload["a"]:
        raise BadLink("no address")
    return UnsubscribeTarget(address=payload["a"], scope=payload["s"])


def preferences_token(*, user_id: int, address: str) -> str:
    return signing.dumps({"u": user_id, "a": normalize(address)}, salt=PREFERENCES_SALT)


def preferences_url(*, user_id: int, address: str) -> str:
    return _prefix(settings.SITE_URL, "emails:preferences") + preferences_token(user_id=user_id, address=address)


def preferences_token_read(token: str) -> tuple[int, str]:
    """(user id, address) of a preference link; BadLink when it isn't one of ours."""
    try:
        payload = signing.loads(token, salt=PREFERENCES_SALT)
    except signing.BadSignature as exc:
        raise BadLink(str(exc)) from exc
    if not isinstance(payload, dict) or not isinstance(payload.get("u"), int) or not isinstance(payload.get("a"), str):
        raise BadLink("unexpected payload")
    return payload["u"], payload["a"]


def suppression_add(*, address: str, scope: str, reason: str, source: str = "") -> Suppression:
    """Record (once) that `address` gets no email of `scope`; a later, stronger reason (a bounce
    after an unsubscribe) replaces the reason. Safe under concurrent calls."""
    address = normalize(address)
    try:
        with transaction.atomic():
            suppression, created = Suppression.objects.get_or_create(
                address=address, scope=scope, defaults={"reason": reason, "source": source[:200]}
            )
    except IntegrityError:  # a racing insert won; it's there now
        suppression, created = Suppression.objects.get(address=address, scope=scope), False
    if not created and reason != Suppression.Reason.UNSUBSCRIBED and suppression.reason != reason:
        Suppression.objects.filter(pk=suppression.pk).update(reason=reason, source=source[:200])
        suppression.reason = reason
    return suppression


def suppression_remove(*, address: str, scope: str) -> bool:
    """Undo an unsubscribe (the preference page). Bounces and complaints stay: only staff lift those."""
    deleted, _ = Suppression.objects.filter(
        address=normalize(address), scope=scope, reason=Suppression.Reason.UNSUBSCRIBED
    ).delete()
    return bool(deleted)


def scopes_for_kind(kind: str) -> list[str]:
    scopes = [Suppression.Scope.ALL.value]
    if kind in SCOPE_OF_KIND:
        scopes.append(SCOPE_OF_KIND[kind].value)
    return scopes


def send_blocked(*, address: str, kind: str) -> Suppression | None:
    """The suppression that forbids sending an email of `kind` to `address`, or None."""
    if kind == Email.Kind.TEST:
        # A staff test goes to the staff member; only a bounce/complaint on that address stops it.
        return Suppression.objects.filter(address=normalize(address), scope=Suppression.Scope.ALL).first()
    return Suppression.objects.filter(address=normalize(address), scope__in=scopes_for_kind(kind)).first()


def suppressed_among(*, addresses: Iterable[str], kind: str) -> set[str]:
    """The (normalized) addresses among `addresses` that must not get `kind` (one query)."""
    wanted = {normalize(a) for a in addresses if a}
    if not wanted:
        return set()
    return set(
        Suppression.objects.filter(address__in=wanted, scope__in=scopes_for_kind(kind)).values_list(
            "address", flat=True
        )
    )


def list_unsubscribe_headers(*, address: str, kind: str) -> dict[str, str]:
    """RFC 2369 + RFC 8058 headers for a bulk email: a one-click HTTPS unsubscribe (POST) for its scope."""
    if kind not in SCOPE_OF_KIND or not address:
        return {}
    url = unsubscribe_url(address=address, scope=SCOPE_OF_KIND[kind])
    return {"List-Unsubscribe": f"<{url}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}


def preferences_get(*, address: str) -> dict[str, bool]:
    """Which bulk kinds an address receives (True: subscribed), and whether everything is blocked."""
    scopes = set(Suppression.objects.filter(address=normalize(address)).values_list("scope", flat=True))
    blocked = Suppression.Scope.ALL in scopes
    return {
        "digest": not blocked and Suppression.Scope.DIGEST not in scopes,
        "job_recommendation": not blocked and Suppression.Scope.JOB_RECOMMENDATION not in scopes,
        "blocked": blocked,
    }


def preferences_update(*, address: str, digest: bool, job_recommendation: bool, source: str = "preferences") -> dict:
    """Subscribe or unsubscribe each bulk kind for an address; returns the new preferences."""
    choices = ((Suppression.Scope.DIGEST, digest), (Suppression.Scope.JOB_RECOMMENDATION, job_recommendation))
    for scope, wanted in choices:
        if wanted:
            suppression_remove(address=address, scope=scope)
        else:
            suppression_add(address=address, scope=scope, reason=Suppression.Reason.UNSUBSCRIBED, source=source)
    return preferences_get(address=address)


def anymail_tracking_record(sender: Any = None, event: Any = None, esp_name: str = "", **kwargs: Any) -> None:
    """django-anymail `tracking` signal receiver: a hard bounce or a complaint suppresses the
    address for everything; an ESP-side unsubscribe (list-unsubscribe handled by the ESP) too."""
    event_type = getattr(event, "event_type", "")
    address = normalize(getattr(event, "recipient", "") or "")
    if not address:
        return
    if event_type in SUPPRESSING_EVENTS:
        reason = SUPPRESSING_EVENTS[event_type]
    elif event_type == "unsubscribed":
        reason = Suppression.Reason.UNSUBSCRIBED
    else:
        return
    suppression_add(address=address, scope=Suppression.Scope.ALL, reason=reason, source=f"{esp_name} {event_type}")
    logger.info("suppressed %s after an ESP %s event", address, event_type)
