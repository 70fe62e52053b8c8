"""Daily digests: who is due (their local morning, nothing yet for their local today), the DIGEST
task over their top new matches and the stored row; and the records of what became of its email.

At most one digest per person per local date: the unique (profile, digest_date) constraint plus
get_or_create. A second run the same local day finds the row and does nothing; two racing runs
may both ask the model, but only one row is ever written. Profiles never sends a digest: the
emails app composes and sends it, then reports back through the `digest_*_record` services here.
"""

from __future__ import annotations

import bisect
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Literal

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from catalog.models import JobListing
from config.errors import NotFoundError
from llm.runtime import run_many
from profiles.matching.llm.digest import DIGEST, DigestInput, DigestJob, DigestOutput, TrendingSkill
from profiles.matching.llm.job_score import SCORE_VERSION
from profiles.matching.prefilter import norm_skill
from profiles.matching.selectors import in_digest_hours, zone
from profiles.matching.text import one_line
from profiles.models import DailyDigest, JobScore, UserProfile


def local_date(*, time_zone: str, now: datetime) -> date:
    return now.astimezone(zone(time_zone)).date()


@dataclass
class DigestRunSummary:
    due: int = 0
    no_new_matches: int = 0
    generated: int = 0
    fallbacks: int = 0
    failed: int = 0
    digest_ids: list[int] = field(default_factory=list)


def _due_people(*, now: datetime, profile_ids: Sequence[int] | None, respect_hour: bool) -> dict[int, date]:
    """Profile id → local date, for people in their digest hours who have no digest that day."""
    queryset = UserProfile.objects.all()
    if profile_ids is not None:
        queryset = queryset.filter(id__in=list(profile_ids))
    # Which zones are in their morning is decided per distinct zone (a few dozen), not per person.
    dates: dict[str, date] = {}
    for time_zone in queryset.order_by().values_list("time_zone", flat=True).distinct():
        if not respect_hour or in_digest_hours(time_zone=time_zone, now=now):
            dates[time_zone] = now.astimezone(zone(time_zone)).date()
    due: dict[int, date] = {}
    if dates:
        for profile_id, time_zone in queryset.filter(time_zone__in=list(dates)).values_list("id", "time_zone"):
            due[profile_id] = dates[time_zone]
    if due:
        existing = DailyDigest.objects.filter(profile_id__in=list(due), digest_date__in=set(due.values()))
        for profile_id, digest_date in existing.values_list("profile_id", "digest_date"):
            if due.get(profile_id) == digest_date:
                del due[profile_id]
    return due


def _trending(skill_lists: list[list[str]], limit: int = 6) -> list[TrendingSkill]:
    counts: Counter[str] = Counter()
    for skills in skill_lists:
        counts.update({s for s in skills if isinstance(s, str)})
    total = len(skill_lists) or 1
    return [TrendingSkill(name=name, share=round(100 * n / total)) for name, n in counts.most_common(limit)]


def digest_inputs(*, due: dict[int, date], now: datetime) -> list[DigestInput]:
    """One input per due person with at least one new match (a constant number of queries)."""
    if not due:
        return []
    default_since = now - timedelta(days=1)
    last = dict(
        DailyDigest.objects.filter(profile_id__in=list(due))
        .values("profile_id")
        .annotate(last=Max("created_at"))
        .values_list("profile_id", "last")
    )
    since = {pid: max(last.get(pid) or default_since, now - timedelta(days=7)) for pid in due}
    earliest = min(since.values())
    people = UserProfile.objects.filter(id__in=list(due)).values(
        "id", "language", "programming_languages", "frameworks_libraries", "tools_platforms", "soft_skills"
    )
    scores: dict[int, list[JobScore]] = defaultdict(list)
    for score in (
        JobScore.objects.filter(
            profile_id__in=list(due), score_version=SCORE_VERSION, scored_at__gt=earliest, job__active=True
        )
        .exclude(user_interested=False)  # "not interested" is never shown again
        .select_related("job")
        .order_by("-compatibility_score", "-scored_at", "-id")
    ):
        if score.scored_at > since[score.profile_id]:
            scores[score.profile_id].append(score)
    new_jobs = list(
        JobListing.objects.filter(active=True, created_at__gt=earliest)
        .order_by("created_at")
        .values_list("created_at", "skills")
    )
    created = [c for c, _ in new_jobs]
    day_skills = [skills for c, skills in new_jobs if c > default_since and isinstance(skills, list)]
    trending = _trending(day_skills)
    top_n = settings.DIGEST_TOP_JOBS
    inputs = []
    for person in people:
        matches = scores.get(person["id"], [])
        if not matches:
            continue
        have = {
            norm_skill(s)
            for key in ("programming_languages", "frameworks_libraries", "tools_platforms", "soft_skills")
            for s in person[key] or []
            if isinstance(s, str)
        }
        gaps: Counter[str] = Counter(
            s for m in matches[:top_n] for s in (m.job.skills or []) if isinstance(s, str) and norm_skill(s) not in have
        )
        language: Literal["en", "ja"] = "ja" if person["language"] == "ja" else "en"
        inputs.append(
            DigestInput(
                profile_id=person["id"],
                digest_date=due[person["id"]].isoformat(),
                language=language,
                requested_at=now.isoformat(),
                jobs=[_digest_job(m) for m in matches[:top_n]],
                total_new_jobs=len(created) - bisect.bisect_right(created, since[person["id"]]),
                total_matches=len(matches),
                trending=trending,
                skill_gaps=[name for name, _ in gaps.most_common(5)],
                person_skills=sorted(have)[:15],
            )
        )
    return inputs


