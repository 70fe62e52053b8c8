"""Demo step for emails (after profiles'): email the demo people's new digests to the outbox,
through the same service as the schedule, then their weekly job emails (ja and en). Re-running
sends nothing twice.
"""

from __future__ import annotations

from django.conf import settings

from config.demo import DemoReport
from emails.jobmail import demo as job_emails_demo
from emails.services import digest_emails_send_due, outreach_drafts_sync
from profiles.matching.demo import demo_profile_ids


def run(*, report: DemoReport) -> None:
    sent = digest_emails_send_due(profile_ids=demo_profile_ids())
    file_based = settings.EMAIL_BACKEND == "django.core.mail.backends.filebased.EmailBackend"
    where = settings.EMAIL_FILE_PATH if file_based else settings.EMAIL_BACKEND
    line = f"emails: {sent.sent} digest email(s) sent to {where}"
    if sent.suppressed:
        line += f"; {sent.suppressed} without an address not sent"
    if sent.failed:
        line += f"; {sent.failed} failed (tried again by the schedule)"
    outreach = outreach_drafts_sync()
    report.done.append(
        f"emails: {outreach.composed} outreach draft(s) from the leads funnel, waiting for a person "
        "(admin → Emails → Approve and send)"
    )
    report.done.append(line)
    job_emails_demo.run(report=report)
    report.look += [
        "emails: http://127.0.0.1:8000/admin/emails/email/ (status, opens, clicks; the HTML in a sandboxed frame)",
    ]
