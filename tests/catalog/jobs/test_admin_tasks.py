"""Admin for feeds and listings (constant queries, refresh action, escaping), the Celery task and its schedule."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from catalog.jobs.models import JobFeed, JobListing
from catalog.jobs.tasks import job_feeds_refresh_task
from config.periodic import periodic_specs, periodic_tasks_sync
from tests.catalog.jobs_helpers import FeedServer, rss
from tests.factories import JobFeedFactory, JobListingFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    superuser = get_user_model().objects.create_superuser("root", "root@example.com", "pw-root-123")
    client.force_login(superuser)
    return client


@pytest.fixture
def server(settings):
    settings.FEED_ALLOWED_HOSTS = ["127.0.0.1"]
    srv = FeedServer().start()
    yield srv
    srv.stop()


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("changelist", ["admin:catalog_jobfeed_changelist", "admin:catalog_joblisting_changelist"])
def test_changelists_use_a_constant_number_of_queries(admin_client, changelist):
    # Given a few listings over a few feeds, then many more over many more feeds
    for _ in range(2):
        JobListingFactory()
    few = _queries(admin_client, reverse(changelist))
    for _ in range(20):
        JobListingFactory()
    many = _queries(admin_client, reverse(changelist))
    assert many == few


def test_listing_changelist_filters_and_search(admin_client):
    JobListingFactory(title="Remote Go role", remote=True, is_editorial_pick=True)
    JobListingFactory(title="Office role")
    url = reverse("admin:catalog_joblisting_changelist")

    for params in ({"remote__exact": "1"}, {"is_editorial_pick__exact": "1"}, {"q": "Go role"}):
        response = admin_client.get(url, params)
        assert response.status_code == 200
        assert [obj.title for obj in response.context["cl"].result_list] == ["Remote Go role"]


def test_feed_text_is_escaped_in_the_admin(admin_client):
    JobListingFactory(title='<script>alert("x")</script>')
    response = admin_client.get(reverse("admin:catalog_joblisting_changelist"))
    assert b'<script>alert("x")</script>' not in response.content
    assert b"&lt;script&gt;" in response.content


def test_refresh_now_action(admin_client, server, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    url = server.add("/jobs.rss", body=rss([{"title": "Junior SRE", "guid": "s-1"}]))
    feed = JobFeedFactory(url=url)
    broken = JobFeedFactory(url="http://10.0.0.1/feed.rss")

    response = admin_client.post(
        reverse("admin:catalog_jobfeed_changelist"),
        {"action": "refresh_now", "_selected_action": [feed.pk, broken.pk]},
        follow=True,
    )

    assert response.status_code == 200
    message = " ".join(str(m) for m in response.context["messages"])
    assert "1 new" in message
    assert "1 error(s)" in message
    assert JobListing.objects.filter(feed=feed).count() == 1
    broken.refresh_from_db()
    assert broken.last_status == JobFeed.FetchStatus.ERROR


def test_task_refreshes_given_feeds_and_is_safe_to_redeliver(server):
    url = server.add("/jobs.rss", body=rss([{"title": "Junior SRE", "guid": "s-1"}, {"title": "QA", "guid": "s-2"}]))
    feed = JobFeedFactory(url=url)

    first = job_feeds_refresh_task.apply(kwargs={"feed_ids": [feed.pk]}).get()
    again = job_feeds_refresh_task.apply(kwargs={"feed_ids": [feed.pk]}).get()

    assert first["totals"]["new"] == 2
    assert again["totals"] == {"feeds": 1, "new": 0, "updated": 0, "unchanged": 2, "skipped": 0, "errors": 0}
    assert JobListing.objects.filter(feed=feed).count() == 2
    assert job_feeds_refresh_task.acks_late is True


def test_hourly_refresh_is_scheduled():
    spec = next(s for s in periodic_specs() if s.task == "catalog.job_feeds_refresh")
    assert spec.crontab == "0 * * * *"
    assert job_feeds_refresh_task.name == spec.task

    report = periodic_tasks_sync()
    assert spec.name in report.created
