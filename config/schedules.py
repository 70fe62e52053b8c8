from config.periodic import PeriodicSpec

SCHEDULE = [
    PeriodicSpec(
        name="platform: clear expired sessions",
        task="config.sessions_clear_expired",
        crontab="17 3 * * *",
        description="Delete expired Django sessions daily.",
    ),
    PeriodicSpec(
        name="platform: prune periodic run records",
        task="config.periodic_runs_prune",
        crontab="23 3 * * *",
        description="Forget which periods each periodic task ran in, past PERIODIC_RUN_RETENTION_DAYS.",
    ),
]
