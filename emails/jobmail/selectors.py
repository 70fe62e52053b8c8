"""Reads for the weekly job emails (never writes): the job universe of a run, the people of a
chunk with their scores and history, popularity and co-occurrence. Every read is one query (or a
fixed few), whatever the number of people, so a run's query count grows with its chunks only.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.db.models.functions import Substr

from catalog.models import JobListing
from config.compiled import compiled_first
from emails.models import Email, EmailClick
from profiles.matching.llm.job_score import SCORE_VERSION
from profiles.matching.prefilter import JobIndex, JobRow, PersonRow, norm_skill
from profiles.matching.text import salary_range
from profiles.models import JobScore, UserProfile

EXCERPT_CHARS = 300
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
    "is_editorial_pick",
    "application_count",
    "click_count",
    "excerpt",
)
PROFILE_FIELDS = (
    "id",
    "owner_id",
    "user_id",
    "full_name",
    "email",
    "owner__email",
    "language",
    "time_zone",
    "years_of_experience",
    "programming_languages",
    "frameworks_libraries",
    "tools_platforms",
    "soft_skills",
    "desired_roles",
    "job_titles",
    "preferred_locations",
    "location",
    "salary_range_min",
    "salary_range_max",
)


@dataclass(frozen=True)
class JobInfo:
    """A job as the emails show it (and as the sections rank it)."""

    id: int
    title: str
    company: str
    location: str
    remote: bool
    salary: str
    skills: tuple[str, ...]
    excerpt: str
    created_ts: float
    is_editorial_pick: bool
    application_count: int
    click_count: int
    skill_keys: frozenset[str] = frozenset()  # normalized skills (computed once per job, not per person)


@dataclass
class Person:
    profile_id: int
    owner_id: int
    user_id: str
    name: str
    address: str
    language: str
    time_zone: str
    role: str
    row: PersonRow


@dataclass
class PeopleData:
    """One chunk's people with what the sections need to know about each of them."""

    people: list[Person]
    scores: dict[int, list[tuple[int, float]]] = field(default_factory=dict)  # profile → (job, score) best first
    history: dict[int, set[int]] = field(default_factory=dict)  # profile → jobs applied/interested/clicked
    excluded: dict[int, set[int]] = field(default_factory=dict)  # profile → applied or not interested
    jobs: dict[int, JobInfo] = field(default_factory=dict)  # their scored/engaged jobs outside the universe
    known: tuple[JobUniverse, dict[int, JobInfo]] | None = None  # these and the universe's (sections.py)


@dataclass
class JobUniverse:
    """The jobs a run can recommend, with the run-wide signals (loaded once per run)."""

    now: datetime
    jobs: dict[int, JobInfo]
    index: JobIndex
    editorial: list[int]
    popular_7d: dict[int, float]
    engaged_users: dict[int, set[int]]  # job → users who engaged with it (co-occurrence)
    engaged_jobs: dict[int, set[int]]  # user → jobs they engaged with
    # The popular jobs ranked once per run (see `rank_groups`): the 7-day scores, then all-time counts.
    popular_7d_ranked: list[dict[int, int]] = field(default_factory=list)
    all_time_ranked: list[dict[int, int]] = field(default_factory=list)


def rank_groups(counts: Iterable[tuple[int, float]]) -> list[dict[int, int]]:
    """Job ids grouped by equal count, highest first; each group keeps the given order and maps each
    id to its place (a person's ranking only re-orders within a group, by their fit)."""
    groups: dict[float, dict[int, int]] = {}
    for job_id, count in counts:
        group = groups.setdefault(count, {})
        group[job_id] = len(group)
    return [groups[count] for count in sorted(groups, reverse=True)]


def _as_list(value: Any) -> list[str]:
    return [str(v) for v in value if isinstance(v, str | int | float) and str(v).strip()] if value else []


