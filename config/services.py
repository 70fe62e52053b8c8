"""Platform services: API keys."""

import hashlib
import secrets
from datetime import timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from .models import APIKey

KEY_PREFIX = "co_"
# last_used_at is bookkeeping, not audit: one write a minute per key is plenty.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def api_key_hash(*, raw_key: str) -> str:
    """The stored digest of a raw key (keys are 256-bit random, so a fast hash is safe)."""
    return hashlib.sha256(raw_key.encode()).hexdigest()


def api_key_create(*, name: str, user: AbstractBaseUser) -> tuple[APIKey, str]:
    """Create a key for `user`; returns the row and the raw key, which is never stored."""
    raw_key = KEY_PREFIX + secrets.token_urlsafe(32)
    api_key = APIKey.objects.create(
        name=name, user=user, prefix=raw_key[: len(KEY_PREFIX) + 6], key_hash=api_key_hash(raw_key=raw_key)
    )
    return api_key, raw_key


def api_key_revoke(*, api_key: APIKey) -> None:
    """Revoke a key for good (idempotent)."""
    APIKey.objects.filter(pk=api_key.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())


def api_key_authenticate(*, raw_key: str) -> APIKey | None:
    """The key row for a raw key, active or revoked, or None when unknown."""
    api_key = APIKey.objects.select_related("user").filter(key_hash=api_key_hash(raw_key=raw_key)).first()
    if api_key is not None and api_key.is_active:
        now = timezone.now()
        if api_key.last_used_at is None or now - api_key.last_used_at > LAST_USED_RESOLUTION:
            APIKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
    return api_key
