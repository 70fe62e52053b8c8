"""The matching LLM tasks: JOB_SCORE (job_score.py) and DIGEST (digest.py); they register on import."""

from profiles.matching.llm.digest import DIGEST, DigestInput, DigestJob, DigestOutput, TrendingSkill
from profiles.matching.llm.job_score import JOB_SCORE, SCORE_VERSION, JobScoreInput, JobScoreOutput

__all__ = [
    "DIGEST",
    "JOB_SCORE",
    "SCORE_VERSION",
    "DigestInput",
    "DigestJob",
    "DigestOutput",
    "JobScoreInput",
    "JobScoreOutput",
    "TrendingSkill",
]
