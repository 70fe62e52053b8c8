"""Writes to leads: creating them, moving their stage, applying each task's output, recording failures.

Stage moves are conditional UPDATEs on the expected stage (`lead_stage_change`): of two concurrent
moves from the same stage exactly one wins, the other gets StageConflictError; each move leaves
one `LeadStageChange` row. Applies lock the lead row, so an apply and a staff click never interleave.
A rule-based fallback never replaces a model's output: it only fills what is empty or a fallback.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from catalog.jobs.models import JobFeed, JobListing
from catalog.leads.models import Lead, LeadSource, LeadStage, LeadStageChange, Offering
from config.errors import ConflictError, DomainError, NotFoundError
from llm.task import Provenance

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User

Stage = LeadStage
ALLOWED: dict[str, frozenset[str]] = {
    Stage.NEW: frozenset({Stage.QUALIFIED, Stage.DISQUALIFIED, Stage.IN_CONVERSATION, Stage.DISMISSED}),
    Stage.QUALIFIED: frozenset({Stage.ANALYZED, Stage.DISQUALIFIED, Stage.IN_CONVERSATION, Stage.DISMISSED}),
    Stage.DISQUALIFIED: frozenset({Stage.QUALIFIED, Stage.IN_CONVERSATION, Stage.DISMISSED}),
    Stage.ANALYZED: frozenset({Stage.IN_CONVERSATION, Stage.DISMISSED}),
    Stage.IN_CONVERSATION: frozenset({Stage.DRAFT_READY, Stage.DISMISSED}),
    Stage.DRAFT_READY: frozenset({Stage.IN_CONVERSATION, Stage.CONTACTED, Stage.DISMISSED}),
    Stage.CONTACTED: frozenset({Stage.DISMISSED}),
    Stage.DISMISSED: frozenset({Stage.NEW}),
}
SCRAPED_FEED_URL = "scraped:api"  # not http(s): the feed refresher never fetches it
SCRAPED_FEED_NAME = "Scraped postings (API)"
CHUNK = 1000


class StageConflictError(ConflictError):
    code = "stage_conflict"


def lead_stage_change(
    *,
    lead: Lead,
    to: str,
    expected_from: str,
    user: User | AnonymousUser | None = None,
    note: str = "",
) -> Lead:
    """Move `lead` from `expected_from` to `to` if it is still there (StageConflictError if not)."""
    if to not in ALLOWED.get(expected_from, frozenset()):
        raise DomainError(f"A lead cannot move from {expected_from} to {to}.", code="invalid_stage_transition")
    now = timezone.now()
    with transaction.atomic():
        moved = Lead.objects.filter(pk=lead.pk, stage=expected_from).update(
            stage=to, stage_changed_at=now, updated_at=now
        )
        if not moved:
            raise StageConflictError(
                f"Lead {lead.pk} is no longer {expected_from}: another change came first.",
                detail={"lead_id": lead.pk, "expected_from": expected_from, "to": to},
            )
        LeadStageChange.objects.create(
            lead_id=lead.pk,
            from_stage=expected_from,
            to_stage=to,
            changed_by=user if user is not None and user.is_authenticated else None,
            note=note[:300],
        )
    lead.stage, lead.stage_changed_at = to, now
    return lead


def _advance(lead: Lead, to: str, *, when: Iterable[str], note: str, user: User | AnonymousUser | None = None) -> None:
    """Inside an apply (the row is locked): move on if the lead is at one of `when` stages."""
    if lead.stage != to and lead.stage in set(when) and to in ALLOWED[lead.stage]:
        lead_stage_change(lead=lead, to=to, expected_from=lead.stage, user=user, note=note)


def lead_dismiss(*, lead: Lead, user: User | AnonymousUser | None = None, note: str = "") -> Lead:
    return lead_stage_change(lead=lead, to=Stage.DISMISSED, expected_from=lead.stage, user=user, note=note)


def lead_mark_contacted(*, lead_id: int, user: User | AnonymousUser | None = None, note: str = "") -> Lead:
    """The outreach email was sent (the emails layer calls this): draft_ready → contacted."""
    with transaction.atomic():
        lead = _locked(lead_id)
        if lead.stage == Stage.CONTACTED:
            return lead
        lead_stage_change(lead=lead, to=Stage.CONTACTED, expected_from=Stage.DRAFT_READY, user=user, note=note)
        Lead.objects.filter(pk=lead.pk).update(contacted_at=timezone.now())
    return lead


# --- creating leads --------------------------------------------------------------------------------


def leads_ensure(
    *, job_ids: Sequence[int] | None = None, source: str = LeadSource.FEED, limit: int | None = None
) -> int:
    """A lead for each given (or, by default, each active) listing that has none; how many were made.

    Insert-or-skip on the unique job: concurrent runs never duplicate a lead.
    """
    listings = JobListing.objects.filter(lead__isnull=True)
    listings = listings.filter(pk__in=list(job_ids)) if job_ids is not None else listings.filter(active=True)
    ids = list(listings.order_by("-created_at", "-id").values_list("pk", flat=True)[:limit])
    before = Lead.objects.filter(job_id__in=ids).count()
    for start in range(0, len(ids), CHUNK):
        Lead.objects.bulk_create(
            [Lead(job_id=pk, source=source) for pk in ids[start : start + CHUNK]], ignore_conflicts=True
        )
    return Lead.objects.filter(job_id__in=ids).count() - before


def lead_for_job(*, job_id: int, source: str = LeadSource.STAFF) -> Lead:
    """The job's lead, created when missing (NotFoundError for an unknown job)."""
    if not JobListing.objects.filter(pk=job_id).exists():
        raise NotFoundError(f"No job listing {job_id}.", code="job_not_found")
    lead, _ = Lead.objects.select_related("job", "conversation").get_or_create(
        job_id=job_id, defaults={"source": source}
    )
    return lead


