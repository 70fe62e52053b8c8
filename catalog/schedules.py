"""Periodic tasks of the catalog app, synced into django-celery-beat by `setup_periodic_tasks`."""

from config.periodic import PeriodicSpec

SCHEDULE = [
    PeriodicSpec(
        name="catalog: refresh job feeds hourly",
        task="catalog.job_feeds_refresh",
        crontab="0 * * * *",
        description="Fetch every active job feed (conditional GET) and upsert new listings; scoring runs at :30.",
    ),
    PeriodicSpec(
        name="catalog: leads funnel hourly (daily caps)",
        task="catalog.leads_funnel_run",
        crontab="45 * * * *",
        description="Qualify new postings and analyze the qualified through the Batch API; the day's top "
        "LEADS_TOP_N leads get the conversational analysis and an outreach draft (drafts wait for a person).",
    ),
]
