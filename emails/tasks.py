"""Celery tasks for emails: thin wrappers over services, ids as arguments, acks_late.

A redelivered task re-runs safely: each digest has one Email row, claimed before it is sent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from celery import shared_task

from emails import services


@shared_task(acks_late=True, name="emails.digest_emails_send_due")
def digest_emails_send_due(digest_ids: Sequence[int] | None = None) -> dict[str, Any]:
    """Every 10 minutes: email the digests written lately that haven't been emailed yet."""
    return asdict(services.digest_emails_send_due(digest_ids=digest_ids))


@shared_task(acks_late=True, name="emails.outreach_drafts_sync")
def outreach_drafts_sync() -> dict[str, Any]:
    """Hourly after the leads funnel: each lead's outreach draft as an outreach Email draft (never sent here)."""
    return asdict(services.outreach_drafts_sync())
