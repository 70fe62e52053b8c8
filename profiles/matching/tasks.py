"""Celery tasks for matching: thin wrappers over services, ids as arguments, acks_late.

acks_late + idempotent services: a task redelivered after a worker died re-runs safely (scores
upsert, watermarks only move forward, digests are get-or-create). The scheduled tasks are also
idempotent per period (`periodic_once`: a duplicate send by a second beat does nothing). Digests
are emailed by the emails app's own task (`emails.digest_emails_send_due`), never from here.
"""

from __future__ import annotations

import logging
from dataclasses import asdict
from datetime import datetime
from typing import Any

from celery import shared_task
from django.conf import settings

from config.leases import LeaseBusyError, lease_hold
from config.periodic import periodic_once
from profiles.matching.services import digests, scoring

logger = logging.getLogger("contentops.profiles")
SCORING_LEASE = "profiles:scoring-run"
HOUR_S = 3600
WEEK_S = 7 * 24 * 3600


def _summary(summary: object) -> dict[str, Any]:
    data = asdict(summary)  # type: ignore[call-overload]
    data.pop("llm_calls_per_person", None)
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in data.items()}


def job_scores_run_leased() -> dict[str, Any]:
    """Everyone's new jobs under the scoring lease; {"skipped": True} while another run holds it.

    The lease (MATCH_RUN_LEASE_S) is renewed as the run progresses and released in `finally`: a
    run that dies blocks the next one for minutes, not an hour.
    """
    try:
        with lease_hold(name=SCORING_LEASE, ttl_s=float(settings.MATCH_RUN_LEASE_S)) as held:
            return _summary(scoring.job_scores_run(defer_when_unavailable=True, keep_going=held.keep))
    except LeaseBusyError:
        logger.info("scoring: another run holds the lease; skipping this one")
        return {"skipped": True}


@shared_task(acks_late=True, name="profiles.job_scores_run_all")
@periodic_once(period_s=HOUR_S, name="profiles.job_scores_run_all")
def job_scores_run_all() -> dict[str, Any]:
    """Hourly: everyone's new jobs, and stored fallbacks re-sent once the provider is healthy."""
    return job_scores_run_leased()


@shared_task(acks_late=True, name="profiles.job_scores_run_for_profile")
def job_scores_run_for_profile(profile_id: int) -> dict[str, Any]:
    """One person's new jobs now (e.g. enqueued with delay_on_commit after a resume is parsed).

    Background work: a pair the provider cannot serve waits for a later run rather than fall back.
    """
    return _summary(scoring.job_scores_run(profile_ids=[profile_id], defer_when_unavailable=True))


@shared_task(acks_late=True, name="profiles.digests_generate")
@periodic_once(period_s=HOUR_S, name="profiles.digests_generate")
def digests_generate() -> dict[str, Any]:
    """Hourly: digests for people in their local morning without one today (emailed by the emails app)."""
    return asdict(digests.digests_generate())


@shared_task(acks_late=True, name="profiles.job_scores_cleanup")
@periodic_once(period_s=WEEK_S, name="profiles.job_scores_cleanup")
def job_scores_cleanup() -> int:
    """Weekly: scores older than MATCH_SCORE_RETENTION_DAYS that nobody acted on."""
    return scoring.job_scores_cleanup()
