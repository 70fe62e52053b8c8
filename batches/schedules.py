from config.periodic import PeriodicSpec

SCHEDULE = [
    PeriodicSpec(
        name="batches: poll due batches",
        task="batches.tasks.batch_poll_due",
        every_seconds=60,
        description="Poll provider batch jobs (at most once a minute each), ingest finished ones, send resubmissions.",
    ),
]