def _job_info(v: dict[str, Any]) -> JobInfo:
    skills = v["skills"] if isinstance(v["skills"], list) else []
    low = float(v["salary_min"]) if v["salary_min"] is not None else None
    high = float(v["salary_max"]) if v["salary_max"] is not None else None
    return JobInfo(
        id=v["id"],
        title=v["title"],
        company=v["company"],
        location=v["location"],
        remote=v["remote"],
        salary=salary_range(low, high, v["salary_currency"]) if v["salary_period"] in ("", "year") else "",
        skills=tuple(s for s in skills if isinstance(s, str) and s.strip()),
        excerpt=v["excerpt"] or "",
        created_ts=v["created_at"].timestamp(),
        is_editorial_pick=v["is_editorial_pick"],
        application_count=v["application_count"],
        click_count=v["click_count"],
        skill_keys=frozenset(norm_skill(s) for s in skills if isinstance(s, str) and s.strip()),
    )


def _job_row(v: dict[str, Any], info: JobInfo) -> JobRow:
    return JobRow(
        id=info.id,
        title=info.title,
        location=info.location,
        remote=info.remote,
        salary_min=float(v["salary_min"]) if v["salary_min"] is not None else None,
        salary_max=float(v["salary_max"]) if v["salary_max"] is not None else None,
        salary_currency=v["salary_currency"],
        salary_period=v["salary_period"],
        skills=list(info.skills),
        created_ts=info.created_ts,
        text_excerpt=info.excerpt,
        company=info.company,
    )


def _jobs_values(queryset: QuerySet[JobListing]) -> Iterable[dict[str, Any]]:
    rows = queryset.annotate(excerpt=Substr("description", 1, EXCERPT_CHARS)).values_list(*JOB_FIELDS)
    for row in rows.iterator(chunk_size=5000):
        yield dict(zip(JOB_FIELDS, row, strict=True))


def jobs_info(*, job_ids: Iterable[int], active_only: bool = True) -> dict[int, JobInfo]:
    """JobInfo for the given ids (one query)."""
    queryset = JobListing.objects.filter(pk__in=list(job_ids))
    if active_only:
        queryset = queryset.filter(active=True)
    return {v["id"]: _job_info(v) for v in _jobs_values(queryset)}


def _applied_since_filter(since: datetime) -> Q:
    """Applications recorded since `since`: by the feedback timestamp when the model has one."""
    names = {f.name for f in JobScore._meta.get_fields()}
    for name in ("applied_at", "user_feedback_at"):
        if name in names:
            return Q(user_applied=True, **{f"{name}__gte": since})
    return Q(user_applied=True, scored_at__gte=since)


def job_popularity(*, since: datetime) -> dict[int, float]:
    """Job id → applications × 3 + email/digest link clicks since `since` (active jobs only)."""
    weight = settings.JOB_EMAIL_POPULAR_APPLICATION_WEIGHT
    scores: dict[int, float] = defaultdict(float)
    clicks = (
        EmailClick.objects.filter(clicked_at__gte=since)
        .exclude(email__kind=Email.Kind.TEST)  # staff looking at test copies
        .values("job_id")
        .annotate(n=Count("id"))
        .values_list("job_id", "n")
    )
    for job_id, n in clicks:
        scores[job_id] += n
    applied = (
        JobScore.objects.filter(_applied_since_filter(since))
        .values("job_id")
        .annotate(n=Count("profile_id", distinct=True))
        .values_list("job_id", "n")
    )
    for job_id, n in applied:
        scores[job_id] += weight * n
    if not scores:
        return {}
    active = set(JobListing.objects.filter(pk__in=list(scores), active=True).values_list("pk", flat=True))
    return {job_id: score for job_id, score in scores.items() if job_id in active}


