"""Demo step for the weekly job emails (called from emails/demo.py): this week's 6-section email for
each demo person, in their language (the demo has English and Japanese people), sent to the outbox
through the same service as the schedule. Offline the words and job lines are the rule-based ones,
flagged. Re-running in the same week sends nothing twice (one job email per person per week)."""

from __future__ import annotations

from config.demo import DemoReport
from emails.jobmail.services import emails_generate_batch
from emails.models import Email
from profiles.matching.demo import demo_profile_ids


def run(*, report: DemoReport) -> None:
    summary = emails_generate_batch(profile_ids=demo_profile_ids(), send=True)
    languages = dict.fromkeys(
        Email.objects.filter(pk__in=summary.email_ids).order_by("language").values_list("language", flat=True)
    )
    line = (
        f"job emails: {summary.generated} weekly 6-section email(s) ({', '.join(languages) or '-'}), "
        f"{summary.sent} sent; words from {summary.llm_calls} LLM call(s), {summary.fallbacks} rule-based; "
        f"{summary.line_calls} call(s) for shared job lines"
    )
    if summary.already:
        line += f"; {summary.already} already had this week's"
    if summary.suppressed:
        line += f"; {summary.suppressed} unsubscribed"
    report.done.append(line)
    report.look += [
        "job emails: GET http://127.0.0.1:8000/api/v1/emails/?kind=job_recommendation (as staff); "
        "the admin's Emails list shows the generation metrics",
    ]
