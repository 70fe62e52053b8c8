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
- a person whose pair was deferred (background runs: the provider could not serve it) keeps the
  watermark where it was, so the next run considers that job again; stored pairs are not re-sent.
- stored rule-based scores the provider could not give (an outage, the daily budget: RESEND_REASONS)
  are sent to the model again once it is healthy, after each person's new jobs and within the same
  daily budget; a model score replaces them, never the other way round (store.py).
Queries don't grow with the number of people: profiles, jobs, stored pairs, declined jobs, fallbacks
to re-send and the day's ledger counts are one query each. Per chunk of people with LLM work the
model is asked outside any transaction (ledger rows commit call by call, so a killed run's spend is
on record), then the chunk's scores and watermarks commit together in one transaction.
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
from django.db.models import Count, F, Q
from django.db.models.functions import Substr
from django.utils import timezone

from catalog.models import JobListing
from llm.breaker import CLOSED, OPEN, get_breaker
from llm.models import LLMCall
from llm.providers import provider_config
from llm.runtime import ItemOutcome, run_many
from profiles.matching.llm.job_score import JOB_SCORE, SCORE_VERSION, JobBrief, JobScoreInput, PersonBrief, PreScores
from profiles.matching.prefilter import Candidate, JobIndex, JobRow, PersonRow, salary_currency, score_person
from profiles.matching.store import RESEND_REASONS, ScoredPair, job_scores_store, untouched_by_user
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
    resent: int = 0  # stored fallbacks sent to the model again
    deferred: int = 0  # the provider could not serve them (background runs): left for the next run
    stored: int = 0
    replaced: int = 0
    truncated: bool = False
    stopped: bool = False  # `keep_going` said stop (the run's lease was lost)
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


def _stored_pairs(*, profile_ids: Sequence[int] | None, since: datetime) -> dict[int, dict[int, datetime]]:
    """profile → {job: scored_at} of the pairs stored at the current score version."""
    queryset = JobScore.objects.filter(score_version=SCORE_VERSION, job__created_at__gt=since)
    if profile_ids is not None:
        queryset = queryset.filter(profile_id__in=list(profile_ids))
    stored: dict[int, dict[int, datetime]] = defaultdict(dict)
    rows = queryset.values_list("profile_id", "job_id", "scored_at").iterator(chunk_size=5000)
    for profile_id, job_id, scored_at in rows:
        stored[profile_id][job_id] = scored_at
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
        mine = stored.get(person.row.profile_id, {})
        if person.rescore:
            # Scored since the edit (an earlier run for this profile was cut short): still current.
            edited = person.values["updated_at"]
            excluded |= {job_id for job_id, scored_at in mine.items() if scored_at > edited}
        else:
            excluded |= mine.keys()
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


def provider_ready() -> bool:
    """A provider is configured and its breaker is closed (or its cool-down is over and a trial is due)."""
    config = provider_config()
    if config.is_offline:
        return False
    breaker = get_breaker(config.name)
    state = breaker.state
    if state == CLOSED:
        return True
    until = breaker.opened_until
    return state == OPEN and until is not None and until <= timezone.now()


def _fallbacks_to_resend(*, people: list[ScoringPerson]) -> dict[int, list[int]]:
    """profile → the jobs of its stored fallbacks worth a model's look (RESEND_REASONS), best first.

    People being re-scored are left out (their old scores are being replaced anyway), and so are jobs
    the person declined or that are no longer active. One query.
    """
    wanted = [p.row.profile_id for p in people if not p.rescore]
    if not wanted:
        return {}
    rows = (
        JobScore.objects.filter(
            profile_id__in=wanted,
            score_version=SCORE_VERSION,
            is_fallback=True,
            fallback_reason__in=sorted(RESEND_REASONS),
            job__active=True,
        )
        .exclude(user_interested=False)
        .order_by("profile_id", "-compatibility_score", "job_id")
        .values_list("profile_id", "job_id")
    )
    resend: dict[int, list[int]] = defaultdict(list)
    for profile_id, job_id in rows.iterator(chunk_size=5000):
        resend[profile_id].append(job_id)
    return resend


def _load_jobs_by_id(job_ids: set[int]) -> dict[int, JobRow]:
    if not job_ids:
        return {}
    rows = (
        JobListing.objects.filter(id__in=job_ids)
        .annotate(excerpt=Substr("description", 1, DESCRIPTION_CHARS_LOADED))
        .values_list(*JOB_FIELDS)
    )
    return {row[0]: job_row(dict(zip(JOB_FIELDS, row, strict=True))) for row in rows}


