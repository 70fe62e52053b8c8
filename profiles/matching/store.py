"""Writing job scores: one upsert statement for many pairs; only scores at or above the threshold."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from functools import reduce
from operator import or_
from typing import TYPE_CHECKING

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

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
# Rule-based scores a later run sends to the model (profiles/matching/services/scoring.py): those
# the provider could not give (an outage, no provider then, the person's daily budget). The rules'
# own judgements ("prefilter_*") and answers the model got wrong (refusal, invalid, too long) are not.
RESEND_REASONS = frozenset(
    {
        "offline",
        "daily_budget",
        "circuit_open",
        "rate_budget",
        "rate_limit",
        "timeout",
        "connection",
        "server_error",
        "conflict",
        "insufficient_quota",
        "auth",
    }
)
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
    "fallback_reason",
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
    reason = pair.fallback_reason
    if reason not in labels and reason in RESEND_REASONS:
        reason = "circuit_open"  # a quota error, an outage...: to the person, the provider is failing
    return f"{text} ({labels.get(reason, labels[''])})"


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
        fallback_reason=(pair.fallback_reason or "failed")[:40] if pair.is_fallback else "",
    )


def _key(pair: ScoredPair) -> tuple[int, int, str]:
    return (pair.profile_id, pair.job_id, pair.score_version)


def _keys_q(pairs: Iterable[ScoredPair]) -> Q:
    return reduce(or_, (Q(profile_id=p.profile_id, job_id=p.job_id, score_version=p.score_version) for p in pairs))


def _existing(pairs: Collection[ScoredPair]) -> dict[tuple[int, int, str], tuple[int, bool]]:
    """The stored rows of these pairs: key → (pk, is_fallback). One query."""
    rows = JobScore.objects.filter(
        profile_id__in={p.profile_id for p in pairs},
        job_id__in={p.job_id for p in pairs},
        score_version__in={p.score_version for p in pairs},
    ).values_list("pk", "profile_id", "job_id", "score_version", "is_fallback")
    wanted = {_key(p) for p in pairs}
    return {
        (profile, job, version): (pk, fallback)
        for pk, profile, job, version, fallback in rows
        if (profile, job, version) in wanted
    }


def _fallback_update(*, pk: int, pair: ScoredPair) -> int:
    """Rewrite one stored row with the pair's score, only while it is still a fallback (one UPDATE)."""
    row = _row(pair)
    fields = {name: getattr(row, name) for name in UPDATE_FIELDS if name != "scored_at"}
    return JobScore.objects.filter(pk=pk, is_fallback=True).update(**fields, scored_at=timezone.now())


def _fallbacks_store(pairs: list[ScoredPair], *, new_only: bool) -> None:
    """Rule-based scores fill what is empty or already a fallback, never a model's score.

    New pairs are inserted (a model score written meanwhile wins the conflict); a stored fallback is
    rewritten with a conditional UPDATE (still a fallback), so there is no window to overwrite in.
    With `new_only` the pairs are only inserted (the caller expects none stored).
    """
    if new_only:
        JobScore.objects.bulk_create([_row(p) for p in pairs], ignore_conflicts=True)
        return
    existing = _existing(pairs)
    new = [p for p in pairs if _key(p) not in existing]
    if new:
        JobScore.objects.bulk_create([_row(p) for p in new], ignore_conflicts=True)
    for pair in pairs:
        found = existing.get(_key(pair))
        if found is not None and found[1]:
            _fallback_update(pk=found[0], pair=pair)


def _below_threshold_remove(drop: list[ScoredPair]) -> int:
    """Pairs re-scored below the threshold: delete what the person never acted on (a fallback only
    removes a fallback); a fallback the person acted on takes the model's score instead."""
    removed = 0
    model = [p for p in drop if not p.is_fallback]
    fallback = [p for p in drop if p.is_fallback]
    if model:
        removed += JobScore.objects.filter(_keys_q(model)).filter(untouched_by_user()).delete()[0]
        for key, (pk, is_fallback) in _existing(model).items():
            if is_fallback:  # kept because the person acted on it: the model's view, honestly low
                _fallback_update(pk=pk, pair=next(p for p in model if _key(p) == key))
    if fallback:
        removed += JobScore.objects.filter(_keys_q(fallback), is_fallback=True).filter(untouched_by_user()).delete()[0]
    return removed


def job_scores_store(*, pairs: list[ScoredPair], remove_below: bool = True) -> tuple[int, int]:
    """Upsert the pairs scoring ≥ MATCH_MIN_SCORE on (profile, job, version); remove re-scored pairs
    that fell below it (unless the person acted on them). Returns (stored, removed). Idempotent.

    A model score replaces whatever is stored; a rule-based (fallback) score only fills what is empty
    or already a fallback. `remove_below=False` (the caller knows the pairs are new) skips the removal
    and only inserts fallbacks.
    """
    threshold = min_score()
    keep = {_key(p): p for p in pairs if p.output.compatibility_score >= threshold}
    model = [p for p in keep.values() if not p.is_fallback]
    fallback = [p for p in keep.values() if p.is_fallback]
    drop = [p for p in pairs if p.output.compatibility_score < threshold]
    if model:
        # One INSERT ... ON CONFLICT DO UPDATE for the whole list (no per-row round trips).
        JobScore.objects.bulk_create(
            [_row(p) for p in model],
            update_conflicts=True,
            unique_fields=["profile", "job", "score_version"],
            update_fields=UPDATE_FIELDS,
        )
    if fallback:
        _fallbacks_store(fallback, new_only=not remove_below)
    removed = _below_threshold_remove(drop) if drop and remove_below else 0
    return len(keep), removed
