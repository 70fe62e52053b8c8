"""Celery autodiscovery loads `profiles.tasks`: the matching tasks register by being imported here."""

from profiles.matching.tasks import digests_generate, job_scores_cleanup, job_scores_run_all, job_scores_run_for_profile

__all__ = ["digests_generate", "job_scores_cleanup", "job_scores_run_all", "job_scores_run_for_profile"]
