"""Seed 003's Python interface, thin over the services: `ConversationalLeadAgent` and `process_jobs_batch`.

A `job_posting` is a JobListing, a job id, or a raw posting dict (title, company, description, url),
which is upserted as a scraped listing first. Conversations live in the database, not in the object:
two agents (or two processes) talking about the same posting continue the same conversation.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from catalog.jobs.models import JobListing
from catalog.leads import conversations as conv
from catalog.leads.models import Lead, LeadSource
from catalog.leads.services import lead_for_job, scraped_postings_upsert
from config.errors import DomainError

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User

JobPosting = JobListing | int | dict[str, Any]


def lead_for_posting(job_posting: JobPosting) -> Lead:
    """The lead of a listing, a job id, or a raw posting (upserted as scraped)."""
    if isinstance(job_posting, JobListing):
        return lead_for_job(job_id=job_posting.pk)
    if isinstance(job_posting, int):
        return lead_for_job(job_id=job_posting)
    if isinstance(job_posting, dict):
        if isinstance(job_posting.get("id"), int) and not job_posting.get("description"):
            return lead_for_job(job_id=job_posting["id"])
        (job_id,) = scraped_postings_upsert(postings=[job_posting])
        return lead_for_job(job_id=job_id, source=LeadSource.SCRAPED)
    raise DomainError(f"Not a job posting: {type(job_posting).__name__}.", code="invalid_posting")


class ConversationalLeadAgent:
    """The seed's eight methods; each returns the stored output (a dict, or text for questions)."""

    def __init__(self, *, user: User | AnonymousUser | None = None) -> None:
        self.user = user
        self.lead: Lead | None = None

    def _lead(self, job_posting: JobPosting) -> Lead:
        self.lead = lead_for_posting(job_posting)
        return self.lead

    def start_conversation(self, job_posting: JobPosting) -> dict[str, Any] | str:
        return conv.lead_conversation_start(lead=self._lead(job_posting), user=self.user).output

    def ask_follow_up(self, job_posting: JobPosting, question: str) -> dict[str, Any] | str:
        return conv.lead_conversation_ask(lead=self._lead(job_posting), question=question, user=self.user).output

    def get_roi_estimate(self, job_posting: JobPosting) -> dict[str, Any] | str:
        return conv.lead_conversation_roi(lead=self._lead(job_posting), user=self.user).output

    def extract_pain_points(self, job_posting: JobPosting) -> dict[str, Any] | str:
        return conv.lead_conversation_pain_points(lead=self._lead(job_posting), user=self.user).output

    def suggest_services(self, job_posting: JobPosting) -> dict[str, Any] | str:
        return conv.lead_conversation_services(lead=self._lead(job_posting), user=self.user).output

    def generate_email_draft(self, job_posting: JobPosting) -> dict[str, Any] | str:
        return conv.lead_conversation_email_draft(lead=self._lead(job_posting), user=self.user).output

    def get_conversation_summary(self, job_posting: JobPosting | None = None) -> dict[str, Any]:
        lead = self._lead(job_posting) if job_posting is not None else self.lead
        if lead is None:
            raise DomainError("No conversation yet: start one with a job posting.", code="no_conversation")
        return conv.lead_conversation_summary(lead=lead)

    def analyze_lead_conversationally(self, job_posting: JobPosting) -> dict[str, Any]:
        return conv.lead_analyze_conversationally(lead=self._lead(job_posting), user=self.user)


def process_jobs_batch(
    jobs: Sequence[JobPosting],
    task_type: str = "analyze",
    wait_for_completion: bool = False,
    model: str | None = None,
) -> dict[str, Any]:
    """Seed 003's one-call batch: leads for `jobs` (raw postings upserted as scraped), one batch of
    `task_type`, submitted; with `wait_for_completion`, run to the end where that can finish now."""
    from catalog.leads.funnel import lead_batch_process

    # Raw postings are upserted together (one query per chunk, not per posting).
    raw = [job for job in jobs if isinstance(job, dict) and job.get("description") is not None]
    raw_ids = {id(job) for job in raw}
    job_ids = [lead_for_posting(job).job_id for job in jobs if id(job) not in raw_ids]
    if raw:
        job_ids += scraped_postings_upsert(postings=raw)
    return lead_batch_process(
        task_type=task_type, job_ids=job_ids, wait_for_completion=wait_for_completion, model=model
    ).as_dict()
