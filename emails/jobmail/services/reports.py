"""The seed's other services: validating job matches, metrics, clearing the caches."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone

from emails.jobmail import metrics
from emails.jobmail.lines import lines_cache_clear
from emails.jobmail.llm import SECTION_KEYS
from emails.jobmail.sections import section_sizes, sections_select
from emails.jobmail.selectors import job_universe, jobs_info, people_data
from emails.jobmail.services.generation import WORDS_GENERATION, generation_bump
from profiles.models import UserProfile


def job_matches_validate(*, sections: dict[str, list[int]]) -> dict[str, Any]:
    """Check a section → job ids mapping: the six sections in order, sizes, no job twice, jobs that
    exist and are active. Errors make it invalid; short sections are warnings."""
    sizes = section_sizes()
    errors: list[str] = []
    warnings: list[str] = []
    keys = list(sections)
    unknown = [k for k in keys if k not in SECTION_KEYS]
    if unknown:
        errors.append(f"unknown section(s): {', '.join(unknown)}")
    missing = [k for k in SECTION_KEYS if k not in sections]
    if missing:
        errors.append(f"missing section(s): {', '.join(missing)}")
    if [k for k in keys if k in SECTION_KEYS] != [k for k in SECTION_KEYS if k in sections]:
        errors.append(f"sections out of order: expected {', '.join(SECTION_KEYS)}")
    all_ids = [job_id for key in keys for job_id in sections.get(key) or []]
    seen: set[int] = set()
    duplicates: set[int] = set()
    for job_id in all_ids:
        (duplicates if job_id in seen else seen).add(job_id)
    if duplicates:
        errors.append(f"job(s) in more than one place: {', '.join(map(str, sorted(duplicates)))}")
    active = set(jobs_info(job_ids=seen)) if seen else set()
    inactive = sorted(seen - active)
    if inactive:
        errors.append(f"unknown or inactive job(s): {', '.join(map(str, inactive))}")
    report = []
    for key in SECTION_KEYS:
        ids = list(sections.get(key) or [])
        wanted = sizes[key]
        if len(ids) > wanted:
            errors.append(f"{key}: {len(ids)} jobs, at most {wanted}")
        elif len(ids) < wanted:
            warnings.append(f"{key}: {len(ids)} of {wanted} jobs")
        report.append({"key": key, "wanted": wanted, "count": len(ids), "job_ids": ids})
    return {
        "is_valid": not errors,
        "errors": errors,
        "warnings": warnings,
        "sections": report,
        "total_jobs": len(all_ids),
        "duplicates": sorted(duplicates),
    }


def job_matches_for_person(
    *, profile: UserProfile, language: str | None = None, now: datetime | None = None
) -> dict[str, Any]:
    """The sections the person would get now, validated; each says where its jobs came from and
    why it is short."""
    universe = job_universe(now=now or timezone.now())
    data = people_data(profile_ids=[profile.pk], universe=universe, language=language)
    selection = sections_select(person=data.people[0], data=data, universe=universe)
    report = job_matches_validate(sections=selection.section_jobs())
    for entry, section in zip(report["sections"], selection.sections, strict=True):
        entry["sources"] = section.sources
        entry["note"] = section.note
    return report


def email_metrics() -> dict[str, Any]:
    """The seed's metrics: total/successful/failed requests, cache hits, avg response time (ms),
    total tokens; the same per language."""
    return metrics.metrics_read()


def email_cache_clear(*, user: Any = None) -> dict[str, Any]:
    """Forget cached email words: one person's (`user`), or everyone's and the shared job lines."""
    if user is not None:
        generation_bump(f"{WORDS_GENERATION}:{user.pk}")
        return {"scope": "user", "user_id": user.pk}
    generation_bump(WORDS_GENERATION)
    lines_cache_clear()
    return {"scope": "all", "user_id": None}
