"""Factories for profiles and resumes, and the autouse fixture their test modules import."""

import hashlib

import factory
import pytest
from django.contrib.auth import get_user_model

from profiles.models import Resume, UserProfile


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"person{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.com")


class UserProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = UserProfile

    owner = factory.SubFactory(UserFactory)
    user_id = factory.LazyAttribute(lambda profile: profile.owner.username)
    full_name = factory.Faker("name")


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


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    """Import into a test module: the shared user fixtures hash passwords with a fast hasher
    (PBKDF2 costs about a second per user on a busy machine)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
