"""Fixtures for the job email tests: a person, a pool of jobs that fit them, and clean per-process
state (the on-demand rate limiter)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from catalog.models import JobListing
from emails.jobmail.services import generation
from tests.factories import JobFactory, JobScoreFactory, ProfileFactory


@pytest.fixture(autouse=True)
def _no_generation_rate_limit(settings):
    # The limiter keeps its window in Redis or process memory; tests of the limit set their own.
    settings.EMAIL_GENERATION_RATE_LIMIT = 0
    generation._limiter.cache_clear()
    yield
    generation._limiter.cache_clear()


def make_jobs(count: int, *, days_old: float = 10, **fields) -> list[JobListing]:
    """Jobs that fit ProfileFactory's person (Python/Django/AWS, Tokyo), ingested `days_old` ago."""
    jobs = [JobFactory(**fields) for _ in range(count)]
    when = timezone.now() - timedelta(days=days_old)
    JobListing.objects.filter(pk__in=[j.pk for j in jobs]).update(created_at=when)
    return jobs


@pytest.fixture
def person():
    return ProfileFactory(full_name="Pat Example", language="en")


@pytest.fixture
def job_pool(person):
    """40 older jobs (10 scored for `person`), 12 this week (in Osaka: they fit a little less, so the
    sections before new arrivals take older ones), 3 editorial picks."""
    older = make_jobs(40, days_old=12)
    for rank, job in enumerate(older[:10]):
        JobScoreFactory(profile=person, job=job, compatibility_score=90 - rank)
    # A little less fit (another city, no role in the title): left for the new arrivals section.
    fresh = make_jobs(12, days_old=1, location="Osaka, Japan", title="Python Developer")
    JobListing.objects.filter(pk__in=[j.pk for j in older[30:33]]).update(is_editorial_pick=True)
    return {"older": older, "fresh": fresh, "editorial": older[30:33], "scored": older[:10]}
