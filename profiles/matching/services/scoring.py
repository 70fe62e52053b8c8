"""Running job scoring: prefilter every new job for every person, send the top K to JOB_SCORE in
bulk, store what scores ≥ MATCH_MIN_SCORE.

What "already considered" means (JobScore keeps only good scores, so it can't say):
- the watermark is `UserProfile.last_scored_at`; a run considers the active jobs whose
  `created_at` is in (watermark, as_of − MATCH_COMMIT_GRACE_SECONDS] and then moves the
  watermark there. `created_at` (when we ingested a posting), not `posted_at`: a posting that
  arrives late is still new to us.
- a profile never scored, or edited since it was last scored (`updated_at > last_scored_at`),
  is (re)considered over the last MATCH_FIRST_RUN_DAYS days, and its old untouched scores in
  that window are replaced: they described a profile that no longer exists.
- pairs already stored at the current score version are never sent again (crash recovery and
  on-demand runs overlap the watermark); a bounded on-demand run that couldn't cover the whole
  window leaves the watermark where it was.
Queries don't grow with the number of people: profiles, jobs, stored pairs, declined jobs and the day's ledger
counts are one query each; writes go per chunk of people with LLM work (one transaction each, so a
chunk's scores, ledger rows and watermarks commit together).
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Literal

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Count, Q
from django.db.models.functions import Substr
from django.utils import timezone

from catalog.models import JobListing
from llm.models import LLMCall
from llm.runtime import run_many
from profiles.matching.llm.job_score import JOB_SCORE, SCORE_VERSION, JobBrief, JobScoreInput, PersonBrief, PreScores
from profiles.matching.prefilter import Candidate, JobIndex, JobRow, PersonRow, salary_currency, score_person
from profiles.matching.store import ScoredPair, job_scores_store, untouched_by_user
from profiles.matching.text import one_line, posting_excerpt, salary_range
from profiles.models import JobScore, UserProfile

EXCERPT_CHARS = 200  # after the lines given as fields are removed (text.posting_excerpt)
DESCRIPTION_CHARS_LOADED = 600
PROFILE_FIELDS = (
    "id",
    "language",
    "years_of_experience",
    "career_level",
    "programming_languages",
    "frameworks_libraries",
    "tools_platforms",
    "soft_skills",
    "desired_roles",
    "preferred_locations",
    "location",
    "salary_range_min",
    "salary_range_max",
    "last_scored_at",
    "updated_at",
    "match_weights",
)
JOB_FIELDS = (
    "id",
    "title",
    "company",
    "location",
    "remote",
    "salary_min",
    "salary_max",
    "salary_currency",
    "salary_period",
    "skills",
    "created_at",
    "excerpt",
)


@dataclass
class ScoringSummary:
    """What a run did; the API returns it and commands print it."""

    as_of: datetime
    people: int = 0
    jobs_loaded: int = 0
    considered: int = 0
    above_floor: int = 0
    sent_to_llm: int = 0
    llm_fallbacks: int = 0
    cached: int = 0
    failed: int = 0
    over_budget: int = 0
    rules_confident: int = 0  # clear matches by the rules: not sent to the model
    rules_weak: int = 0  # weak matches by the rules: not sent to the model
    stored: int = 0
    replaced: int = 0
    truncated: bool = False
    prefilter_s: float = 0.0
    llm_s: float = 0.0
    llm_calls_per_person: dict[int, int] = field(default_factory=dict)


@dataclass
class ScoringPerson:
    values: dict[str, Any]
    row: PersonRow
    rescore: bool
    advance: bool
    candidates: list[Candidate] = field(default_factory=list)


def _as_list(value: Any) -> list[str]:
    return [str(v) for v in value if isinstance(v, str | int | float) and str(v).strip()] if value else []


def _person_skills(values: dict[str, Any]) -> list[str]:
    skills: list[str] = []
    for key in ("programming_languages", "frameworks_libraries", "tools_platforms", "soft_skills"):
        skills.extend(_as_list(values[key]))
    return list(dict.fromkeys(skills))


def person_row(values: dict[str, Any], *, window_start_ts: float) -> PersonRow:
    """What the prefilter needs of a profile, from its PROFILE_FIELDS values."""
    locations = [*_as_list(values["preferred_locations"]), *_as_list([values["location"]])]
    weights = values.get("match_weights")
    return PersonRow(
        profile_id=values["id"],
        skills=_person_skills(values),
        years=float(values["years_of_experience"] or 0.0),
        locations=locations,
        desired_roles=_as_list(values["desired_roles"]),
        salary_min=float(values["salary_range_min"]) if values["salary_range_min"] else None,
        salary_max=float(values["salary_range_max"]) if values["salary_range_max"] else None,
        window_start_ts=window_start_ts,
        weights=weights if isinstance(weights, dict) else None,
    )


def _load_people(
    *, profile_ids: Sequence[int] | None, as_of: datetime, days_back: int | None
) -> tuple[list[ScoringPerson], datetime]:
    lookback_start = as_of - timedelta(days=settings.MATCH_FIRST_RUN_DAYS)
    queryset = UserProfile.objects.order_by("id")
    if profile_ids is not None:
        queryset = queryset.filter(id__in=list(profile_ids))
    people: list[ScoringPerson] = []
    earliest = as_of
    for values in queryset.values(*PROFILE_FIELDS).iterator(chunk_size=2000):
        watermark = values["last_scored_at"]
        # Edited since its last run: what was stored describes an old profile, so score again.
        rescore = watermark is not None and values["updated_at"] > watermark
        start = lookback_start if watermark is None or rescore else max(watermark, lookback_start)
        advance = True
        if days_back is not None:
            bounded = as_of - timedelta(days=days_back)
            if bounded > start:
                start, advance = bounded, False  # older unconsidered jobs remain for the schedule
        earliest = min(earliest, start)
        row = person_row(values, window_start_ts=start.timestamp())
        people.append(ScoringPerson(values=values, row=row, rescore=rescore, advance=advance))
    return people, earliest


def _load_jobs(*, since: datetime, until: datetime, limit: int | None) -> tuple[list[JobRow], bool]:
    queryset = (
        JobListing.objects.filter(active=True, created_at__gt=since, created_at__lte=until)
        .annotate(excerpt=Substr("description", 1, DESCRIPTION_CHARS_LOADED))
        .order_by("-created_at", "-id")
    )
    if limit is not None:
        queryset = queryset[: limit + 1]
    jobs = [
        job_row(dict(zip(JOB_FIELDS, row, strict=True)))
        for row in queryset.values_list(*JOB_FIELDS).iterator(chunk_size=5000)
    ]
    truncated = limit is not None and len(jobs) > limit
    return (jobs[:limit] if truncated else jobs), truncated


def job_row(v: dict[str, Any]) -> JobRow:
    """What the prefilter needs of a posting, from its JOB_FIELDS values."""
    skills = v["skills"] if isinstance(v["skills"], list) else []
    return JobRow(
        id=v["id"],
        title=v["title"],
        location=v["location"],
        remote=v["remote"],
        salary_min=float(v["salary_min"]) if v["salary_min"] is not None else None,
        salary_max=float(v["salary_max"]) if v["salary_max"] is not None else None,
        salary_currency=v["salary_currency"],
        salary_period=v["salary_period"],
        skills=[s for s in skills if isinstance(s, str)],
        created_ts=v["created_at"].timestamp(),
        text_excerpt=v["excerpt"] or "",
        company=v["company"],
    )


def _stored_pairs(*, profile_ids: Sequence[int] | None, since: datetime) -> dict[int, set[int]]:
    queryset = JobScore.objects.filter(score_version=SCORE_VERSION, job__created_at__gt=since)
    if profile_ids is not None:
        queryset = queryset.filter(profile_id__in=list(profile_ids))
    stored: dict[int, set[int]] = defaultdict(set)
    for profile_id, job_id in queryset.values_list("profile_id", "job_id").iterator(chunk_size=5000):
        stored[profile_id].add(job_id)
    return stored


def _not_interested(*, profile_ids: Sequence[int] | None, since: datetime) -> dict[int, set[int]]:
    """Jobs each person said they are not interested in (any score version): never considered again."""
    queryset = JobScore.objects.filter(user_interested=False, job__created_at__gt=since)
    if profile_ids is not None:
        queryset = queryset.filter(profile_id__in=list(profile_ids))
    declined: dict[int, set[int]] = defaultdict(set)
    for profile_id, job_id in queryset.values_list("profile_id", "job_id").iterator(chunk_size=5000):
        declined[profile_id].add(job_id)
    return declined


def llm_calls_last_day(*, as_of: datetime, profile_ids: Sequence[int] | None = None) -> dict[int, int]:
    """Paid JOB_SCORE calls per person in the 24 hours before `as_of`, from the ledger (one query).

    Cache hits and offline fallbacks made no provider request (attempts = 0) and don't count.
    """
    queryset = LLMCall.objects.filter(
        task=JOB_SCORE.name,
        created_at__gt=as_of - timedelta(days=1),
        created_at__lte=as_of,
        subject_type=ContentType.objects.get_for_model(UserProfile),
        attempts__gt=0,
    )
    if profile_ids is not None:
        queryset = queryset.filter(subject_id__in=[str(pk) for pk in profile_ids])
    return {int(row["subject_id"]): row["n"] for row in queryset.values("subject_id").annotate(n=Count("id"))}


def _currency_for(values: dict[str, Any]) -> str:
    amount = values["salary_range_min"] or values["salary_range_max"]
    return {1: "USD", 2: "JPY"}.get(salary_currency("", float(amount) if amount else None), "")


def job_score_input(person: ScoringPerson, candidate: Candidate, index: JobIndex) -> JobScoreInput:
    """The JOB_SCORE input for one candidate of one person (no personal identifiers in the prompt)."""
    values = person.values
    job = index.jobs[index.position[candidate.job_id]]
    language: Literal["en", "ja"] = values["language"] if values["language"] in ("en", "ja") else "en"
    return JobScoreInput(
        profile_id=values["id"],
        job_id=candidate.job_id,
        score_version=SCORE_VERSION,
        language=language,
        person=PersonBrief(
            years=round(person.row.years, 1),
            level=one_line(values["career_level"], 40),
            skills=[one_line(s, 40) for s in person.row.skills[:25]],
            desired_roles=[one_line(s, 60) for s in person.row.desired_roles[:5]],
            locations=[one_line(s, 60) for s in person.row.locations[:5]],
            salary=salary_range(values["salary_range_min"], values["salary_range_max"], _currency_for(values)),
        ),
        job=JobBrief(
            title=one_line(job.title, 150),
            company=one_line(job.company, 80),
            location=one_line(job.location, 80),
            remote=bool(index.remote[index.position[candidate.job_id]]),
            salary=salary_range(job.salary_min, job.salary_max, job.salary_currency),
            skills=[one_line(s, 40) for s in job.skills[:12]],
            excerpt=posting_excerpt(job.text_excerpt, EXCERPT_CHARS),
        ),
        pre=PreScores(
            overall=candidate.overall,
            skills=candidate.skills,
            location=candidate.location,
            experience=candidate.experience,
            salary=candidate.salary,
            role_match=candidate.role_match,
            matched_skills=list(candidate.matched_skills[:10]),
            missing_skills=list(candidate.missing_skills[:10]),
            required_years=candidate.required_years,
        ),
    )


def llm_candidates(candidates: Sequence[Candidate]) -> tuple[list[Candidate], list[tuple[Candidate, str]]]:
    """(the candidates the model should judge, the others with why the rules' score stands for them).

    The model is asked where the prefilter is unsure: on the golden set, candidates it scores below
    MATCH_LLM_MIN_PREFILTER_SCORE are rarely relevant and those at or above
    MATCH_PREFILTER_CONFIDENT_SCORE mostly are (README: matching_eval). Those keep the rules' score,
    flagged as such ("prefilter_weak" is stored only if it reaches MATCH_MIN_SCORE).
    """
    low, high = float(settings.MATCH_LLM_MIN_PREFILTER_SCORE), float(settings.MATCH_PREFILTER_CONFIDENT_SCORE)
    ask: list[Candidate] = []
    rules: list[tuple[Candidate, str]] = []
    for candidate in candidates:
        if candidate.overall >= high:
            rules.append((candidate, "prefilter_confident"))
        elif candidate.overall < low:
            rules.append((candidate, "prefilter_weak"))
        else:
            ask.append(candidate)
    return ask, rules


def _advance_watermarks(*, profile_ids: list[int], to: datetime) -> None:
    if profile_ids:
        # update() leaves updated_at alone, so this doesn't look like a profile edit next time.
        UserProfile.objects.filter(id__in=profile_ids).filter(
            Q(last_scored_at__isnull=True) | Q(last_scored_at__lt=to)
        ).update(last_scored_at=to)


def job_scores_prefilter(
    *,
    profile_ids: Sequence[int] | None = None,
    now: datetime | None = None,
    job_limit: int | None = None,
    days_back: int | None = None,
    top_k: int | None = None,
) -> tuple[ScoringSummary, list[ScoringPerson], JobIndex | None, datetime]:
    """Stage one for everyone at once: four queries (profiles, jobs, stored pairs, declined jobs)
    whatever the number of people."""
    started = time.perf_counter()
    as_of = now or timezone.now()
    cut = as_of - timedelta(seconds=settings.MATCH_COMMIT_GRACE_SECONDS)
    summary = ScoringSummary(as_of=as_of)
    people, earliest = _load_people(profile_ids=profile_ids, as_of=as_of, days_back=days_back)
    summary.people = len(people)
    if not people:
        return summary, people, None, cut
    jobs, truncated = _load_jobs(since=earliest, until=cut, limit=job_limit)
    summary.jobs_loaded, summary.truncated = len(jobs), truncated
    stored = _stored_pairs(profile_ids=profile_ids, since=earliest)
    declined = _not_interested(profile_ids=profile_ids, since=earliest)
    index = JobIndex(jobs)
    k = top_k if top_k is not None else settings.MATCH_LLM_TOP_K
    floor = float(settings.MATCH_PREFILTER_MIN_SCORE)
    for person in people:
        if truncated:
            person.advance = False
        excluded = set(declined.get(person.row.profile_id, ()))
        if not person.rescore:
            excluded |= stored.get(person.row.profile_id, set())
        if excluded:
            person.row = _with_excluded(person.row, excluded)
        result = score_person(index, person.row, top_k=k, floor=floor, window_end_ts=cut.timestamp())
        person.candidates = result.candidates
        summary.considered += result.considered
        summary.above_floor += result.above_floor
    summary.prefilter_s = time.perf_counter() - started
    return summary, people, index, cut


def _with_excluded(row: PersonRow, job_ids: set[int]) -> PersonRow:
    return replace(row, exclude_job_ids=frozenset(job_ids))


def job_scores_run(
    *,
    profile_ids: Sequence[int] | None = None,
    now: datetime | None = None,
    job_limit: int | None = None,
    days_back: int | None = None,
    top_k: int | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> ScoringSummary:
    """Score the new jobs of the given people (everyone by default): prefilter, top K to JOB_SCORE
    within each person's daily LLM budget, store ≥ threshold, move watermarks. Safe to re-run."""
    summary, people, index, cut = job_scores_prefilter(
        profile_ids=profile_ids, now=now, job_limit=job_limit, days_back=days_back, top_k=top_k
    )
    if index is None:
        return summary
    started = time.perf_counter()
    used = llm_calls_last_day(as_of=summary.as_of, profile_ids=profile_ids)
    daily_limit = settings.MATCH_LLM_DAILY_LIMIT
    busy = [p for p in people if p.candidates or p.rescore]
    idle = [p.row.profile_id for p in people if not (p.candidates or p.rescore) and p.advance]
    size = max(1, settings.MATCH_LLM_CHUNK_PEOPLE)
    lookback_start = summary.as_of - timedelta(days=settings.MATCH_FIRST_RUN_DAYS)
    for first in range(0, len(busy), size):
        chunk = busy[first : first + size]
        with transaction.atomic():
            _score_chunk(chunk, index=index, used=used, daily_limit=daily_limit, since=lookback_start, summary=summary)
            _advance_watermarks(profile_ids=[p.row.profile_id for p in chunk if p.advance], to=cut)
        if on_progress is not None:
            on_progress(min(first + size, len(busy)), len(busy))
    _advance_watermarks(profile_ids=idle, to=cut)
    summary.llm_s = time.perf_counter() - started
    return summary


def _score_chunk(
    chunk: list[ScoringPerson],
    *,
    index: JobIndex,
    used: dict[int, int],
    daily_limit: int,
    since: datetime,
    summary: ScoringSummary,
) -> None:
    rescored = [p.row.profile_id for p in chunk if p.rescore]
    if rescored:
        summary.replaced += (
            JobScore.objects.filter(profile_id__in=rescored, score_version=SCORE_VERSION, job__created_at__gt=since)
            .filter(untouched_by_user())
            .delete()[0]
        )
    inputs: list[JobScoreInput] = []
    pairs: list[ScoredPair] = []
    for person in chunk:
        allowance = max(0, daily_limit - used.get(person.row.profile_id, 0))
        ask, rules = llm_candidates(person.candidates)
        for candidate, reason in rules:
            task_input = job_score_input(person, candidate, index)
            summary.rules_confident += reason == "prefilter_confident"
            summary.rules_weak += reason == "prefilter_weak"
            pairs.append(_pair(task_input, JOB_SCORE.fallback_output(task_input), True, reason))
        for n, candidate in enumerate(ask):
            task_input = job_score_input(person, candidate, index)
            if n < allowance:
                inputs.append(task_input)
                continue
            # Over today's budget: the rule-based score, flagged, rather than nothing.
            summary.over_budget += 1
            pairs.append(_pair(task_input, JOB_SCORE.fallback_output(task_input), True, "daily_budget"))
        summary.llm_calls_per_person[person.row.profile_id] = min(allowance, len(ask))
    summary.sent_to_llm += len(inputs)
    for outcome in run_many(JOB_SCORE, inputs, apply=False) if inputs else []:
        if outcome.result is None:
            summary.failed += 1
            continue
        result = outcome.result
        summary.llm_fallbacks += result.is_fallback
        summary.cached += result.cached
        pairs.append(_pair(outcome.task_input, result.output, result.is_fallback, result.provenance.fallback_reason))
    summary.stored += job_scores_store(pairs=pairs, remove_below=False)[0]


def _pair(task_input: JobScoreInput, output: Any, is_fallback: bool, reason: str) -> ScoredPair:
    return ScoredPair(
        profile_id=task_input.profile_id,
        job_id=task_input.job_id,
        score_version=task_input.score_version,
        language=task_input.language,
        output=output,
        is_fallback=is_fallback,
        fallback_reason=reason,
    )


def job_scores_cleanup(*, now: datetime | None = None) -> int:
    """Delete scores older than MATCH_SCORE_RETENTION_DAYS that the person never acted on."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.MATCH_SCORE_RETENTION_DAYS)
    deleted, _ = JobScore.objects.filter(scored_at__lt=cutoff).filter(untouched_by_user()).delete()
    return deleted
