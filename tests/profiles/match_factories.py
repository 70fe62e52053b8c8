"""Factories for the matching tests (people with profiles, job listings, scores, digests)."""

from datetime import date

import factory
from django.contrib.auth import get_user_model

from catalog.models import JobListing
from profiles.models import DailyDigest, JobScore, UserProfile


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"person{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.com")


class ProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = UserProfile
        django_get_or_create = ("owner",)

    owner = factory.SubFactory(UserFactory)
    user_id = factory.LazyAttribute(lambda o: o.owner.username)
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


class JobFactory(factory.django.DjangoModelFactory):
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
