"""Runs of job emails: the weekly schedule (each person's local morning), API runs with progress,
staff sends, and the sender of emails left queued."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db.models import F
from django.utils import timezone

from config.errors import DomainError
from emails import tracking
from emails.jobmail.services.generation import GenerationSummary, email_send_safely, emails_generate_batch
from emails.models import Email, EmailRun
from emails.suppressions import BadLink, preferences_token, unsubscribe_token, unsubscribe_token_read
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
    due_zones: set[str] = set()
    last_zones: set[str] = set()
    for time_zone in UserProfile.objects.order_by().values_list("time_zone", flat=True).distinct():
        local = now.astimezone(zone(time_zone))
        if local.weekday() == weekday and hour <= local.hour < hour + window:
            (last_zones if local.hour == hour + window - 1 else due_zones).add(time_zone)
    if not due_zones and not last_zones:
        return [], []
    rows = UserProfile.objects.filter(time_zone__in=due_zones | last_zones).order_by("id")
    due: list[int] = []
    last: list[int] = []
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


_LINK = re.compile(r"/e/(?:(o)/([\w\-:.]+?)\.gif|([cup])/([\w\-:.]+))")


def _retarget(content: str, *, email_id: int, user_id: int | None, address: str) -> str:
    """A test copy's links, signed anew: opens and clicks count on the copy, and its unsubscribe
    and preference links are the staff member's own (never the original recipient's)."""

    def swap(match: re.Match[str]) -> str:
        if match.group(1):
            return f"/e/o/{tracking.open_token(email_id=email_id)}.gif"
        kind, token = match.group(3), match.group(4)
        try:
            if kind == "c":
                hit = tracking.click_token_read(token)
                return f"/e/c/{tracking.click_token(email_id=email_id, job_id=hit.job_id or 0)}"
            if kind == "u":
                scope = unsubscribe_token_read(token).scope
                return f"/e/u/{unsubscribe_token(address=address, scope=scope)}"
        except (tracking.BadToken, BadLink):
            return match.group(0)
        return f"/e/p/{preferences_token(user_id=user_id or 0, address=address)}"

    return _LINK.sub(swap, content)


def email_test_send(*, email_id: int, user: Any) -> Email | None:
    """Staff's "send a test to me": a copy of an email (kind test, subject marked [TEST]) to the
    staff member's own address, its links re-signed for the copy, sent once. None when there is
    no such email or the staff member has no address."""
    original = Email.objects.filter(pk=email_id).first()
    address = (getattr(user, "email", "") or "").strip()
    if original is None or not address:
        return None
    user_id = getattr(user, "pk", None)
    copy = Email.objects.create(
        kind=Email.Kind.TEST,
        recipient_id=user_id,
        to_address=address,
        language=original.language,
        subject=f"[TEST] {original.subject}"[:255],
        status=Email.Status.DRAFT,
    )
    Email.objects.filter(pk=copy.pk).update(
        html=_retarget(original.html, email_id=copy.pk, user_id=user_id, address=address),
        text=_retarget(original.text, email_id=copy.pk, user_id=user_id, address=address),
        status=Email.Status.QUEUED,
    )
    email_send_safely(email_id=copy.pk)
    copy.refresh_from_db()
    return copy
