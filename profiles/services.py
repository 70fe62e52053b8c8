"""Writes for profiles and resumes."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser

from profiles.models import UserProfile


def profile_get_or_create(*, user: AbstractBaseUser) -> UserProfile:
    """The user's profile, created on first use with user_id = username (race-safe on the unique owner)."""
    profile, _ = UserProfile.objects.get_or_create(owner=user, defaults={"user_id": user.get_username()[:100]})
    return profile
