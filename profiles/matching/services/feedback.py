"""Feedback on matches closes the loop: a person says a job interests them, that they applied, or
that it doesn't interest them (with a reason and a comment).

What it changes next:
- "applied" counts once on the job (`application_count`, an F() update) and marks interest;
- "not interested" removes the job from their matches, digests and every later scoring run;
- the reasons given with "not interested" (skills, location, salary, experience) move that
  person's prefilter weights: each reason on a factor raises it by WEIGHT_STEP of its standard
  weight, at most to WEIGHT_MAX_FACTOR × standard, and the four are renormalised to sum to 1 —
  so every weight stays within [standard ÷ 2, standard × 2]. The profile keeps the weights and a
  sentence per moved factor saying why (in the person's language).
Weights are recomputed from all of the person's feedback each time (not incremented), so repeating
a request or changing one's mind never drifts them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal, get_args

from django.db import transaction
from django.db.models import Case, Count, IntegerField, Value, When
from django.utils import timezone

from catalog.jobs.services import job_listing_application_record
from config.errors import NotFoundError
from config.text import text_clean
from profiles.matching.llm.job_score import SCORE_VERSION
from profiles.matching.prefilter import WEIGHTS
from profiles.models import JobScore, UserProfile

Action = Literal["interested", "applied", "not_interested"]
ACTIONS: tuple[str, ...] = get_args(Action)
REASONS: tuple[str, ...] = tuple(JobScore.FeedbackReason.values)
WEIGHT_STEP = 0.15
WEIGHT_MAX_FACTOR = 2.0
COMMENT_MAX = 1000
FACTOR_NAMES = {
    "en": {"skills": "skills", "location": "location", "salary": "salary", "experience": "experience"},
    "ja": {"skills": "スキル", "location": "勤務地", "salary": "給与", "experience": "経験"},
}


def match_weights_from_reasons(counts: dict[str, int]) -> dict[str, float]:
    """The prefilter weights after `counts` not-interested reasons per factor (empty: the standard)."""
    if not any(counts.get(factor, 0) for factor in WEIGHTS):
        return {}
    raw = {
        factor: standard * min(1.0 + WEIGHT_STEP * max(counts.get(factor, 0), 0), WEIGHT_MAX_FACTOR)
        for factor, standard in WEIGHTS.items()
    }
    total = sum(raw.values())
    return {factor: round(value / total, 3) for factor, value in raw.items()}


def _explain(weights: dict[str, float], counts: dict[str, int], *, language: str) -> list[str]:
    names = FACTOR_NAMES["ja" if language == "ja" else "en"]
    lines = []
    for factor, weight in weights.items():
        n = counts.get(factor, 0)
        if not n:
            continue
        now, standard = round(weight * 100), round(WEIGHTS[factor] * 100)
        if language == "ja":
            lines.append(
                f"{names[factor]}を理由に興味なしとした求人が{n}件あるため、{names[factor]}の重みを"
                f"{standard}%から{now}%にしています。"
            )
        else:
            lines.append(
                f"You turned down {n} job{'s' if n != 1 else ''} for their {names[factor]}: it now counts "
                f"{now}% of a match (standard {standard}%)."
            )
    return lines


def profile_match_weights_refresh(*, profile: UserProfile) -> dict[str, float]:
    """Recompute the person's prefilter weights and their explanation from all their feedback.

    An UPDATE, not save(): `updated_at` means "the person edited their profile" to scoring, and
    feedback must not make every stored score be redone.
    """
    counts = dict(
        JobScore.objects.filter(profile=profile, user_interested=False, user_feedback__in=list(WEIGHTS))
        .values("user_feedback")
        .annotate(n=Count("id"))
        .values_list("user_feedback", "n")
    )
    weights = match_weights_from_reasons(counts)
    explained = _explain(weights, counts, language=profile.language)
    UserProfile.objects.filter(pk=profile.pk).update(match_weights=weights, match_weights_explained=explained)
    profile.match_weights, profile.match_weights_explained = weights, explained
    return weights


def job_score_feedback(
    *,
    profile: UserProfile,
    job_id: int,
    action: str,
    reason: str = "",
    comment: str = "",
    now: datetime | None = None,
) -> JobScore:
    """Record one person's feedback on one of their matches (NotFoundError if it isn't one).

    Idempotent: repeating it changes nothing more (an application counts on the job once).
    """
    if action not in ACTIONS:
        raise ValueError(f"unknown feedback action {action!r}")
    if reason and reason not in REASONS:
        raise ValueError(f"unknown feedback reason {reason!r}")
    now = now or timezone.now()
    # The current version's row if there is one, else the newest: a person may answer an older digest.
    current_first = Case(
        When(score_version=SCORE_VERSION, then=Value(0)), default=Value(1), output_field=IntegerField()
    )
    newest_first = (
        JobScore.objects.filter(profile=profile, job_id=job_id)
        .annotate(current=current_first)
        .order_by("current", "-scored_at", "-id")
        .values_list("pk", flat=True)
    )
    pk = newest_first.first()
    if pk is None:
        raise NotFoundError(f"No match for job {job_id}.", detail={"job_id": job_id})
    with transaction.atomic():
        score = JobScore.objects.select_for_update().get(pk=pk)
        first_application = action == "applied" and not score.user_applied
        was_uninterested = score.user_interested is False
        score.user_interested = action != "not_interested"
        if action == "applied":
            score.user_applied = True
        score.user_feedback = reason
        score.user_feedback_comment = text_clean(comment or "").strip()[:COMMENT_MAX]
        score.user_feedback_at = now
        score.save(
            update_fields=[
                "user_interested",
                "user_applied",
                "user_feedback",
                "user_feedback_comment",
                "user_feedback_at",
            ]
        )
        if first_application:
            job_listing_application_record(job_id=score.job_id)
        if action == "not_interested" or was_uninterested:
            profile_match_weights_refresh(profile=profile)
    return score
