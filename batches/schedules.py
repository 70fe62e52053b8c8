from config.periodic import PeriodicSpec

SCHEDULE = [
    PeriodicSpec(
        name="batches: poll due batches",
        task="batches.batch_poll_due",
        every_seconds=60,
        description="Poll provider batch jobs (at most once a minute each), ingest finished ones, send resubmissions.",
    ),
    PeriodicSpec(
        name="batches: reconcile stuck batches",
        task="batches.batches_reconcile",
        every_seconds=5 * 60,
        description=(
            "Put batches left without a live owner back in line: built but never submitted, submissions "
            "interrupted, parts without a provider job, finished but never ingested, dead workers' leases."
        ),
    ),
]
