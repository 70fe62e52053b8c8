"""Composing and sending emails, and turning tracking hits into records.

One Email row per message. Sending is at most once: the row is claimed with a conditional UPDATE
(queued/failed → sent) before the hand-off to the mail backend, and released (→ failed) when the
hand-off fails; a worker dying between the claim and the hand-off loses that email rather than
risking a duplicate. What an email is about hears of it through its own app's services (a digest:
profiles' `digest_*_record`), never the other way round.
"""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.models import AnonymousUser, User
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import F
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.html import linebreaks

from catalog.jobs.services import job_listing_click_record
from catalog.leads.selectors import leads_with_drafts
from catalog.leads.services import lead_mark_contacted
from catalog.models import JobListing, Lead
from config.errors import NotFoundError
from emails.models import Email, EmailClick
from emails.rendering import DIGEST_LABELS, RenderedEmail, digest_render, html_to_text
from emails.suppressions import list_unsubscribe_headers, send_blocked
from emails.tracking import BadToken, click_token_read, open_token_read
from profiles.matching.selectors import digest_with_person, digests_unsent
from profiles.matching.services.digests import (
    digest_click_record,
    digest_html_record,
    digest_open_record,
    digest_sent_record,
)
from profiles.models import DailyDigest

logger = logging.getLogger("contentops.emails")
SENDABLE = (Email.Status.QUEUED, Email.Status.FAILED)


def message_deliver(*, to: Sequence[str], email: RenderedEmail, headers: dict[str, str] | None = None) -> int:
    """One multipart/alternative message (text + HTML), UTF-8, through the configured backend."""
    message = EmailMultiAlternatives(
        subject=email.subject,
        body=email.text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=list(to),
        headers=headers or {},
    )
    message.encoding = "utf-8"  # never ISO-2022-JP: UTF-8 carries Japanese and everything else
    message.attach_alternative(email.html, "text/html")
    return message.send()


def _error_text(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:1000]


def email_send(*, email_id: int) -> bool:
    """Send one queued (or previously failed) Email at most once; True when this call sent it.

    False when it is already sent, being composed, suppressed or has no address. A refused
    recipient suppresses the email; any other SMTP/OS error marks it failed and is raised."""
    email = Email.objects.filter(pk=email_id).first()
    if email is None or not email.to_address:
        return False
    blocked = send_blocked(address=email.to_address, kind=email.kind)
    if blocked is not None:
        # Unsubscribed, bounced or complained: never sent, whatever queued it.
        Email.objects.filter(pk=email_id, status__in=SENDABLE).update(
            status=Email.Status.SUPPRESSED, error=f"Suppressed: {blocked.reason} ({blocked.scope})."
        )
        return False
    now = timezone.now()
    claimed = Email.objects.filter(pk=email_id, status__in=SENDABLE).update(
        status=Email.Status.SENT, sent_at=now, error=""
    )
    if not claimed:
        return False
    headers = {"X-ContentOps-Email": str(email.pk)}
    headers.update(list_unsubscribe_headers(address=email.to_address, kind=email.kind))
    if email.kind == Email.Kind.DIGEST and email.about_id is not None:
        headers["X-ContentOps-Digest"] = str(email.about_id)
    rendered = RenderedEmail(subject=email.subject, html=email.html, text=email.text or html_to_text(email.html))
    try:
        message_deliver(to=[email.to_address], email=rendered, headers=headers)
    except smtplib.SMTPRecipientsRefused as exc:
        Email.objects.filter(pk=email_id, status=Email.Status.SENT).update(
            status=Email.Status.SUPPRESSED, sent_at=None, error=_error_text(exc)
        )
        logger.warning("email %s: recipient refused; suppressed", email_id)
        return False
    except (smtplib.SMTPException, OSError) as exc:
        Email.objects.filter(pk=email_id, status=Email.Status.SENT).update(
            status=Email.Status.FAILED, sent_at=None, error=_error_text(exc)
        )
        raise
    _about_sent(email=email, sent_at=now)
    return True


def _about_sent(*, email: Email, sent_at: datetime) -> None:
    if email.kind == Email.Kind.DIGEST and email.about_id is not None:
        digest_sent_record(digest_id=email.about_id, sent_at=sent_at)


# --- daily digests ---------------------------------------------------------------------------


@dataclass
class DigestEmailRun:
    """What a pass over the unsent digests did."""

    considered: int = 0
    composed: int = 0
    sent: int = 0
    suppressed: int = 0
    failed: int = 0


def _digest_type() -> ContentType:
    return ContentType.objects.get_for_model(DailyDigest)