def job_scores_run(
    *,
    profile_ids: Sequence[int] | None = None,
    now: datetime | None = None,
    job_limit: int | None = None,
    days_back: int | None = None,
    top_k: int | None = None,
    on_progress: Callable[[int, int], None] | None = None,
    defer_when_unavailable: bool = False,
    resend_fallbacks: bool = True,
    keep_going: Callable[[], bool] | None = None,
) -> ScoringSummary:
    """Score the new jobs of the given people (everyone by default): prefilter, top K to JOB_SCORE
    within each person's daily LLM budget, store ≥ threshold, move watermarks. Safe to re-run.

    Background runs pass `defer_when_unavailable`: a pair the provider cannot serve stays unscored
    (the person's watermark holds) instead of getting a rule-based score. With `resend_fallbacks`
    and a healthy provider, stored fallbacks (RESEND_REASONS) get the rest of the budget.
    `keep_going` is called as the work progresses (e.g. to renew a lease); False stops the run
    after the current chunk.
    """
    summary, people, index, cut = job_scores_prefilter(
        profile_ids=profile_ids, now=now, job_limit=job_limit, days_back=days_back, top_k=top_k
    )
    if index is None:
        return summary
    started = time.perf_counter()
    used = llm_calls_last_day(as_of=summary.as_of, profile_ids=profile_ids)
    daily_limit = settings.MATCH_LLM_DAILY_LIMIT
    resend = _fallbacks_to_resend(people=people) if resend_fallbacks and provider_ready() else {}
    # No one is sent more than today's budget leaves (new jobs come first: _plan_chunk).
    resend = {
        pid: jobs[: daily_limit - used.get(pid, 0)] for pid, jobs in resend.items() if daily_limit > used.get(pid, 0)
    }
    resend_jobs = _load_jobs_by_id({job_id for job_ids in resend.values() for job_id in job_ids})
    busy = [p for p in people if p.candidates or p.rescore or p.row.profile_id in resend]
    idle = [
        p.row.profile_id for p in people if not (p.candidates or p.rescore or p.row.profile_id in resend) and p.advance
    ]
    size = max(1, settings.MATCH_LLM_CHUNK_PEOPLE)
    lookback_start = summary.as_of - timedelta(days=settings.MATCH_FIRST_RUN_DAYS)
    on_item: Callable[[int, int], None] | None = None
    if keep_going is not None:
        renew = keep_going

        def on_item(_done: int, _total: int) -> None:
            renew()  # e.g. the lease, while a long chunk's calls go out; stopping waits for the chunk

    for first in range(0, len(busy), size):
        chunk = busy[first : first + size]
        plan = _plan_chunk(
            chunk, index=index, used=used, daily_limit=daily_limit, resend=resend, resend_jobs=resend_jobs
        )
        summary.rules_confident += plan.rules_confident
        summary.rules_weak += plan.rules_weak
        summary.over_budget += plan.over_budget
        summary.sent_to_llm += len(plan.inputs)
        summary.resent += len(plan.resend_keys)
        summary.llm_calls_per_person.update(plan.calls_per_person)
        # Outside any transaction: each call's ledger row commits as it is made (a kill loses none).
        outcomes = (
            run_many(
                JOB_SCORE, plan.inputs, apply=False, defer_when_unavailable=defer_when_unavailable, on_progress=on_item
            )
            if plan.inputs
            else []
        )
        held = _collect(outcomes, plan=plan, summary=summary)
        with transaction.atomic():
            _rescored_delete(chunk, since=lookback_start, summary=summary)
            summary.stored += job_scores_store(pairs=plan.pairs, remove_below=False)[0]
            if plan.resent_pairs:
                stored, removed = job_scores_store(pairs=plan.resent_pairs)
                summary.stored += stored
                summary.replaced += removed
            advance = [p.row.profile_id for p in chunk if p.advance and p.row.profile_id not in held]
            _advance_watermarks(profile_ids=advance, to=cut)
        if on_progress is not None:
            on_progress(min(first + size, len(busy)), len(busy))
        if keep_going is not None and not keep_going():
            summary.stopped = True  # the rest waits for the next run
            break
    _advance_watermarks(profile_ids=idle, to=cut)
    summary.llm_s = time.perf_counter() - started
    return summary


