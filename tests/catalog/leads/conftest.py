"""Lead test helpers: the demo offerings and leads on factory listings (the jobs tests' factory)."""

from __future__ import annotations

import pytest

from catalog.leads.models import Lead, Offering
from catalog.leads.services import lead_for_job, offerings_ensure_defaults
from tests.factories import JobListingFactory

DEVOPS_POSTING = (
    "We are growing fast and our AWS infrastructure needs an owner. Deployments are manual and on-call "
    "incidents keep the team up at night. You will automate our CI/CD with Docker and Kubernetes. "
    "Report to the CTO. Contact: hiring@shiba-infra.example.com"
)


@pytest.fixture
def offerings(db) -> list[Offering]:
    offerings_ensure_defaults()
    return list(Offering.objects.order_by("name"))


@pytest.fixture
def make_lead(offerings):
    """make_lead(**listing fields) -> a new lead on a new listing."""

    count = iter(range(1, 10_000))

    def make(**fields: object) -> Lead:
        # Distinct titles: identical prompts would be answered from the LLM cache.
        fields.setdefault("description", DEVOPS_POSTING)
        fields.setdefault("title", f"Junior DevOps Engineer (team {next(count)})")
        job = JobListingFactory(**fields)
        return lead_for_job(job_id=job.pk)

    return make


@pytest.fixture
def lead(make_lead) -> Lead:
    return make_lead(company="Shiba Infra", url="https://jobs.example.org/postings/rjj-3003")
