"""Sending emails, and turning tracking hits into domain updates."""

from __future__ import annotations

from collections.abc import Sequence

from django.conf import settings
from django.core.mail import EmailMultiAlternatives

from emails.rendering import RenderedEmail
from emails.tracking import click_token_read, open_token_read


def email_send(*, to: Sequence[str], email: RenderedEmail, headers: dict[str, str] | None = None) -> int:
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


def tracking_open(*, token: str) -> None:
    """Record an open from a pixel token (BadToken / NotFoundError when it isn't valid)."""
    from profiles.digests import digest_mark_opened  # emails serve profiles' digests; no import cycle at load

    digest_mark_opened(digest_id=open_token_read(token))


def tracking_click(*, token: str) -> str:
    """Record a click from a redirect token; returns where to send the reader."""
    from profiles.digests import digest_record_click

    digest_id, job_id = click_token_read(token)
    return digest_record_click(digest_id=digest_id, job_id=job_id)