@dataclass
class ChunkPlan:
    """What one chunk of people sends to the model and what the rules settle without it."""

    inputs: list[JobScoreInput] = field(default_factory=list)
    pairs: list[ScoredPair] = field(default_factory=list)  # rules' scores (and model answers, once in)
    resent_pairs: list[ScoredPair] = field(default_factory=list)  # answers for re-sent fallbacks
    resend_keys: set[tuple[int, int]] = field(default_factory=set)
    calls_per_person: dict[int, int] = field(default_factory=dict)
    rules_confident: int = 0
    rules_weak: int = 0
    over_budget: int = 0


def _plan_chunk(
    chunk: list[ScoringPerson],
    *,
    index: JobIndex,
    used: dict[int, int],
    daily_limit: int,
    resend: dict[int, list[int]],
    resend_jobs: dict[int, JobRow],
) -> ChunkPlan:
    """No writes: the model inputs within each person's budget (new jobs first, then stored
    fallbacks to re-send), and the rules' scores for the rest."""
    plan = ChunkPlan()
    for person in chunk:
        profile_id = person.row.profile_id
        allowance = max(0, daily_limit - used.get(profile_id, 0))
        ask, rules = llm_candidates(person.candidates)
        for candidate, reason in rules:
            task_input = job_score_input(person, candidate, index)
            plan.rules_confident += reason == "prefilter_confident"
            plan.rules_weak += reason == "prefilter_weak"
            plan.pairs.append(_pair(task_input, JOB_SCORE.fallback_output(task_input), True, reason))
        for n, candidate in enumerate(ask):
            task_input = job_score_input(person, candidate, index)
            if n < allowance:
                plan.inputs.append(task_input)
                continue
            # Over today's budget: the rule-based score, flagged, rather than nothing.
            plan.over_budget += 1
            plan.pairs.append(_pair(task_input, JOB_SCORE.fallback_output(task_input), True, "daily_budget"))
        calls = min(allowance, len(ask))
        room = allowance - calls
        job_ids = [job_id for job_id in resend.get(profile_id, ()) if job_id in resend_jobs][: max(0, room)]
        for task_input in _resend_inputs(person, [resend_jobs[job_id] for job_id in job_ids]):
            plan.inputs.append(task_input)
            plan.resend_keys.add((profile_id, task_input.job_id))
            calls += 1
        plan.calls_per_person[profile_id] = calls
    return plan


def _resend_inputs(person: ScoringPerson, jobs: list[JobRow]) -> list[JobScoreInput]:
    """JOB_SCORE inputs for stored pairs: the prefilter's view of each job, whatever its age."""
    if not jobs:
        return []
    index = JobIndex(jobs)
    row = replace(person.row, window_start_ts=float("-inf"), exclude_job_ids=frozenset())
    result = score_person(index, row, top_k=len(jobs), floor=float("-inf"), window_end_ts=float("inf"))
    return [job_score_input(person, candidate, index) for candidate in result.candidates]


def _collect(outcomes: list[ItemOutcome], *, plan: ChunkPlan, summary: ScoringSummary) -> set[int]:
    """Sort the model's answers into the plan; returns the people with a new pair deferred."""
    held: set[int] = set()
    for outcome in outcomes:
        task_input = outcome.task_input
        resent = (task_input.profile_id, task_input.job_id) in plan.resend_keys
        if outcome.deferred:
            summary.deferred += 1
            if not resent:  # a new job left unscored: the watermark stays so the next run sees it
                held.add(task_input.profile_id)
            continue
        if outcome.result is None:
            summary.failed += 1
            continue
        result = outcome.result
        summary.llm_fallbacks += result.is_fallback
        summary.cached += result.cached
        pair = _pair(task_input, result.output, result.is_fallback, result.provenance.fallback_reason)
        (plan.resent_pairs if resent else plan.pairs).append(pair)
    return held


def _rescored_delete(chunk: list[ScoringPerson], *, since: datetime, summary: ScoringSummary) -> None:
    """Edited profiles: drop the untouched scores from before the edit (they described an old profile)."""
    rescored = [p.row.profile_id for p in chunk if p.rescore]
    if rescored:
        summary.replaced += (
            JobScore.objects.filter(
                profile_id__in=rescored,
                score_version=SCORE_VERSION,
                job__created_at__gt=since,
                scored_at__lte=F("profile__updated_at"),
            )
            .filter(untouched_by_user())
            .delete()[0]
        )


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
