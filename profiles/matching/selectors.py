"""Reads of job scores and daily digests (never writes)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.contrib.auth.models import AnonymousUser, User
from django.db.models import QuerySet

from config.compiled import compiled_first
from config.errors import NotFoundError
from profiles.matching.llm.job_score import SCORE_VERSION
from profiles.models import DailyDigest, JobScore, UserProfile


def zone(name: str) -> ZoneInfo:
    """The person's time zone; an unknown name falls back to UTC rather than breaking the run."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def in_digest_hours(*, time_zone: str, now: datetime) -> bool:
    """Whether `now` is the person's digest morning: DIGEST_LOCAL_HOUR in their zone, or the
    DIGEST_WINDOW_HOURS after it (a run missed at 07:00 — worker down, deploy — is caught up at 08:00)."""
    hour, window = settings.DIGEST_LOCAL_HOUR, settings.DIGEST_WINDOW_HOURS
    return hour <= now.astimezone(zone(time_zone)).hour < hour + window


def job_matches_for_profile(*, profile: UserProfile, limit: int = 10, min_score: float = 0.0) -> QuerySet[JobScore]:
    """A person's best current-version matches on active jobs, best first, without the ones they said
    don't interest them; one query with the jobs."""
    return (
        JobScore.objects.filter(
            profile=profile, score_version=SCORE_VERSION, compatibility_score__gte=min_score, job__active=True
        )
        .exclude(user_interested=False)
        .select_related("job")
        .order_by("-compatibility_score", "-scored_at", "-id")[:limit]
    )


def digests_for_user(*, user: User | AnonymousUser, profile: UserProfile | None = None) -> QuerySet[DailyDigest]:
    """Digests a user may list: their own; staff everyone's (or one profile's). One query a page."""
    queryset = DailyDigest.objects.select_related("profile").order_by("-digest_date", "-id")
    if profile is not None:
        return queryset.filter(profile=profile)
    if getattr(user, "is_staff", False):
        return queryset
    if isinstance(user, AnonymousUser):  # not reached: the views require sign-in
        return queryset.none()
    return queryset.filter(profile__owner=user)


_DIGEST_FIELDS = tuple(field.name for field in DailyDigest._meta.concrete_fields)
_DIGEST_PROFILE_FIELDS = ("profile__user_id", "profile__owner")


def digest_for_user(*, user: User | AnonymousUser, digest_id: int) -> DailyDigest:
    """One digest if the user may read it (own, or staff); otherwise a 404, as if it didn't exist.

    Of its person's profile only what the detail reads (user_id, owner), not its twenty-odd JSON columns."""
    readable = digests_for_user(user=user).filter(pk=digest_id).only(*_DIGEST_FIELDS, *_DIGEST_PROFILE_FIELDS)
    digest = compiled_first(readable, key="digest_for_user")
    if digest is None:
        raise NotFoundError(f"No digest {digest_id}.", detail={"id": digest_id})
    return digest


def digests_unsent(
    *,
    created_after: datetime,
    digest_ids: Sequence[int] | None = None,
    profile_ids: Sequence[int] | None = None,
    in_digest_hours_at: datetime | None = None,
) -> QuerySet[DailyDigest]:
    """Digests written after `created_after` whose email hasn't gone out, oldest first, with their
    person and account (for the address and language). With `in_digest_hours_at`, only those of
    people whose local time then is their digest morning (the zones are decided once each)."""
    queryset = DailyDigest.objects.filter(email_sent=False, created_at__gt=created_after)
    if in_digest_hours_at is not None:
        zones = queryset.order_by().values_list("profile__time_zone", flat=True).distinct()
        morning = [name for name in zones if in_digest_hours(time_zone=name, now=in_digest_hours_at)]
        queryset = queryset.filter(profile__time_zone__in=morning)
    if digest_ids is not None:
        queryset = queryset.filter(pk__in=list(digest_ids))
    if profile_ids is not None:
        queryset = queryset.filter(profile_id__in=list(profile_ids))
    return queryset.select_related("profile__owner").order_by("created_at", "id")


def digest_with_person(*, digest_id: int) -> DailyDigest | None:
    """One digest with its person and account, or None."""
    return DailyDigest.objects.select_related("profile__owner").filter(pk=digest_id).first()
