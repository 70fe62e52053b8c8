"""Email schedules, in UTC: digests go out within ten minutes of being written (profiles writes
them hourly, for whoever is in their local morning)."""

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
]
