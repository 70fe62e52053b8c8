"""Celery tasks for matching: thin wrappers over services, ids as arguments, acks_late.

acks_late + idempotent services: a task redelivered after a worker died re-runs safely (scores
upsert, watermarks only move forward, digests are get-or-create, a sent email is claimed first).
"""

from __future__ import annotations

import logging
from dataclasses import asdict
from datetime import datetime
from typing import Any

from celery import shared_task
from django.core.cache import cache

from profiles.digests import digest_email_send, digests_generate
from profiles.scoring.services import job_scores_cleanup, job_scores_run, setting

logger = logging.getLogger("contentops.profiles")
SCORING_LOCK = "profiles:scoring-run"


def _summary(summary: object) -> dict[str, Any]:
    data = asdict(summary)  # type: ignore[call-overload]
    data.pop("llm_calls_per_person", None)
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in data.items()}


@shared_task(acks_late=True, name="profiles.tasks.score_jobs_for_all_users")
def score_jobs_for_all_users() -> dict[str, Any]:
    """Hourly: everyone's new jobs. A run still going when the next one starts makes it skip."""
    # cache.add is atomic (SET NX on Redis): one scoring run at a time across workers.
    if not cache.add(SCORING_LOCK, "1", timeout=setting("MATCH_RUN_LOCK_SECONDS", 55 * 60)):
        logger.info("scoring: the previous run is still going; skipping this one")
        return {"skipped": True}
    try:
        return _summary(job_scores_run())
    finally:
        cache.delete(SCORING_LOCK)


@shared_task(acks_late=True, name="profiles.tasks.score_jobs_for_profile")
def score_jobs_for_profile(profile_id: int) -> dict[str, Any]:
    """One person's new jobs now (e.g. enqueued with delay_on_commit after a resume is parsed)."""
    return _summary(job_scores_run(profile_ids=[profile_id]))


@shared_task(acks_late=True, name="profiles.tasks.generate_daily_digests")
def generate_daily_digests() -> dict[str, Any]:
    """Hourly: digests for people in their local morning without one today; one send task each."""
    summary = digests_generate()
    for digest_id in summary.digest_ids:
        send_digest_email.delay_on_commit(digest_id)
    return asdict(summary)


@shared_task(acks_late=True, name="profiles.tasks.send_digest_email")
def send_digest_email(digest_id: int) -> bool:
    return digest_email_send(digest_id=digest_id)


@shared_task(acks_late=True, name="profiles.tasks.cleanup_old_job_scores")
def cleanup_old_job_scores() -> int:
    """Weekly: scores older than MATCH_SCORE_RETENTION_DAYS that nobody acted on."""
    return job_scores_cleanup()
