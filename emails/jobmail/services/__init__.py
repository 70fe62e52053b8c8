"""Job email services (seed 000's, in Django): generation (now, bulk, provider batch), the weekly
schedule and API runs, validation, metrics and caches. See the modules for the contracts."""

from emails.jobmail.services.generation import (
    EmailAlreadySent,
    GenerationSummary,
    email_generate,
    email_generation_admit,
    emails_generate_batch,
    iso_week,
    job_email_store,
)
from emails.jobmail.services.reports import (
    email_cache_clear,
    email_metrics,
    job_matches_for_person,
    job_matches_validate,
)
from emails.jobmail.services.runs import (
    email_run_create,
    email_run_execute,
    email_runs_settle,
    email_test_send,
    job_email_send,
    job_emails_due,
    job_emails_send_due,
    job_emails_send_queued,
)

__all__ = [
    "EmailAlreadySent",
    "GenerationSummary",
    "email_cache_clear",
    "email_generate",
    "email_generation_admit",
    "email_metrics",
    "email_run_create",
    "email_run_execute",
    "email_runs_settle",
    "email_test_send",
    "emails_generate_batch",
    "iso_week",
    "job_email_store",
    "job_email_send",
    "job_emails_due",
    "job_emails_send_due",
    "job_emails_send_queued",
    "job_matches_for_person",
    "job_matches_validate",
]