def _digest_job(score: JobScore) -> DigestJob:
    job = score.job
    return DigestJob(
        job_id=job.id,
        title=one_line(job.title, 150),
        company=one_line(job.company, 80),
        location=one_line(job.location, 80),
        remote=job.remote,
        score=round(score.compatibility_score),
        reasons=[one_line(r, 120) for r in (score.match_factors or [])[:2] if isinstance(r, str)],
        is_fallback=score.is_fallback,
    )


def digests_generate(
    *, now: datetime | None = None, profile_ids: Sequence[int] | None = None, respect_hour: bool = True
) -> DigestRunSummary:
    """Digests for the people due now (or, with respect_hour=False, everyone without one for their
    local today). People without new matches get none today. Returns the new digests' ids."""
    now = now or timezone.now()
    due = _due_people(now=now, profile_ids=profile_ids, respect_hour=respect_hour)
    inputs = digest_inputs(due=due, now=now)
    summary = DigestRunSummary(due=len(due), no_new_matches=len(due) - len(inputs))
    for outcome in run_many(DIGEST, inputs) if inputs else []:
        if outcome.result is None:
            summary.failed += 1
        else:
            summary.fallbacks += outcome.result.is_fallback
    if inputs:
        # Whatever wrote today's row (this run or a racing one), an unsent one is reported as new:
        # the emails app claims each email before sending, so it still goes out once.
        wanted = {(i.profile_id, i.digest_date) for i in inputs}
        rows = DailyDigest.objects.filter(
            profile_id__in=[i.profile_id for i in inputs], digest_date__in={i.digest_date for i in inputs}
        ).values_list("id", "profile_id", "digest_date", "email_sent")
        summary.digest_ids = sorted(pk for pk, pid, day, sent in rows if (pid, day.isoformat()) in wanted and not sent)
    summary.generated = len(summary.digest_ids)
    return summary


def digest_store(*, task_input: DigestInput, output: DigestOutput, is_fallback: bool) -> DailyDigest:
    """The digest for (person, local date), created once; later calls return it (the DIGEST task's apply)."""
    requested = datetime.fromisoformat(task_input.requested_at)
    digest, _ = DailyDigest.objects.get_or_create(
        profile_id=task_input.profile_id,
        digest_date=date.fromisoformat(task_input.digest_date),
        defaults={
            "digest_title": one_line(output.title, 255),
            "digest_summary": output.summary.strip()[:2000],
            "top_jobs": [job.model_dump() for job in task_input.jobs],
            "total_new_jobs": task_input.total_new_jobs,
            "total_matches": task_input.total_matches,
            "market_trends": [one_line(t, 300) for t in output.market_trends[:3]],
            "skill_recommendations": [one_line(t, 300) for t in output.skill_recommendations[:3]],
            "is_fallback": is_fallback,
            "generation_time_seconds": round(max(0.0, (timezone.now() - requested).total_seconds()), 3),
        },
    )
    return digest


# --- what became of the digest's email (called by the emails app) ----------------------------


def digest_html_record(*, digest_id: int, html: str) -> None:
    """Keep the HTML of the digest's email on the digest (the digest API shows it)."""
    DailyDigest.objects.filter(pk=digest_id).update(digest_html=html)


def digest_sent_record(*, digest_id: int, sent_at: datetime) -> None:
    """The digest's email went out: idempotent (the first sending time stays)."""
    DailyDigest.objects.filter(pk=digest_id, email_sent=False).update(email_sent=True, email_sent_at=sent_at)


def digest_view_record(*, digest: DailyDigest, now: datetime | None = None) -> DailyDigest:
    """Its person read the digest (through the API): viewed once, the first time kept (a conditional UPDATE)."""
    now = now or timezone.now()
    if DailyDigest.objects.filter(pk=digest.pk, user_viewed=False).update(user_viewed=True, user_viewed_at=now):
        digest.user_viewed, digest.user_viewed_at = True, now
    return digest


def digest_open_record(*, digest_id: int) -> None:
    """The digest's email was opened: idempotent (a conditional UPDATE; repeats change nothing).

    NotFoundError when the digest no longer exists."""
    opened = DailyDigest.objects.filter(pk=digest_id, email_opened=False).update(email_opened=True)
    if not opened and not DailyDigest.objects.filter(pk=digest_id).exists():
        raise NotFoundError("No such digest.")


def digest_click_record(*, digest_id: int, job_id: int) -> None:
    """A job in the digest's email was clicked: recorded once per job; a click proves an open and a
    view. NotFoundError when the digest no longer exists."""
    now = timezone.now()
    with transaction.atomic():
        digest = DailyDigest.objects.select_for_update().filter(pk=digest_id).first()
        if digest is None:
            raise NotFoundError("No such digest.")
        clicked = list(digest.jobs_clicked or [])
        if job_id not in clicked:
            clicked.append(job_id)
        digest.jobs_clicked = clicked
        digest.email_opened = digest.email_clicked = True
        if not digest.user_viewed:
            digest.user_viewed, digest.user_viewed_at = True, now
        digest.save(update_fields=["jobs_clicked", "email_opened", "email_clicked", "user_viewed", "user_viewed_at"])