def engagement_pairs(*, since: datetime) -> list[tuple[int, int]]:
    """(user id, job id) for everyone's engagement since `since`: email clicks, applications and
    "interested" marks (two queries)."""
    pairs = set(
        EmailClick.objects.filter(clicked_at__gte=since, recipient__isnull=False)
        .exclude(email__kind=Email.Kind.TEST)
        .values_list("recipient_id", "job_id")
        .distinct()
    )
    pairs.update(
        JobScore.objects.filter(Q(user_applied=True) | Q(user_interested=True))
        .filter(Q(scored_at__gte=since) | Q(user_applied=True))
        .values_list("profile__owner_id", "job_id")
    )
    return list(pairs)


def job_universe(*, now: datetime) -> JobUniverse:
    """The recommendable jobs of a run (active; recent, editorial or popular) and the run-wide
    signals. A fixed number of queries."""
    since = now - timedelta(days=settings.JOB_EMAIL_CANDIDATE_DAYS)
    popular = job_popularity(since=now - timedelta(days=7))
    queryset = JobListing.objects.filter(active=True).filter(
        Q(created_at__gte=since) | Q(is_editorial_pick=True) | Q(pk__in=list(popular)) | Q(application_count__gt=0)
    )
    values = list(_jobs_values(queryset.order_by("-created_at", "-id")))
    jobs = {v["id"]: _job_info(v) for v in values}
    index = JobIndex([_job_row(v, jobs[v["id"]]) for v in values])
    editorial = [job_id for job_id, job in jobs.items() if job.is_editorial_pick]
    engaged_users: dict[int, set[int]] = defaultdict(set)
    engaged_jobs: dict[int, set[int]] = defaultdict(set)
    for user_id, job_id in engagement_pairs(since=now - timedelta(days=settings.JOB_EMAIL_HISTORY_DAYS)):
        engaged_users[job_id].add(user_id)
        engaged_jobs[user_id].add(job_id)
    return JobUniverse(
        now=now,
        jobs=jobs,
        index=index,
        editorial=editorial,
        popular_7d=popular,
        engaged_users=dict(engaged_users),
        engaged_jobs=dict(engaged_jobs),
        popular_7d_ranked=rank_groups(popular.items()),
        all_time_ranked=rank_groups(
            (job_id, job.application_count + job.click_count)
            for job_id, job in jobs.items()
            if job.application_count + job.click_count > 0
        ),
    )


def _profile_fields() -> tuple[str, ...]:
    # The person's own prefilter weights (moved by their feedback), where profiles keeps them.
    has_weights = any(f.name == "match_weights" for f in UserProfile._meta.get_fields())
    return (*PROFILE_FIELDS, "match_weights") if has_weights else PROFILE_FIELDS


def _person(values: dict[str, Any], *, language: str | None) -> Person:
    skills: list[str] = []
    for key in ("programming_languages", "frameworks_libraries", "tools_platforms", "soft_skills"):
        skills.extend(_as_list(values[key]))
    roles = _as_list(values["desired_roles"])
    chosen = language or values["language"]
    extra: dict[str, Any] = {"weights": values["match_weights"] or None} if "match_weights" in values else {}
    return Person(
        profile_id=values["id"],
        owner_id=values["owner_id"],
        user_id=values["user_id"],
        name=(values["full_name"] or "").strip(),
        address=(values["email"] or values["owner__email"] or "").strip(),
        language=chosen if chosen in ("en", "ja") else "en",
        time_zone=values["time_zone"] or "UTC",
        role=roles[0] if roles else next(iter(_as_list(values["job_titles"])), ""),
        row=PersonRow(
            profile_id=values["id"],
            skills=list(dict.fromkeys(skills)),
            years=float(values["years_of_experience"] or 0.0),
            locations=[*_as_list(values["preferred_locations"]), *_as_list([values["location"]])],
            desired_roles=roles,
            salary_min=float(values["salary_range_min"]) if values["salary_range_min"] else None,
            salary_max=float(values["salary_range_max"]) if values["salary_range_max"] else None,
            window_start_ts=-math.inf,
            **extra,
        ),
    )


