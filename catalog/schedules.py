"""Periodic tasks of the catalog app, synced into django-celery-beat by `setup_periodic_tasks`."""

from config.periodic import PeriodicSpec

SCHEDULE = [
    PeriodicSpec(
        name="catalog: refresh job feeds hourly",
        task="catalog.job_feeds_refresh",
        crontab="0 * * * *",
        description="Fetch every active job feed (conditional GET) and upsert new listings; scoring runs at :30.",
    ),
]
