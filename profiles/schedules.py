"""Matching schedules (seed 004), in UTC crontabs: feeds refresh at minute 0 (catalog), scoring at
minute 30 (offset so new postings are in), digests hourly at minute 0 for whoever is in their
local morning (DIGEST_LOCAL_HOUR, each person's time zone), score cleanup weekly. The digests'
emails go out on the emails app's own schedule (emails/schedules.py)."""

from config.periodic import PeriodicSpec

SCHEDULE = [
    PeriodicSpec(
        name="profiles: score new jobs",
        task="profiles.job_scores_run_all",
        crontab="30 * * * *",
        description="Hourly, 30 minutes after the feed refresh: prefilter new jobs, top K to the model.",
    ),
    PeriodicSpec(
        name="profiles: daily digests",
        task="profiles.digests_generate",
        crontab="0 * * * *",
        description="Hourly: digests for people whose local time is their morning and who have none today.",
    ),
    PeriodicSpec(
        name="profiles: clean up old job scores",
        task="profiles.job_scores_cleanup",
        crontab="15 4 * * 0",
        description="Weekly (Sunday 04:15 UTC): delete untouched scores older than MATCH_SCORE_RETENTION_DAYS.",
    ),
]