def _scraped_feed() -> JobFeed:
    feed, _ = JobFeed.objects.get_or_create(url=SCRAPED_FEED_URL, defaults={"name": SCRAPED_FEED_NAME, "active": False})
    return feed


def scraped_postings_upsert(*, postings: Sequence[dict[str, Any]]) -> list[int]:
    """Raw postings (title, company, description, url[, location]) as listings of the scraped feed,
    upserted on their URL (or, without one, on a hash of their text); their job ids, in order."""
    from catalog.jobs.parsing import detect_language, detect_remote, find_salary, html_to_text
    from catalog.jobs.skills import extract_skills

    feed = _scraped_feed()
    rows: list[JobListing] = []
    guids: list[str] = []
    for raw in postings:
        title = html_to_text(str(raw.get("title") or "")).strip()[:300]
        if not title:
            raise DomainError("Every posting needs a title.", code="invalid_posting")
        description = html_to_text(str(raw.get("description") or ""))[:20000]
        company = str(raw.get("company") or "").strip()[:200]
        location = str(raw.get("location") or "").strip()[:200]
        url = str(raw.get("url") or "").strip()[:1000]
        key = url or f"{title}\n{company}\n{description[:500]}"
        guid = "scraped:" + hashlib.sha1(key.encode(), usedforsecurity=False).hexdigest()
        salary = find_salary(explicit="", description=description, title=title)
        values: dict[str, Any] = {
            "title": title,
            "company": company,
            "location": location,
            "remote": detect_remote(explicit="", texts=[title, location, description]),
            "description": description,
            "url": url if url.startswith(("http://", "https://")) else "",
            "skills": extract_skills(f"{title}\n{description}"),
            "language": detect_language(f"{title}\n{description}"),
            "posted_at": timezone.now(),
        }
        if salary is not None:
            values.update(
                salary_min=salary.minimum,
                salary_max=salary.maximum,
                salary_currency=salary.currency,
                salary_period=salary.period,
            )
        guids.append(guid)
        rows.append(JobListing(feed=feed, guid=guid, **values))
    if not rows:
        raise DomainError("Give at least one posting.", code="empty_postings")
    unique = {row.guid: row for row in rows}  # the same posting twice in one call is one listing
    JobListing.objects.bulk_create(
        list(unique.values()),
        update_conflicts=True,
        unique_fields=["feed", "guid"],
        update_fields=[
            "title",
            "company",
            "location",
            "remote",
            "description",
            "url",
            "skills",
            "language",
            "salary_min",
            "salary_max",
            "salary_currency",
            "salary_period",
            "updated_at",
        ],
    )
    by_guid = dict(JobListing.objects.filter(feed=feed, guid__in=list(unique)).values_list("guid", "pk"))
    job_ids = [by_guid[guid] for guid in guids]
    leads_ensure(job_ids=list(dict.fromkeys(job_ids)), source=LeadSource.SCRAPED)
    return job_ids


