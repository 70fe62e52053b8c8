from config.periodic import PeriodicSpec

SCHEDULE = [
    PeriodicSpec(
        name="platform: clear expired sessions",
        task="config.tasks.clear_expired_sessions",
        crontab="17 3 * * *",
        description="Delete expired Django sessions daily.",
    ),
]
