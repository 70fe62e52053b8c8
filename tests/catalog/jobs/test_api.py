"""GET /api/v1/jobs/ (filters, pagination, query count) and POST /api/v1/jobs/refresh (permissions, modes)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from catalog.jobs import tasks as jobs_tasks
from catalog.jobs.models import JobListing
from config.services import api_key_create
from tests.catalog.jobs_helpers import FeedServer, rss
from tests.factories import JobFeedFactory, JobListingFactory

pytestmark = pytest.mark.django_db


LIST = "/api/v1/jobs/"
REFRESH = "/api/v1/jobs/refresh"


@pytest.fixture
def listings():
    feed = JobFeedFactory()
    return {
        "py_tokyo": JobListingFactory(
            feed=feed,
            title="Junior Python Developer",
            location="Tokyo, Japan",
            skills=["Python", "Django"],
            posted_at=datetime(2026, 11, 10, tzinfo=UTC),
        ),
        "js_remote": JobListingFactory(
            feed=feed,
            title="Frontend Engineer",
            company="Lumen Apps",
            location="Remote (Japan)",
            remote=True,
            skills=["JavaScript", "React"],
            posted_at=datetime(2026, 11, 12, tzinfo=UTC),
        ),
        "ja_osaka": JobListingFactory(
            feed=feed,
            title="データアナリスト",
            location="大阪府大阪市",
            description="データ分析とSQL",
            skills=["Data Analysis", "SQL", "Python"],
            posted_at=datetime(2026, 11, 1, tzinfo=UTC),
        ),
        "inactive": JobListingFactory(feed=feed, title="Closed Python role", active=False, skills=["Python"]),
    }


def _titles(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [row["title"] for row in response.json()["results"]]


def test_list_requires_authentication(api_client):
    assert api_client.get(LIST).status_code == 401


def test_list_shows_active_listings_newest_first(user_client, listings):
    response = user_client.get(LIST)
    assert _titles(response) == ["Frontend Engineer", "Junior Python Developer", "データアナリスト"]
    row = response.json()["results"][0]
    assert row["feed"]["id"] == listings["js_remote"].feed_id
    assert row["skills"] == ["JavaScript", "React"]
    assert {"salary_min", "salary_max", "salary_currency", "salary_period", "remote", "url", "posted_at"} <= set(row)


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"q": "python"}, ["Junior Python Developer"]),
        ({"q": "lumen"}, ["Frontend Engineer"]),  # company
        ({"q": "データ分析"}, ["データアナリスト"]),  # description, Japanese
        ({"location": "tokyo"}, ["Junior Python Developer"]),
        ({"location": "大阪"}, ["データアナリスト"]),
        ({"remote": "true"}, ["Frontend Engineer"]),
        ({"remote": "false"}, ["Junior Python Developer", "データアナリスト"]),
        ({"skill": "Python"}, ["Junior Python Developer", "データアナリスト"]),
        ({"skill": "js"}, ["Frontend Engineer"]),  # alias → JavaScript
        ({"skill": "パイソン"}, ["Junior Python Developer", "データアナリスト"]),
        ({"skill": "Java"}, []),  # not a substring of JavaScript
        ({"posted_since": "2026-11-05T00:00:00Z"}, ["Frontend Engineer", "Junior Python Developer"]),
        ({"posted_since": "2026-11-05"}, ["Frontend Engineer", "Junior Python Developer"]),
        ({"skill": "python", "location": "osaka"}, []),
    ],
)
def test_list_filters(user_client, listings, params, expected):
    assert _titles(user_client.get(LIST, params)) == expected


def test_invalid_filter_is_a_400_in_the_error_shape(user_client):
    response = user_client.get(LIST, {"posted_since": "yesterday"})
    assert response.status_code == 400
    assert "error" in response.json()


def test_list_is_paginated(user_client, db):
    JobListingFactory.create_batch(55)
    body = user_client.get(LIST).json()
    assert body["count"] == 55
    assert len(body["results"]) == 50
    assert body["next"]


def test_list_query_count_does_not_grow_with_rows(user_client, django_assert_num_queries):
    # Given listings spread over several feeds
    for _ in range(3):
        JobListingFactory()
    with django_assert_num_queries(2):  # COUNT + one page query with the feed joined
        user_client.get(LIST, {"skill": "python"})
    for _ in range(30):
        JobListingFactory()
    with django_assert_num_queries(2):
        response = user_client.get(LIST, {"skill": "python"})
    assert response.json()["count"] == 33


# --- refresh ----------------------------------------------------------------------------------------------


def test_refresh_anonymous_is_401(api_client):
    assert api_client.post(REFRESH).status_code == 401


def test_refresh_regular_user_is_403(user_client):
    assert user_client.post(REFRESH).status_code == 403


@pytest.fixture
def served_feed(settings):
    settings.FEED_ALLOWED_HOSTS = ["127.0.0.1"]
    server = FeedServer().start()
    url = server.add("/jobs.rss", body=rss([{"title": "Junior Go Engineer", "guid": "g-1"}]))
    yield JobFeedFactory(url=url, name="served")
    server.stop()


def test_refresh_staff_runs_inline_without_a_broker(staff_client, served_feed, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True

    response = staff_client.post(REFRESH, {}, format="json")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "done"
    assert body["task_id"] is None
    assert body["totals"] == {"feeds": 1, "new": 1, "updated": 0, "unchanged": 0, "skipped": 0, "errors": 0}
    assert JobListing.objects.filter(feed=served_feed, guid="g-1").exists()


def test_refresh_with_a_service_api_key(api_client, staff_user, served_feed, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    _, raw_key = api_key_create(name="feeds bot", user=staff_user, scopes=["read", "write", "staff"])

    response = api_client.post(REFRESH, {"feed_ids": [served_feed.pk]}, format="json", HTTP_X_API_KEY=raw_key)

    assert response.status_code == 200
    assert [f["feed_name"] for f in response.json()["feeds"]] == ["served"]


def test_refresh_with_a_broker_queues_after_commit(
    staff_client, settings, monkeypatch, django_capture_on_commit_callbacks
):
    # Given a broker (not eager), the request only enqueues, once the transaction commits
    settings.CELERY_TASK_ALWAYS_EAGER = False
    feed = JobFeedFactory()
    sent: list[dict] = []
    monkeypatch.setattr(jobs_tasks.job_feeds_refresh_task, "apply_async", lambda *args, **kwargs: sent.append(kwargs))

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = staff_client.post(REFRESH, {"feed_ids": [feed.pk]}, format="json")
        assert sent == []  # nothing leaves before the commit

    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "queued"
    assert len(callbacks) == 1
    callbacks[0]()
    assert sent == [{"kwargs": {"feed_ids": [feed.pk], "on_demand": True}, "task_id": body["task_id"]}]


def test_refresh_unknown_feed_ids_are_a_400(staff_client):
    response = staff_client.post(REFRESH, {"feed_ids": [999999]}, format="json")
    assert response.status_code == 400