# --- applying task outputs -------------------------------------------------------------------------


def provenance_dict(provenance: Provenance) -> dict[str, Any]:
    return {
        "provider": provenance.provider,
        "model": provenance.model,
        "task_version": provenance.task_version,
        "is_fallback": provenance.is_fallback,
        "fallback_reason": provenance.fallback_reason,
        "generated_at": provenance.generated_at.isoformat(),
        "call_id": provenance.call_id,
    }


def _locked(lead_id: int) -> Lead:
    lead = Lead.objects.select_for_update().filter(pk=lead_id).first()
    if lead is None:
        raise NotFoundError(f"No lead {lead_id}.", code="lead_not_found")
    return lead


def _may_write(lead: Lead, task: str, provenance: Provenance) -> bool:
    """A fallback never replaces a model's output (it only fills what is empty or a fallback)."""
    stored = lead.provenance.get(task)
    return not (provenance.is_fallback and stored is not None and not stored.get("is_fallback", True))


def _save(lead: Lead, task: str, provenance: Provenance, fields: dict[str, Any]) -> None:
    for name, value in fields.items():
        setattr(lead, name, value)
    lead.provenance = {**lead.provenance, task: provenance_dict(provenance)}
    lead.last_error = ""
    lead.save(update_fields=[*fields, "provenance", "last_error", "updated_at"])


def lead_qualification_apply(*, lead_id: int, output: dict[str, Any], provenance: Provenance) -> None:
    """Store score, verdict and reason; a lead not yet past qualification takes the verdict's stage."""
    with transaction.atomic():
        lead = _locked(lead_id)
        if not _may_write(lead, provenance.task, provenance):
            return
        verdict = output["verdict"]
        _save(
            lead,
            provenance.task,
            provenance,
            {
                "score": int(output["score"]),
                "verdict": verdict,
                "reason": str(output["reason"])[:300],
                "qualified_at": provenance.generated_at,
            },
        )
        _advance(
            lead,
            Stage.QUALIFIED if verdict == "qualified" else Stage.DISQUALIFIED,
            when=(Stage.NEW, Stage.QUALIFIED, Stage.DISQUALIFIED),
            note=f"{provenance.task}: score {lead.score}",
        )


def lead_analysis_apply(*, lead_id: int, output: dict[str, Any], provenance: Provenance, advance: bool = True) -> None:
    """Store the analysis; a qualified lead becomes analyzed."""
    with transaction.atomic():
        lead = _locked(lead_id)
        if not _may_write(lead, "lead_analyze", provenance):
            return
        _save(lead, "lead_analyze", provenance, {"analysis": output, "analyzed_at": provenance.generated_at})
        if advance:
            _advance(lead, Stage.ANALYZED, when=(Stage.QUALIFIED,), note=provenance.task)


def _normalized(text: str) -> str:
    return " ".join(text.lower().replace("\u3000", " ").split())


