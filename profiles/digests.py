"""Daily digests: who is due (their local morning, nothing yet for their local today), the DIGEST
task over their top new matches, the stored row with its rendered HTML, the email, and tracking.

At most one digest per person per local date: the unique (profile, digest_date) constraint plus
get_or_create. A second run the same local day finds the row and does nothing; two racing runs
may both ask the model, but only one row is ever written and only that one is emailed.
"""

from __future__ import annotations

import bisect
import logging
import smtplib
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import transaction
from django.db.models import Max, QuerySet
from django.urls import reverse
from django.utils import timezone

from catalog.models import JobListing
from config.errors import NotFoundError
from emails import tracking
from emails.rendering import RenderedEmail, email_render, html_to_text
from emails.services import email_send
from llm.runtime import run_many
from profiles.digest_llm import DIGEST, DigestInput, DigestJob, DigestOutput, TrendingSkill
from profiles.models import DailyDigest, JobScore, UserProfile
from profiles.scoring.prefilter import is_remote_text, norm_skill
from profiles.scoring.text import one_line
from profiles.scoring_llm import SCORE_VERSION

logger = logging.getLogger("contentops.profiles")
TEMPLATE = "profiles/digest_email.html"
LABELS = {
    "en": {
        "matches": "Your top new matches",
        "trends": "Market trends",
        "skills": "Skills to grow",
        "score": "{score}/100",
        "remote": "remote",
        "rule_based": "rule-based estimate",
        "footer": "You get this email because you have a ContentOps profile.",
        "intro": "{matches} new matches among {jobs} new postings.",
    },
    "ja": {
        "matches": "本日の新着マッチ",
        "trends": "市場動向",
        "skills": "伸ばしたいスキル",
        "score": "{score}点",
        "remote": "リモート可",
        "rule_based": "ルールベースの推定",
        "footer": "ContentOpsのプロフィールをお持ちの方にお送りしています。",
        "intro": "新着求人{jobs}件のうち{matches}件がマッチしました。",
    },
}


def setting(name: str, default: Any) -> Any:
    return getattr(settings, name, default)


