"""Factories for profiles and resumes (this folder's resume/profile tests)."""

import hashlib

import factory
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
    text = "Jane Doe\nPython developer"
    size_bytes = factory.LazyAttribute(lambda resume: len(resume.text.encode()))
    sha256 = factory.LazyAttribute(lambda resume: hashlib.sha256(resume.text.encode()).hexdigest())
    language = "en"