def lead_pain_points_apply(
    *, lead_id: int, pain_points: list[dict[str, Any]], posting_text: str, provenance: Provenance
) -> None:
    """Store pain points; each says whether its evidence really is in the posting (model text is untrusted)."""
    haystack = _normalized(posting_text)
    points = [
        {
            **point,
            "evidence_found": bool(point.get("evidence")) and _normalized(point["evidence"]).strip(" .…") in haystack,
        }
        for point in pain_points
    ]
    with transaction.atomic():
        lead = _locked(lead_id)
        if not _may_write(lead, "lead_extract_pain_points", provenance):
            return
        _save(lead, "lead_extract_pain_points", provenance, {"pain_points": points})


def lead_parsed_apply(*, lead_id: int, output: dict[str, Any], provenance: Provenance) -> None:
    """Store the structured posting (a pay range given upside down is put the right way round)."""
    low, high = output.get("pay_min"), output.get("pay_max")
    if low is not None and high is not None and low > high:
        output = {**output, "pay_min": high, "pay_max": low}
    with transaction.atomic():
        lead = _locked(lead_id)
        if not _may_write(lead, provenance.task, provenance):
            return
        _save(lead, provenance.task, provenance, {"parsed": output})


def lead_task_fail(*, lead_id: int, task: str, reason: str) -> None:
    """A task run failed for good (e.g. a batch line out of retries): count it, keep the reason."""
    Lead.objects.filter(pk=lead_id).update(
        last_error=f"{task}: {reason}"[:500], updated_at=timezone.now(), failures=F("failures") + 1
    )


# --- conversation results --------------------------------------------------------------------------


def lead_conversation_attach(*, lead: Lead, conversation_id: int, user: User | AnonymousUser | None = None) -> Lead:
    """Point the lead at its (new) conversation and move it into the conversation stage."""
    with transaction.atomic():
        locked = _locked(lead.pk)
        locked.conversation_id = conversation_id
        locked.save(update_fields=["conversation", "updated_at"])
        _advance(
            locked,
            Stage.IN_CONVERSATION,
            when=(Stage.NEW, Stage.QUALIFIED, Stage.DISQUALIFIED, Stage.ANALYZED, Stage.DRAFT_READY),
            note="conversation started",
            user=user,
        )
    lead.conversation_id, lead.stage, lead.stage_changed_at = conversation_id, locked.stage, locked.stage_changed_at
    return lead


def lead_roi_apply(*, lead_id: int, roi: dict[str, Any], provenance: Provenance) -> None:
    figures = {key: value for key, value in roi.items() if key != "assumptions"}
    with transaction.atomic():
        lead = _locked(lead_id)
        if not _may_write(lead, "lead_roi", provenance):
            return
        _save(lead, "lead_roi", provenance, {"roi_estimate": figures, "roi_assumptions": list(roi["assumptions"])})


def lead_services_apply(*, lead_id: int, suggestions: list[dict[str, Any]], provenance: Provenance) -> None:
    """Keep only suggestions naming one of our active offerings (matched case-insensitively)."""
    ours = {name.lower(): (pk, name) for pk, name in Offering.objects.filter(active=True).values_list("pk", "name")}
    kept: list[dict[str, Any]] = []
    for suggestion in suggestions:
        match = ours.get(str(suggestion.get("offering", "")).strip().lower())
        if match is not None and match[0] not in {k["offering_id"] for k in kept}:
            kept.append({"offering_id": match[0], "offering": match[1], "why": str(suggestion.get("why", ""))[:500]})
    with transaction.atomic():
        lead = _locked(lead_id)
        if not _may_write(lead, "lead_services", provenance):
            return
        _save(lead, "lead_services", provenance, {"suggested_offerings": kept})