def zone(name: str) -> ZoneInfo:
    """The person's time zone; an unknown name falls back to UTC rather than breaking the run."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


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
    hour, window = setting("DIGEST_LOCAL_HOUR", 7), setting("DIGEST_WINDOW_HOURS", 3)
    queryset = UserProfile.objects.all()
    if profile_ids is not None:
        queryset = queryset.filter(id__in=list(profile_ids))
    # Which zones are in their morning is decided per distinct zone (a few dozen), not per person.
    dates: dict[str, date] = {}
    for time_zone in queryset.order_by().values_list("time_zone", flat=True).distinct():
        local = now.astimezone(zone(time_zone))
        # A window, not one hour: a run missed at 07:00 (worker down, deploy) is caught up at 08:00.
        if not respect_hour or hour <= local.hour < hour + window:
            dates[time_zone] = local.date()
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
    top_n = setting("DIGEST_TOP_JOBS", 5)
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
        language = person["language"] if person["language"] in ("en", "ja") else "en"
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
        # Whatever wrote today's row (this run or a racing one), an unsent one is ours to send:
        # the send claims it, so it still goes out once.
        wanted = {(i.profile_id, i.digest_date) for i in inputs}
        rows = DailyDigest.objects.filter(
            profile_id__in=[i.profile_id for i in inputs], digest_date__in={i.digest_date for i in inputs}
        ).values_list("id", "profile_id", "digest_date", "email_sent")
        summary.digest_ids = sorted(pk for pk, pid, day, sent in rows if (pid, day.isoformat()) in wanted and not sent)
    summary.generated = len(summary.digest_ids)
    return summary


def digest_store(*, task_input: DigestInput, output: DigestOutput, is_fallback: bool) -> DailyDigest:
    """The digest for (person, local date), created once with its rendered HTML; later calls return it."""
    requested = datetime.fromisoformat(task_input.requested_at)
    with transaction.atomic():
        digest, created = DailyDigest.objects.get_or_create(
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
        if created:
            # The HTML carries tracking links signed with the digest's id, so it's rendered after insert.
            digest.digest_html = digest_render(digest=digest, language=task_input.language).html
            digest.save(update_fields=["digest_html"])
    return digest


def digest_render(*, digest: DailyDigest, language: str) -> RenderedEmail:
    """The digest email: model text autoescaped (and phrase-wrapped for Japanese), our links only."""
    language = language if language in LABELS else "en"
    labels = LABELS[language]
    jobs = [
        {
            **job,
            "click_url": tracking.click_url(digest_id=digest.id, job_id=job["job_id"]),
            "score_label": labels["score"].format(score=job.get("score", "")),
            # "Remote · remote" says it twice: the label only when the location doesn't.
            "remote_label": labels["remote"]
            if job.get("remote") and not is_remote_text(job.get("location", ""))
            else "",
        }
        for job in digest.top_jobs
        if isinstance(job, dict) and isinstance(job.get("job_id"), int)
    ]
    context = {
        "digest": digest,
        "jobs": jobs,
        "language": language,
        "labels": labels,
        "intro": labels["intro"].format(matches=digest.total_matches, jobs=digest.total_new_jobs),
        "open_url": tracking.open_url(digest_id=digest.id),
        "site_url": settings.SITE_URL,
    }
    return email_render(template=TEMPLATE, context=context, subject=digest.digest_title or labels["matches"])


def digest_email_send(*, digest_id: int) -> bool:
    """Email a digest once: claimed with a conditional UPDATE, released again if sending fails.

    At most once: a worker dying between the claim and the SMTP hand-off loses that email rather
    than risking a duplicate. Returns False when already sent or the person has no address.
    """
    digest = DailyDigest.objects.select_related("profile__owner").filter(pk=digest_id).first()
    if digest is None:
        return False
    to = digest.profile.email or digest.profile.owner.email
    if not to:
        return False
    if not DailyDigest.objects.filter(pk=digest_id, email_sent=False).update(
        email_sent=True, email_sent_at=timezone.now()
    ):
        return False
    language = digest.profile.language
    try:
        email = (
            RenderedEmail(subject=one_line(digest.digest_title, 200), html=digest.digest_html, text="")
            if digest.digest_html
            else digest_render(digest=digest, language=language)
        )
        if not email.text:
            email = RenderedEmail(subject=email.subject, html=email.html, text=html_to_text(email.html))
        email_send(to=[to], email=email, headers={"X-ContentOps-Digest": str(digest.id)})
    except (smtplib.SMTPException, OSError):
        DailyDigest.objects.filter(pk=digest_id).update(email_sent=False, email_sent_at=None)
        raise
    return True


def digests_send_unsent(*, digest_ids: Sequence[int]) -> int:
    """Send each listed digest not yet emailed (the inline path; Celery sends one id per task)."""
    return sum(digest_email_send(digest_id=pk) for pk in digest_ids)


# --- tracking --------------------------------------------------------------------------------


def digest_mark_opened(*, digest_id: int) -> None:
    """The open pixel was fetched: idempotent (a conditional UPDATE; repeats change nothing)."""
    opened = DailyDigest.objects.filter(pk=digest_id, email_opened=False).update(email_opened=True)
    if not opened and not DailyDigest.objects.filter(pk=digest_id).exists():
        raise NotFoundError("No such digest.")


def _safe_job_url(url: str) -> str | None:
    parts = urlsplit(url or "")
    return url if parts.scheme in ("http", "https") and parts.netloc else None


def digest_record_click(*, digest_id: int, job_id: int) -> str:
    """A job link was clicked: record it once per job and return where to redirect.

    The target is the posting's own URL only when it's http(s); otherwise our own jobs page.
    """
    now = timezone.now()
    with transaction.atomic():
        digest = DailyDigest.objects.select_for_update().filter(pk=digest_id).first()
        if digest is None:
            raise NotFoundError("No such digest.")
        clicked = list(digest.jobs_clicked or [])
        if job_id not in clicked:
            clicked.append(job_id)
        digest.jobs_clicked = clicked
        digest.email_opened = digest.email_clicked = True  # a click proves the email was opened
        if not digest.user_viewed:
            digest.user_viewed, digest.user_viewed_at = True, now
        digest.save(update_fields=["jobs_clicked", "email_opened", "email_clicked", "user_viewed", "user_viewed_at"])
    job_url = JobListing.objects.filter(pk=job_id).values_list("url", flat=True).first()
    return _safe_job_url(job_url or "") or (settings.SITE_URL.rstrip("/") + reverse("v1:jobs-list") + f"?id={job_id}")


# --- reads -----------------------------------------------------------------------------------


def digests_for_user(
    *, user: AbstractBaseUser | AnonymousUser, profile: UserProfile | None = None
) -> QuerySet[DailyDigest]:
    """Digests a user may list: their own; staff everyone's (or one profile's). One query a page."""
    queryset = DailyDigest.objects.select_related("profile").order_by("-digest_date", "-id")
    if profile is not None:
        return queryset.filter(profile=profile)
    if getattr(user, "is_staff", False):
        return queryset
    return queryset.filter(profile__owner=user)


def digest_for_user(*, user: AbstractBaseUser | AnonymousUser, digest_id: int) -> DailyDigest:
    """One digest if the user may read it (own, or staff); otherwise a 404, as if it didn't exist."""
    digest = digests_for_user(user=user).filter(pk=digest_id).first()
    if digest is None:
        raise NotFoundError(f"No digest {digest_id}.", detail={"id": digest_id})
    return digest