def people_data(*, profile_ids: Sequence[int], universe: JobUniverse, language: str | None = None) -> PeopleData:
    """The chunk's people, their current-version scores on active jobs, their history and what
    they must not be shown (applied, not interested). Four queries plus one for outside jobs."""
    ids = list(profile_ids)
    people = [
        _person(values, language=language)
        for values in UserProfile.objects.filter(pk__in=ids).order_by("id").values(*_profile_fields())
    ]
    data = PeopleData(people=people)
    owners = {p.owner_id: p.profile_id for p in people}
    scores: dict[int, list[tuple[int, float]]] = defaultdict(list)
    history: dict[int, set[int]] = defaultdict(set)
    excluded: dict[int, set[int]] = defaultdict(set)
    rows = (
        JobScore.objects.filter(profile_id__in=ids, job__active=True)
        .order_by("profile_id", "-compatibility_score", "-scored_at", "-id")
        .values_list("profile_id", "job_id", "compatibility_score", "score_version", "user_applied", "user_interested")
    )
    for profile_id, job_id, score, version, applied, interested in rows.iterator(chunk_size=5000):
        if applied or interested is False:
            excluded[profile_id].add(job_id)
        if applied or interested:
            history[profile_id].add(job_id)
        if version == SCORE_VERSION:
            scores[profile_id].append((job_id, score))
    since = universe.now - timedelta(days=settings.JOB_EMAIL_HISTORY_DAYS)
    clicks = EmailClick.objects.filter(recipient_id__in=list(owners), clicked_at__gte=since).exclude(
        email__kind=Email.Kind.TEST
    )
    for owner_id, job_id in clicks.values_list("recipient_id", "job_id").distinct():
        history[owners[owner_id]].add(job_id)
    data.scores, data.history, data.excluded = dict(scores), dict(history), dict(excluded)
    outside = {job_id for pairs in scores.values() for job_id, _ in pairs} | {j for s in history.values() for j in s}
    outside -= set(universe.jobs)
    if outside:
        data.jobs = jobs_info(job_ids=outside, active_only=False)
    return data


def profiles_for_run(
    *,
    profile_ids: Sequence[int] | None = None,
    user_ids: Sequence[str] | None = None,
    language: str | None = None,
    time_zone: str | None = None,
    has_scores: bool | None = None,
) -> list[int]:
    """Profile ids matching a run's filter, in id order (one query)."""
    queryset = UserProfile.objects.order_by("id")
    if profile_ids is not None:
        queryset = queryset.filter(pk__in=list(profile_ids))
    if user_ids is not None:
        queryset = queryset.filter(user_id__in=list(user_ids))
    if language:
        queryset = queryset.filter(language=language)
    if time_zone:
        queryset = queryset.filter(time_zone=time_zone)
    if has_scores is not None:
        scored = JobScore.objects.filter(score_version=SCORE_VERSION).values("profile_id")
        queryset = queryset.filter(pk__in=scored) if has_scores else queryset.exclude(pk__in=scored)
    return list(queryset.values_list("pk", flat=True))


def _readable_by(user: Any) -> dict[str, Any]:
    """The filter of the emails a user may read: their own (as recipient); staff everyone's."""
    return {} if getattr(user, "is_staff", False) else {"recipient": user}


def emails_for_user(*, user: Any) -> QuerySet[Email]:
    """Emails a user may list: their own (as recipient); staff everyone's. One query a page."""
    return Email.objects.filter(**_readable_by(user)).order_by("-created_at", "-id")


def email_for_user(*, user: Any, email_id: int) -> Email | None:
    """One email if the user may read it (own, or staff), else None (the API answers 404).
    One `filter()` (building a queryset is a tenth of a millisecond a call)."""
    readable = Email.objects.filter(pk=email_id, **_readable_by(user)).order_by("-created_at", "-id")
    return compiled_first(readable, key="email_for_user")
