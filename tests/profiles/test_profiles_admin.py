"""Profile admin: search, one query for the list's owners, and resume text shown escaped."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tests.factories import ResumeFactory, UserProfileFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(staff_user) -> Client:
    staff_user.is_superuser = True
    staff_user.save()
    client = Client()
    client.force_login(staff_user)
    return client


def test_the_changelist_searches_user_id_name_and_email(admin_client):
    UserProfileFactory(user_id="tanaka", full_name="田中 一郎", email="ichiro@example.jp")
    UserProfileFactory(user_id="smith", full_name="John Smith", email="john@example.com")

    for term in ("tanaka", "田中", "ichiro@"):
        page = admin_client.get("/admin/profiles/userprofile/", {"q": term}).content.decode()
        assert "tanaka" in page, term
        assert "smith" not in page, term


def test_the_changelist_query_count_does_not_grow_with_rows(admin_client):
    def queries_for_changelist() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert admin_client.get("/admin/profiles/userprofile/").status_code == 200
        return len(captured)

    UserProfileFactory.create_batch(2)
    few = queries_for_changelist()
    UserProfileFactory.create_batch(10)

    assert queries_for_changelist() == few  # owners come joined (list_select_related)


def test_resume_text_is_escaped_in_the_inline(admin_client):
    resume = ResumeFactory(text='<script>alert("x")</script> Jane Doe')

    page = admin_client.get(f"/admin/profiles/userprofile/{resume.profile_id}/change/").content.decode()

    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; Jane Doe" in page
    assert '<script>alert("x")</script>' not in page


def test_ai_insights_are_read_only_in_the_admin(admin_client):
    profile = UserProfileFactory(ai_profile_summary="<b>model text</b>")

    page = admin_client.get(f"/admin/profiles/userprofile/{profile.pk}/change/").content.decode()

    assert 'name="ai_profile_summary"' not in page
    assert "&lt;b&gt;model text&lt;/b&gt;" in page