def email_digest_compose(*, digest: DailyDigest) -> Email:
    """The digest's Email, composed once: rendered (links signed over its id) and queued, or
    suppressed when the person has no address. Later calls return the same row."""
    about_type = _digest_type()
    existing = Email.objects.filter(kind=Email.Kind.DIGEST, about_type=about_type, about_id=digest.pk).first()
    if existing is not None:
        return existing
    profile = digest.profile
    to = profile.email or profile.owner.email
    language = profile.language if profile.language in DIGEST_LABELS else "en"
    with transaction.atomic():
        # A racing composer waits on the unique (kind, about) index and then gets this row, queued:
        # the row is a draft (never sent) until it is rendered, in this same transaction.
        email, created = Email.objects.get_or_create(
            kind=Email.Kind.DIGEST,
            about_type=about_type,
            about_id=digest.pk,
            defaults={"recipient_id": profile.owner_id, "to_address": to, "language": language},
        )
        if not created:
            return email
        rendered = digest_render(digest=digest, email_id=email.pk, language=language)
        email.subject, email.html, email.text = rendered.subject, rendered.html, rendered.text
        email.status = Email.Status.QUEUED if to else Email.Status.SUPPRESSED
        email.error = "" if to else "The person has no email address."
        email.save(update_fields=["subject", "html", "text", "status", "error"])
        digest_html_record(digest_id=digest.pk, html=rendered.html)
    return email


def digest_email_send(*, digest_id: int) -> bool:
    """Compose (once) and send (once) one digest's email; True when this call sent it."""
    digest = digest_with_person(digest_id=digest_id)
    if digest is None:
        return False
    return email_send(email_id=email_digest_compose(digest=digest).pk)


def digest_emails_send_due(
    *,
    now: datetime | None = None,
    digest_ids: Sequence[int] | None = None,
    profile_ids: Sequence[int] | None = None,
    at_local_hour: bool = False,
) -> DigestEmailRun:
    """Email every digest not yet emailed (written in the last DIGEST_EMAIL_MAX_AGE_HOURS): one
    Email row each, claimed before sending, so a re-run or a redelivered task never sends twice.
    One failure doesn't stop the others; a failed email is tried again on the next pass.
    `at_local_hour` (the schedule): only to people in their digest morning now (a digest written
    at another hour, on demand, waits for it)."""
    now = now or timezone.now()
    since = now - timedelta(hours=settings.DIGEST_EMAIL_MAX_AGE_HOURS)
    digests = list(
        digests_unsent(
            created_after=since,
            digest_ids=digest_ids,
            profile_ids=profile_ids,
            in_digest_hours_at=now if at_local_hour else None,
        )
    )
    run = DigestEmailRun(considered=len(digests))
    if not digests:
        return run
    emails = {
        email.about_id: email
        for email in Email.objects.filter(
            kind=Email.Kind.DIGEST, about_type=_digest_type(), about_id__in=[d.pk for d in digests]
        )
    }
    for digest in digests:
        email = emails.get(digest.pk)
        if email is None:
            email = email_digest_compose(digest=digest)
            run.composed += 1
        if email.status == Email.Status.SENT and email.sent_at is not None:
            # Sent, but the digest never heard (the sender died in between): tell it now.
            digest_sent_record(digest_id=digest.pk, sent_at=email.sent_at)
            continue
        if email.status == Email.Status.SUPPRESSED:
            run.suppressed += 1
            continue
        try:
            run.sent += email_send(email_id=email.pk)
        except (smtplib.SMTPException, OSError) as exc:
            run.failed += 1
            logger.warning("digest %s: email %s failed (%s); tried again next pass", digest.pk, email.pk, exc)
    return run


# --- tracking --------------------------------------------------------------------------------


def _safe_job_url(url: str) -> str | None:
    parts = urlsplit(url or "")
    return url if parts.scheme in ("http", "https") and parts.netloc else None


def job_redirect_url(*, job_id: int) -> str:
    """Where a job link sends the reader: the posting's own URL only when it is http(s);
    otherwise our own jobs page."""
    job_url = JobListing.objects.filter(pk=job_id).values_list("url", flat=True).first()
    return _safe_job_url(job_url or "") or (settings.SITE_URL.rstrip("/") + reverse("v1:jobs-list") + f"?id={job_id}")


def email_open_record(*, token: str) -> None:
    """The open pixel was fetched: count it on the Email (first time kept) and tell what it is
    about. BadToken / NotFoundError when the token isn't valid or its subject is gone."""
    hit = open_token_read(token)
    if hit.legacy_digest_id is not None:
        digest_open_record(digest_id=hit.legacy_digest_id)
        return
    now = timezone.now()
    with transaction.atomic():
        email = _email_hit(email_id=hit.email_id)
        Email.objects.filter(pk=email.pk).update(open_count=F("open_count") + 1, opened_at=Coalesce("opened_at", now))
        if email.kind == Email.Kind.DIGEST and email.about_id is not None:
            digest_open_record(digest_id=email.about_id)


