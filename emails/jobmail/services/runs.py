"""Runs of job emails: the weekly schedule (each person's local morning), API runs with progress,
staff sends, and the sender of emails left queued."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db.models import F
from django.utils import timezone

from config.errors import DomainError
from emails.jobmail.services.generation import GenerationSummary, email_send_safely, emails_generate_batch
from emails.models import Email, EmailRun
from profiles.matching.services.digests import zone
from profiles.models import UserProfile


def job_emails_due(*, now: datetime) -> tuple[list[int], list[int]]:
    """(profile ids in their send window but not its last hour, those in its last hour), by each
    distinct time zone: local weekday JOB_EMAIL_LOCAL_WEEKDAY, from JOB_EMAIL_LOCAL_HOUR for
    JOB_EMAIL_WINDOW_HOURS hours."""
    weekday, hour, window = (
        settings.JOB_EMAIL_LOCAL_WEEKDAY,
        settings.JOB_EMAIL_LOCAL_HOUR,
        settings.JOB_EMAIL_WINDOW_HOURS,
    )
    due_zones, last_zones = set(), set()
    for time_zone in UserProfile.objects.order_by().values_list("time_zone", flat=True).distinct():
        local = now.astimezone(zone(time_zone))
        if local.weekday() == weekday and hour <= local.hour < hour + window:
            (last_zones if local.hour == hour + window - 1 else due_zones).add(time_zone)
    if not due_zones and not last_zones:
        return [], []
    rows = UserProfile.objects.filter(time_zone__in=due_zones | last_zones).order_by("id")
    due, last = [], []
    for profile_id, time_zone in rows.values_list("id", "time_zone"):
        (last if time_zone in last_zones else due).append(profile_id)
    return due, last


def job_emails_send_due(*, now: datetime | None = None) -> GenerationSummary:
    """The weekly send: people in their local send morning without this week's job email get one,
    sent. A provider outage defers them to the next hour; in the window's last hour they get the
    rule-based email instead (a week without one would be worse). Unsubscribed people are skipped,
    and a second run in the same week sends nothing twice (the unique (recipient, week) row)."""
    now = now or timezone.now()
    due, last = job_emails_due(now=now)
    total = GenerationSummary()
    for profile_ids, defer in ((due, True), (last, False)):
        if profile_ids:
            total.add(
                emails_generate_batch(
                    profile_ids=profile_ids, send=True, now=now, defer_when_unavailable=defer, skip_suppressed=True
                )
            )
    return total


def job_email_send(*, email_id: int) -> bool:
    """Staff sends a generated job email: queued (from draft or failed) and sent at most once."""
    Email.objects.filter(
        pk=email_id, kind=Email.Kind.JOB_RECOMMENDATION, status__in=(Email.Status.DRAFT, Email.Status.FAILED)
    ).exclude(to_address="").update(status=Email.Status.QUEUED)
    return email_send_safely(email_id=email_id)


def job_emails_send_queued(*, limit: int = 1000) -> int:
    """Send job emails left queued (a provider batch ingested, a send that failed), each at most once."""
    queued = Email.objects.filter(kind=Email.Kind.JOB_RECOMMENDATION, status=Email.Status.QUEUED).order_by("id")
    return sum(int(email_send_safely(email_id=pk)) for pk in queued.values_list("pk", flat=True)[:limit])


def email_run_create(
    *,
    profile_ids: Sequence[int],
    language: str = "",
    mock: bool = False,
    send: bool = False,
    template_variables: dict[str, str] | None = None,
    mode: str = EmailRun.Mode.BULK,
    created_by: Any = None,
) -> EmailRun:
    """A generate-batch run (queued): whom it covers and with what options."""
    return EmailRun.objects.create(
        profile_ids=list(profile_ids),
        total=len(profile_ids),
        language=language,
        mock=mock,
        send=send,
        template_variables=dict(template_variables or {}),
        mode=mode,
        created_by=created_by if getattr(created_by, "pk", None) else None,
    )


def email_run_execute(*, run_id: int) -> EmailRun:
    """Carry a run out (its Celery task, or the request itself without a broker). A run claimed
    already (a redelivered message) does nothing."""
    claimed = EmailRun.objects.filter(pk=run_id, status=EmailRun.Status.QUEUED).update(
        status=EmailRun.Status.RUNNING, started_at=timezone.now()
    )
    run = EmailRun.objects.get(pk=run_id)
    if not claimed:
        return run
    try:
        emails_generate_batch(
            profile_ids=run.profile_ids,
            language=run.language or None,
            mock=run.mock,
            send=run.send,
            template_variables=run.template_variables,
            mode=run.mode,
            run_id=run.pk,
            regenerate=True,
            created_by=run.created_by,
        )
    except DomainError as exc:
        EmailRun.objects.filter(pk=run_id).update(
            status=EmailRun.Status.FAILED, error=str(exc)[:1000], finished_at=timezone.now()
        )
        raise
    run.refresh_from_db()
    waiting = run.status == EmailRun.Status.WAITING_FOR_BATCH and run.done + run.failed < run.total
    if not waiting:
        EmailRun.objects.filter(pk=run_id).update(status=EmailRun.Status.DONE, finished_at=timezone.now())
    run.refresh_from_db()
    return run


def email_runs_settle() -> int:
    """Runs waiting for a provider batch whose items are all in: done (the batches schedule ingests)."""
    waiting = EmailRun.objects.filter(status=EmailRun.Status.WAITING_FOR_BATCH, total__lte=F("done") + F("failed"))
    return waiting.update(status=EmailRun.Status.DONE, finished_at=timezone.now())
