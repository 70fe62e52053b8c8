"""The one home of the test suite's model factories and record builders (DESIGN.md §6).

Every suite imports its factories from here; a second copy of a factory is a defect.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from catalog.jobs.models import JobFeed, JobListing
from catalog.products.models import Brand, Category, Product
from llm.models import LLMCall
from profiles.models import DailyDigest, JobScore, Resume, UserProfile

# --- people ---------------------------------------------------------------------------------------


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"person{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.com")


class UserProfileFactory(factory.django.DjangoModelFactory):
    """A bare profile: what a person has before a resume is parsed."""

    class Meta:
        model = UserProfile
        django_get_or_create = ("owner",)

    owner = factory.SubFactory(UserFactory)
    user_id = factory.LazyAttribute(lambda profile: profile.owner.username)
    full_name = factory.Faker("name")


class ProfileFactory(UserProfileFactory):
    """A profile ready for matching: a new graduate in Tokyo with a Python/Django stack."""

    full_name = "Pat Example"
    email = factory.LazyAttribute(lambda o: o.owner.email)
    location = "Tokyo, Japan"
    time_zone = "Asia/Tokyo"
    language = "en"
    years_of_experience = 0.5
    career_level = "entry"
    programming_languages = factory.LazyFunction(lambda: ["Python", "JavaScript", "SQL"])
    frameworks_libraries = factory.LazyFunction(lambda: ["Django", "React"])
    tools_platforms = factory.LazyFunction(lambda: ["AWS", "Git"])
    desired_roles = factory.LazyFunction(lambda: ["Backend Engineer"])
    preferred_locations = factory.LazyFunction(lambda: ["Tokyo", "Remote"])
    salary_range_min = 4_000_000
    salary_range_max = 6_000_000


class ResumeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Resume

    profile = factory.SubFactory(UserProfileFactory)
    filename = "resume.txt"
    kind = Resume.Kind.TEXT
    text = factory.Sequence(lambda n: f"Resume {n}\nPython developer")
    size_bytes = factory.LazyAttribute(lambda resume: len(resume.text.encode()))
    sha256 = factory.LazyAttribute(lambda resume: hashlib.sha256(resume.text.encode()).hexdigest())
    language = "en"


# --- products -------------------------------------------------------------------------------------


class BrandFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Brand
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Brand {n}")
    slug = factory.LazyAttribute(lambda o: o.name.lower().replace(" ", "-"))


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Category {n}")
    slug = factory.LazyAttribute(lambda o: o.name.lower().replace(" ", "-"))


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    name = factory.Sequence(lambda n: f"Instrument {n}")
    slug = factory.Sequence(lambda n: f"instrument-{n}")
    brand = factory.SubFactory(BrandFactory)
    category = factory.SubFactory(CategoryFactory)
    description = "A solid-body electric guitar with two humbuckers."
    msrp_price = Decimal("1299.00")
    specs = factory.LazyFunction(lambda: {"Body": "Mahogany", "Frets": 22})


# --- jobs -----------------------------------------------------------------------------------------


class JobFeedFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = JobFeed

    url = factory.Sequence(lambda n: f"https://feeds.example.com/{n}.rss")
    name = factory.Sequence(lambda n: f"Feed {n}")


class JobListingFactory(factory.django.DjangoModelFactory):
    """A posting from a feed, as the feed tests see them."""

    class Meta:
        model = JobListing

    feed = factory.SubFactory(JobFeedFactory)
    guid = factory.Sequence(lambda n: f"guid-{n}")
    title = factory.Sequence(lambda n: f"Junior Engineer {n}")
    company = "Acme K.K."
    location = "Tokyo, Japan"
    posted_at = factory.LazyFunction(lambda: datetime(2026, 11, 1, 9, 0, tzinfo=UTC))
    skills = factory.LazyFunction(lambda: ["Python"])


class JobFactory(factory.django.DjangoModelFactory):
    """A posting as matching sees them: no feed, salary and skills that fit `ProfileFactory`."""

    class Meta:
        model = JobListing

    guid = factory.Sequence(lambda n: f"job-{n}")
    title = factory.Sequence(lambda n: f"Backend Engineer (New Grad) {n}")
    company = "Acme KK"
    location = "Tokyo, Japan"
    remote = False
    salary_min = 4_500_000
    salary_max = 6_500_000
    salary_currency = "JPY"
    description = "Build APIs with Python and Django on AWS. New graduates welcome."
    url = factory.Sequence(lambda n: f"https://jobs.example.com/{n}")
    skills = factory.LazyFunction(lambda: ["Python", "Django", "AWS"])


# --- matching -------------------------------------------------------------------------------------


class JobScoreFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = JobScore

    profile = factory.SubFactory(ProfileFactory)
    job = factory.SubFactory(JobFactory)
    compatibility_score = 80.0
    confidence_score = 0.7
    ai_reasoning = "Strong skills overlap."
    match_factors = factory.LazyFunction(lambda: ["Python", "Django"])
    mismatch_factors = factory.LazyFunction(list)
    score_version = "1"


class DigestFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DailyDigest

    profile = factory.SubFactory(ProfileFactory)
    digest_date = factory.LazyFunction(lambda: date(2025, 1, 16))
    digest_title = "3 new matches"
    digest_summary = "Your best match is Backend Engineer at Acme."
    top_jobs = factory.LazyFunction(list)
    total_new_jobs = 10
    total_matches = 3


# --- the llm ledger -------------------------------------------------------------------------------


def make_call(*, days_ago: float = 0, **overrides: Any) -> LLMCall:
    """One ledger row (a successful live gpt-4o-mini call unless overridden), `days_ago` in the past.

    A row that is not a success or a cache hit needs a reason: `error_class` defaults to "server_error".
    """
    values: dict[str, Any] = {
        "task": "product_copy",
        "task_version": 1,
        "provider": "openai",
        "model": "gpt-4o-mini",
        "mode": LLMCall.Mode.NOW,
        "status": LLMCall.Status.SUCCEEDED,
        "attempts": 1,
        "tokens_in": 100,
        "tokens_out": 50,
        "cost_usd": Decimal("0.000100"),
    }
    values.update(overrides)
    if values["status"] not in (LLMCall.Status.SUCCEEDED, LLMCall.Status.CACHED):
        values.setdefault("error_class", "server_error")
    call = LLMCall.objects.create(**values)
    if days_ago:
        # created_at is auto_now_add: move it afterwards.
        LLMCall.objects.filter(pk=call.pk).update(created_at=timezone.now() - timedelta(days=days_ago))
    return call
