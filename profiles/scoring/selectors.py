"""Reads of job scores."""

from __future__ import annotations

from django.db.models import QuerySet

from profiles.models import JobScore, UserProfile
from profiles.scoring_llm import SCORE_VERSION


def job_matches_for_profile(*, profile: UserProfile, limit: int = 10, min_score: float = 0.0) -> QuerySet[JobScore]:
    """A person's best current-version matches on active jobs, best first; one query with the jobs."""
    return (
        JobScore.objects.filter(
            profile=profile, score_version=SCORE_VERSION, compatibility_score__gte=min_score, job__active=True
        )
        .select_related("job")
        .order_by("-compatibility_score", "-scored_at", "-id")[:limit]
    )
