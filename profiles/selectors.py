"""Reads for profiles and resumes (never writes); ownership is decided here, once, for every view."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import Count

from config.compiled import compiled_first
from config.errors import NotFoundError
from profiles.models import Resume, UserProfile

_ID_FIELDS = ("id", "user_id", "owner")


def _not_found(user_id: str) -> NotFoundError:
    return NotFoundError(f"No profile {user_id!r}.", detail={"user_id": user_id})


def profile_for_request(*, user: User | AnonymousUser, user_id: str, only_ids: bool = False) -> UserProfile:
    """The profile `user_id` if `user` may read it: staff any, others only their own.

    Someone else's (or a missing) profile is a 404, never a 403, so ids don't reveal who exists.
    (A person's own profile is created on first use by `services.profile_get_or_create_for_request`.)
    `only_ids`: for a caller that reads only its ids (id, user_id, owner_id), not its JSON columns and
    owner (any other field read later is one more query each); the same one query.
    """
    if isinstance(user, AnonymousUser) or not getattr(user, "is_authenticated", False):
        raise _not_found(user_id)
    profiles = UserProfile.objects.only(*_ID_FIELDS) if only_ids else UserProfile.objects.select_related("owner")
    if user.is_staff:
        profile = compiled_first(profiles.filter(user_id=user_id), key="profile")
        if profile is not None:
            return profile
    own = compiled_first(profiles.filter(owner=user), key="profile_own")
    if own is not None and own.user_id == user_id:
        return own
    raise _not_found(user_id)


def profile_page(*, skip: int = 0, limit: int = 100) -> tuple[int, list[UserProfile]]:
    """(total, one page of profiles in user_id order with owner and resume_count): two queries."""
    page = (
        UserProfile.objects.select_related("owner")
        .annotate(resume_count=Count("resumes"))
        .order_by("user_id")[skip : skip + limit]
    )
    return UserProfile.objects.count(), list(page)


def resume_by_content(*, profile: UserProfile, sha256: str) -> Resume | None:
    return Resume.objects.filter(profile=profile, sha256=sha256).first()
