"""Celery tasks for matching: thin wrappers over services, ids as arguments, acks_late.

acks_late + idempotent services: a task redelivered after a worker died re-runs safely (scores
upsert, watermarks only move forward, digests are get-or-create). Digests are emailed by the
emails app's own task (`emails.digest_emails_send_due`), never from here.
"""

from __future__ import annotations

import logging
from dataclasses import asdict
from datetime import datetime
from typing import Any

from celery import shared_task
from django.conf import settings
from django.core.cache import cache

from profiles.matching.services import digests, scoring

logger = logging.getLogger("contentops.profiles")
SCORING_LOCK = "profiles:scoring-run"


def _summary(summary: object) -> dict[str, Any]:
    data = asdict(summary)  # type: ignore[call-overload]
    data.pop("llm_calls_per_person", None)
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in data.items()}


@shared_task(acks_late=True, name="profiles.job_scores_run_all")
def job_scores_run_all() -> dict[str, Any]:
    """Hourly: everyone's new jobs. A run still going when the next one starts makes it skip."""
    # cache.add is atomic (SET NX on Redis): one scoring run at a time across workers.
    if not cache.add(SCORING_LOCK, "1", timeout=settings.MATCH_RUN_LOCK_SECONDS):
        logger.info("scoring: the previous run is still going; skipping this one")
        return {"skipped": True}
    try:
        return _summary(scoring.job_scores_run())
    finally:
        cache.delete(SCORING_LOCK)


@shared_task(acks_late=True, name="profiles.job_scores_run_for_profile")
def job_scores_run_for_profile(profile_id: int) -> dict[str, Any]:
    """One person's new jobs now (e.g. enqueued with delay_on_commit after a resume is parsed)."""
    return _summary(scoring.job_scores_run(profile_ids=[profile_id]))


@shared_task(acks_late=True, name="profiles.digests_generate")
def digests_generate() -> dict[str, Any]:
    """Hourly: digests for people in their local morning without one today (emailed by the emails app)."""
    return asdict(digests.digests_generate())


@shared_task(acks_late=True, name="profiles.job_scores_cleanup")
def job_scores_cleanup() -> int:
    """Weekly: scores older than MATCH_SCORE_RETENTION_DAYS that nobody acted on."""
    return scoring.job_scores_cleanup()
