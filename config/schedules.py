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
    PeriodicSpec(
        name="catalog: regenerate fallback product content hourly",
        task="catalog.product_fallbacks_regenerate",
        crontab="50 * * * *",
        description="Once the provider's breaker is closed, put the stored fallback locales into a batch "
        "(cheapest mode) within the day's LLM budget; products waiting in an open batch are left out.",
    ),
]
