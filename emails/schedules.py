"""Email schedules, in UTC: digests go out within ten minutes of being written (profiles writes
them hourly, for whoever is in their local morning); the weekly job emails go out hourly to whoever
is in their send morning (their own time zone)."""

from config.periodic import PeriodicSpec

SCHEDULE = [
    PeriodicSpec(
        name="emails: send due digest emails",
        task="emails.digest_emails_send_due",
        crontab="*/10 * * * *",
        description="Every 10 minutes: one Email per digest not yet emailed, claimed before sending (never twice).",
    ),
    PeriodicSpec(
        name="emails: outreach drafts from the leads funnel",
        task="emails.outreach_drafts_sync",
        crontab="55 * * * *",
        description="Hourly, after the leads funnel (:45): each lead's outreach draft becomes an outreach Email "
        "in status draft; a person approves and sends it from the admin.",
    ),
    PeriodicSpec(
        name="emails: weekly job emails",
        task="emails.job_emails_send_due",
        crontab="5 * * * *",
        description="Hourly at :05: the 6-section job email for people whose local time is their send morning "
        "(JOB_EMAIL_LOCAL_WEEKDAY, JOB_EMAIL_LOCAL_HOUR) and who have none this ISO week (a unique constraint).",
    ),
    PeriodicSpec(
        name="emails: send queued job emails",
        task="emails.job_emails_send_queued",
        crontab="*/10 * * * *",
        description="Every 10 minutes: job emails left queued (ingested from a provider batch, or a failed send); "
        "API runs whose provider batch is fully ingested are marked done.",
    ),
]
