"""Reads of job scores and daily digests (never writes)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import QuerySet

from config.errors import NotFoundError
from profiles.matching.llm.job_score import SCORE_VERSION
from profiles.models import DailyDigest, JobScore, UserProfile


def job_matches_for_profile(*, profile: UserProfile, limit: int = 10, min_score: float = 0.0) -> QuerySet[JobScore]:
    """A person's best current-version matches on active jobs, best first; one query with the jobs."""
    return (
        JobScore.objects.filter(
            profile=profile, score_version=SCORE_VERSION, compatibility_score__gte=min_score, job__active=True
        )
        .select_related("job")
        .order_by("-compatibility_score", "-scored_at", "-id")[:limit]
    )


def digests_for_user(
    *, user: AbstractBaseUser | AnonymousUser, profile: UserProfile | None = None
) -> QuerySet[DailyDigest]:
    """Digests a user may list: their own; staff everyone's (or one profile's). One query a page."""
    queryset = DailyDigest.objects.select_related("profile").order_by("-digest_date", "-id")
    if profile is not None:
        return queryset.filter(profile=profile)
    if getattr(user, "is_staff", False):
        return queryset
    return queryset.filter(profile__owner=user)


def digest_for_user(*, user: AbstractBaseUser | AnonymousUser, digest_id: int) -> DailyDigest:
    """One digest if the user may read it (own, or staff); otherwise a 404, as if it didn't exist."""
    digest = digests_for_user(user=user).filter(pk=digest_id).first()
    if digest is None:
        raise NotFoundError(f"No digest {digest_id}.", detail={"id": digest_id})
    return digest


def digests_unsent(
    *,
    created_after: datetime,
    digest_ids: Sequence[int] | None = None,
    profile_ids: Sequence[int] | None = None,
) -> QuerySet[DailyDigest]:
    """Digests written after `created_after` whose email hasn't gone out, oldest first, with their
    person and account (for the address and language)."""
    queryset = DailyDigest.objects.filter(email_sent=False, created_at__gt=created_after)
    if digest_ids is not None:
        queryset = queryset.filter(pk__in=list(digest_ids))
    if profile_ids is not None:
        queryset = queryset.filter(profile_id__in=list(profile_ids))
    return queryset.select_related("profile__owner").order_by("created_at", "id")


def digest_with_person(*, digest_id: int) -> DailyDigest | None:
    """One digest with its person and account, or None."""
    return DailyDigest.objects.select_related("profile__owner").filter(pk=digest_id).first()
