"""Platform services: API keys (scoped, hashed, shown once, revoked for good)."""

import hashlib
import secrets
from collections.abc import Iterable
from datetime import timedelta
from typing import TYPE_CHECKING

from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from .models import APIKey

if TYPE_CHECKING:
    from django.contrib.auth.models import User

KEY_PREFIX = "co_"
# last_used_at is bookkeeping, not audit: one write a minute per key is plenty.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def api_key_hash(*, raw_key: str) -> str:
    """The stored digest of a raw key (keys are 256-bit random, so a fast hash is safe)."""
    return hashlib.sha256(raw_key.encode()).hexdigest()


DEFAULT_SCOPES = (APIKey.Scope.READ, APIKey.Scope.WRITE)


class APIKeyScopeError(ValueError):
    """Scopes that aren't read, write or staff, none at all, or staff for an owner who isn't staff."""


def api_key_scopes_normalize(*, scopes: Iterable[str], user: AbstractBaseUser) -> list[str]:
    """Known scopes in a fixed order; the staff scope only for a staff owner."""
    wanted = {str(scope).strip() for scope in scopes if str(scope).strip()}
    unknown = sorted(wanted - set(APIKey.Scope.values))
    if unknown or not wanted:
        raise APIKeyScopeError(
            f"Unknown or no scopes {unknown or ''}; choose one or more of {', '.join(APIKey.Scope.values)}."
        )
    if APIKey.Scope.STAFF in wanted and not getattr(user, "is_staff", False):
        raise APIKeyScopeError(f"The staff scope needs a staff owner; {user.get_username()!r} is not staff.")
    return [scope for scope in APIKey.Scope.values if scope in wanted]


def api_key_create(
    *, name: str, user: "User", scopes: Iterable[str] = DEFAULT_SCOPES
) -> tuple[APIKey, str]:
    """Create a key for `user` with `scopes`; returns the row and the raw key, which is never stored."""
    scopes = api_key_scopes_normalize(scopes=scopes, user=user)
    raw_key = KEY_PREFIX + secrets.token_urlsafe(32)
    api_key = APIKey.objects.create(
        name=name,
        user=user,
        scopes=scopes,
        prefix=raw_key[: len(KEY_PREFIX) + 6],
        key_hash=api_key_hash(raw_key=raw_key),
    )
    return api_key, raw_key


def api_key_revoke(*, api_key: APIKey) -> None:
    """Revoke a key for good (idempotent: a revoked key keeps its first revocation time)."""
    APIKey.objects.filter(pk=api_key.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    api_key.refresh_from_db(fields=["revoked_at"])


def api_key_authenticate(*, raw_key: str) -> APIKey | None:
    """The key row for a raw key, active or revoked, or None when unknown."""
    api_key = APIKey.objects.select_related("user").filter(key_hash=api_key_hash(raw_key=raw_key)).first()
    if api_key is not None and api_key.is_active:
        now = timezone.now()
        if api_key.last_used_at is None or now - api_key.last_used_at > LAST_USED_RESOLUTION:
            APIKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
    return api_key