def lead_draft_apply(
    *, lead_id: int, subject: str, body: str, provenance: Provenance, user: User | AnonymousUser | None = None
) -> None:
    """Store the outreach draft (never sent from here); a lead in conversation becomes draft_ready."""
    with transaction.atomic():
        lead = _locked(lead_id)
        if not _may_write(lead, "lead_email", provenance):
            return
        _save(
            lead,
            "lead_email",
            provenance,
            {
                "draft_subject": " ".join(subject.split())[:200],
                "draft_body": body[:5000],
                "draft_generated_at": provenance.generated_at,
                "draft_is_fallback": provenance.is_fallback,
            },
        )
        _advance(lead, Stage.DRAFT_READY, when=(Stage.IN_CONVERSATION,), note="outreach draft written", user=user)


# --- offerings -------------------------------------------------------------------------------------

DEFAULT_OFFERINGS: list[dict[str, Any]] = [
    {
        "name": "Data pipelines & reporting automation",
        "solves": "Reports assembled by hand, spreadsheets and manual data entry eat analysts' week.",
        "keywords": [
            "data",
            "sql",
            "reporting",
            "reports",
            "excel",
            "spreadsheet",
            "etl",
            "dashboard",
            "analytics",
            "bigquery",
            "tableau",
            "data entry",
            "データ",
        ],
        "price_min": Decimal("4000"),
        "price_max": Decimal("12000"),
        "typical_hours_saved_per_week": Decimal("12"),
    },
    {
        "name": "Cloud & DevOps setup",
        "solves": "Deployments, infrastructure and on-call take engineers away from the product.",
        "keywords": [
            "aws",
            "gcp",
            "azure",
            "kubernetes",
            "docker",
            "devops",
            "ci/cd",
            "terraform",
            "linux",
            "sre",
            "cloud",
            "infrastructure",
            "インフラ",
        ],
        "price_min": Decimal("6000"),
        "price_max": Decimal("20000"),
        "typical_hours_saved_per_week": Decimal("10"),
    },
    {
        "name": "QA & test automation",
        "solves": "Manual regression testing slows every release and lets bugs through.",
        "keywords": ["qa", "testing", "test automation", "selenium", "jest", "quality", "テスト"],
        "price_min": Decimal("3000"),
        "price_max": Decimal("9000"),
        "typical_hours_saved_per_week": Decimal("8"),
    },
    {
        "name": "Web & mobile product development",
        "solves": "A backlog of features the team cannot ship fast enough.",
        "keywords": [
            "react",
            "typescript",
            "javascript",
            "django",
            "python",
            "flutter",
            "ios",
            "android",
            "frontend",
            "backend",
            "full-stack",
            "rails",
            "api",
            "java",
            "go",
            "swift",
            "kotlin",
            "開発",
        ],
        "price_min": Decimal("8000"),
        "price_max": Decimal("40000"),
        "typical_hours_saved_per_week": Decimal("20"),
    },
    {
        "name": "Developer onboarding & training",
        "solves": "New graduates need months of mentoring before they contribute.",
        "keywords": ["graduate", "new grad", "intern", "training", "mentoring", "junior", "新卒", "研修", "未経験"],
        "price_min": Decimal("2000"),
        "price_max": Decimal("6000"),
        "typical_hours_saved_per_week": Decimal("5"),
    },
    {
        "name": "Customer support automation",
        "solves": "Support tickets and customer inquiries outgrow the team.",
        "keywords": [
            "customer success",
            "customer support",
            "support",
            "tickets",
            "inquiries",
            "helpdesk",
            "bilingual",
            "カスタマー",
        ],
        "price_min": Decimal("3000"),
        "price_max": Decimal("10000"),
        "typical_hours_saved_per_week": Decimal("10"),
    },
]


def offerings_ensure_defaults() -> int:
    """The demo's offerings, created when missing (staff edits to existing ones are kept)."""
    created = 0
    for values in DEFAULT_OFFERINGS:
        _, made = Offering.objects.get_or_create(name=values["name"], defaults=values)
        created += int(made)
    return created