def email_click_record(*, token: str) -> str:
    """A job link was clicked: count it on the Email (a click is an open too), tell what it is
    about, and return where to send the reader. BadToken / NotFoundError as for opens."""
    hit = click_token_read(token)
    if hit.job_id is None:
        raise BadToken("a click token without a job")
    if hit.legacy_digest_id is not None:
        digest_click_record(digest_id=hit.legacy_digest_id, job_id=hit.job_id)
        job_listing_click_record(job_id=hit.job_id)
        return job_redirect_url(job_id=hit.job_id)
    now = timezone.now()
    with transaction.atomic():
        email = _email_hit(email_id=hit.email_id)
        Email.objects.filter(pk=email.pk).update(
            click_count=F("click_count") + 1,
            clicked_at=Coalesce("clicked_at", now),
            opened_at=Coalesce("opened_at", now),
        )
        if email.kind == Email.Kind.DIGEST and email.about_id is not None:
            digest_click_record(digest_id=email.about_id, job_id=hit.job_id)
        # Who clicked which job when: the job emails' popular and you-might-like sections read it.
        EmailClick.objects.create(email_id=email.pk, recipient_id=email.recipient_id, job_id=hit.job_id)
        # And on the job itself (counts shown to staff; the all-time popular section reads them).
        job_listing_click_record(job_id=hit.job_id)
    return job_redirect_url(job_id=hit.job_id)


def _email_hit(*, email_id: int | None) -> Email:
    fields = ("id", "kind", "about_id", "recipient_id")
    email = Email.objects.filter(pk=email_id).only(*fields).first() if email_id else None
    if email is None:
        raise NotFoundError("No such email.")
    return email


# --- outreach drafts (sales leads) -----------------------------------------------------------


@dataclass
class OutreachRun:
    """What a pass over the leads with drafts did."""

    considered: int = 0
    composed: int = 0
    refreshed: int = 0
    without_address: int = 0


def _lead_type() -> ContentType:
    return ContentType.objects.get_for_model(Lead)


def _outreach_address(lead: Lead) -> str:
    """The posting's own contact address, only if it really appears in the posting (model output is
    untrusted: an address the model made up, or one a posting smuggled into an instruction, is not used)."""
    contact = lead.parsed.get("contact") if isinstance(lead.parsed, dict) else None
    if not isinstance(contact, dict) or contact.get("kind") != "email":
        return ""
    address = str(contact.get("value") or "").strip()
    try:
        validate_email(address)
    except ValidationError:
        return ""
    return address if address.lower() in lead.job.description.lower() else ""


def outreach_email_draft_sync(*, lead_id: int) -> Email | None:
    """The lead's outreach draft as an Email of kind outreach in status draft: created, or refreshed
    while it is still a draft (one per lead; an approved one is never changed). None without a draft."""
    with transaction.atomic():
        lead = Lead.objects.select_for_update().select_related("job").filter(pk=lead_id).first()
        if lead is None or not lead.draft_subject:
            return None
        values = {
            "to_address": _outreach_address(lead),
            "subject": lead.draft_subject[:255],
            "text": lead.draft_body,
            "html": f"<html><body>{linebreaks(lead.draft_body, autoescape=True)}</body></html>",
            "error": "" if _outreach_address(lead) else "No contact address found in the posting: add it by hand.",
        }
        email = Email.objects.filter(kind=Email.Kind.OUTREACH, about_type=_lead_type(), about_id=lead.pk).first()
        if email is None:
            return Email.objects.create(
                kind=Email.Kind.OUTREACH,
                status=Email.Status.DRAFT,
                language=lead.job.language or "en",
                about_type=_lead_type(),
                about_id=lead.pk,
                **values,
            )
        if email.status == Email.Status.DRAFT:
            Email.objects.filter(pk=email.pk, status=Email.Status.DRAFT).update(**values)
            email.refresh_from_db()
        return email


def outreach_drafts_sync(*, lead_ids: Sequence[int] | None = None) -> OutreachRun:
    """The funnel's emails-side step: every lead with a draft ready gets (or refreshes) its outreach
    Email draft. Nothing is sent: a person approves and sends each one from the admin."""
    leads = leads_with_drafts(lead_ids=lead_ids)
    run = OutreachRun(considered=len(leads))
    existing = set(
        Email.objects.filter(kind=Email.Kind.OUTREACH, about_type=_lead_type(), about_id__in=leads).values_list(
            "about_id", flat=True
        )
    )
    for lead_id in leads:
        email = outreach_email_draft_sync(lead_id=lead_id)
        if email is None:
            continue
        if lead_id in existing:
            run.refreshed += 1
        else:
            run.composed += 1
        run.without_address += int(not email.to_address)
    return run


def outreach_email_approve_send(*, email_id: int, user: User | AnonymousUser | None = None) -> bool:
    """A person approved an outreach draft: queue it, send it (at most once), and tell the lead it
    was contacted. False when it is not an outreach draft with an address, or was not sent."""
    queued = Email.objects.filter(
        pk=email_id, kind=Email.Kind.OUTREACH, status=Email.Status.DRAFT, about_id__isnull=False
    ).exclude(to_address="").update(status=Email.Status.QUEUED)
    if not queued:
        return False
    if not email_send(email_id=email_id):
        return False
    email = Email.objects.get(pk=email_id)
    if email.about_id is not None:  # always: only drafts about a lead were queued above
        lead_mark_contacted(lead_id=email.about_id, user=user, note=f"outreach email #{email.pk} sent")
    return True
