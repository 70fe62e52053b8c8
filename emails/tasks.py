"""Celery tasks for emails: thin wrappers over services, ids as arguments, acks_late.

A redelivered task re-runs safely: each digest has one Email row, claimed before it is sent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from celery import shared_task

from config.periodic import periodic_once
from emails import services
from emails.jobmail import services as jobmail_services


@shared_task(acks_late=True, name="emails.digest_emails_send_due")
def digest_emails_send_due(digest_ids: Sequence[int] | None = None) -> dict[str, Any]:
    """Every 10 minutes: email the digests written lately that haven't been emailed yet, to people
    in their local digest morning (given ids: those, now)."""
    return asdict(services.digest_emails_send_due(digest_ids=digest_ids, at_local_hour=digest_ids is None))


@shared_task(acks_late=True, name="emails.outreach_drafts_sync")
def outreach_drafts_sync() -> dict[str, Any]:
    """Hourly after the leads funnel: each lead's outreach draft as an outreach Email draft (never sent here)."""
    return asdict(services.outreach_drafts_sync())


@shared_task(acks_late=True, name="emails.email_run_execute")
def email_run_execute_task(run_id: int) -> dict[str, Any]:
    """A generate-batch run from the API; a redelivered message finds the run claimed and does nothing."""
    run = jobmail_services.email_run_execute(run_id=run_id)
    return {"run_id": run.pk, "status": run.status, "done": run.done, "total": run.total}


@shared_task(acks_late=True, name="emails.job_emails_send_due")
@periodic_once(period_s=3600)
def job_emails_send_due() -> dict[str, Any]:
    """Hourly: the weekly job email for people in their local send morning who have none this week."""
    return jobmail_services.job_emails_send_due().as_dict()


@shared_task(acks_late=True, name="emails.job_emails_send_queued")
def job_emails_send_queued() -> dict[str, Any]:
    """Every 10 minutes: send job emails left queued (a batch ingested, a failed send), at most once
    each, and mark API runs whose provider batch is fully ingested done."""
    return {"sent": jobmail_services.job_emails_send_queued(), "runs_done": jobmail_services.email_runs_settle()}
