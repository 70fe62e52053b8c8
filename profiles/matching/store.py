"""Writing job scores: one upsert statement for many pairs; only scores at or above the threshold."""

from __future__ import annotations

from dataclasses import dataclass
from functools import reduce
from operator import or_
from typing import TYPE_CHECKING

from django.conf import settings
from django.db.models import Q

from profiles.models import JobScore

if TYPE_CHECKING:
    from profiles.matching.llm.job_score import JobScoreOutput

# Why a stored score is rule-based, in the person's language (appended to the reasoning).
FALLBACK_REASONS = {
    "en": {
        "offline": "no AI provider is configured",
        "circuit_open": "the AI provider is failing right now",
        "daily_budget": "today's AI budget for you is used up",
        "prefilter_confident": "a clear match by the rules, so no AI review was needed",
        "prefilter_weak": "a weak match by the rules, so no AI review was needed",
        "": "the AI review failed",
    },
    "ja": {
        "offline": "AIプロバイダー未設定",
        "circuit_open": "AIプロバイダーが一時的に利用できません",
        "daily_budget": "本日のAI評価の上限に達しました",
        "prefilter_confident": "ルールで明らかに合う求人のためAI評価は省略しました",
        "prefilter_weak": "ルールで合う度合いが低い求人のためAI評価は省略しました",
        "": "AIによる評価に失敗しました",
    },
}
UPDATE_FIELDS = [
    "compatibility_score",
    "confidence_score",
    "ai_reasoning",
    "match_factors",
    "mismatch_factors",
    "skills_match_score",
    "location_match_score",
    "experience_match_score",
    "salary_match_score",
    "culture_match_score",
    "is_fallback",
    "scored_at",
]


def min_score() -> float:
    return float(settings.MATCH_MIN_SCORE)


def untouched_by_user() -> Q:
    """Scores the person hasn't acted on: only those may be replaced or cleaned up."""
    return Q(user_interested__isnull=True, user_applied=False, user_feedback="")


@dataclass(frozen=True)
class ScoredPair:
    profile_id: int
    job_id: int
    score_version: str
    language: str
    output: JobScoreOutput
    is_fallback: bool
    fallback_reason: str = ""


def _reasoning(pair: ScoredPair) -> str:
    text = " ".join(pair.output.reasoning.split())[:1000]
    if not pair.is_fallback:
        return text
    labels = FALLBACK_REASONS.get(pair.language, FALLBACK_REASONS["en"])
    return f"{text} ({labels.get(pair.fallback_reason, labels[''])})"


def _row(pair: ScoredPair) -> JobScore:
    out = pair.output
    return JobScore(
        profile_id=pair.profile_id,
        job_id=pair.job_id,
        score_version=pair.score_version,
        compatibility_score=float(out.compatibility_score),
        confidence_score=float(out.confidence_score),
        ai_reasoning=_reasoning(pair),
        match_factors=[" ".join(f.split())[:200] for f in out.match_factors[:5]],
        mismatch_factors=[" ".join(f.split())[:200] for f in out.mismatch_factors[:5]],
        skills_match_score=float(out.skills_match_score),
        location_match_score=float(out.location_match_score),
        experience_match_score=float(out.experience_match_score),
        salary_match_score=float(out.salary_match_score),
        culture_match_score=float(out.culture_match_score),
        is_fallback=pair.is_fallback,
    )


def job_scores_store(*, pairs: list[ScoredPair], remove_below: bool = True) -> tuple[int, int]:
    """Upsert the pairs scoring ≥ MATCH_MIN_SCORE on (profile, job, version); remove re-scored pairs
    that fell below it (unless the person acted on them). Returns (stored, removed). Idempotent.

    `remove_below=False` skips the removal query when the caller knows the pairs are new.
    """
    threshold = min_score()
    keep = {(p.profile_id, p.job_id, p.score_version): p for p in pairs if p.output.compatibility_score >= threshold}
    drop = [p for p in pairs if p.output.compatibility_score < threshold]
    if keep:
        # One INSERT ... ON CONFLICT DO UPDATE for the whole list (no per-row round trips).
        JobScore.objects.bulk_create(
            [_row(p) for p in keep.values()],
            update_conflicts=True,
            unique_fields=["profile", "job", "score_version"],
            update_fields=UPDATE_FIELDS,
        )
    removed = 0
    if drop and remove_below:
        match = reduce(or_, (Q(profile_id=p.profile_id, job_id=p.job_id, score_version=p.score_version) for p in drop))
        removed, _ = JobScore.objects.filter(match).filter(untouched_by_user()).delete()
    return len(keep), removed
