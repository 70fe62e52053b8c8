"""Feed refresh: upsert on (feed, guid), conditional GET, broken feeds isolated, file imports, command."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.db import DatabaseError

from catalog.jobs import services as jobs_services
from catalog.jobs.models import JobFeed, JobListing
from catalog.jobs.parsing import FeedParseError
from catalog.jobs.selectors import job_feeds_due
from catalog.jobs.services import (
    BUNDLED_FEEDS_DIR,
    FeedFileError,
    job_feed_refresh,
    job_feeds_refresh,
    job_listings_import_file,
)
from tests.catalog.jobs_helpers import FeedServer, rss
from tests.factories import JobFeedFactory

pytestmark = pytest.mark.django_db

ITEMS = [
    {"title": "Junior Python Developer", "guid": "p-1", "description": "Python, Django. Salary: $60,000 - $70,000"},
    {
        "title": "バックエンドエンジニア（新卒）",
        "guid": "p-2",
        "description": "勤務地：大阪府\n給与：年収400万円〜500万円\nフルリモート",
    },
    {"title": "QA Intern", "guid": "p-3", "description": "Selenium. On-site only."},
]


@pytest.fixture
def server(settings):
    settings.FEED_ALLOWED_HOSTS = ["127.0.0.1"]
    srv = FeedServer().start()
    yield srv
    srv.stop()


def _feed(server: FeedServer, path: str = "/jobs.rss", body: bytes | None = None, **route) -> JobFeed:
    url = server.add(path, body=rss(ITEMS) if body is None else body, **route)
    return JobFeedFactory(url=url, name=path.strip("/"))


def test_refresh_creates_listings_and_records_the_fetch(server):
    feed = _feed(server, headers={"ETag": '"v1"', "Last-Modified": "Sun, 01 Nov 2026 09:00:00 GMT"})

    outcome = job_feed_refresh(feed=feed)

    assert (outcome.status, outcome.new, outcome.updated, outcome.unchanged) == ("ok", 3, 0, 0)
    feed.refresh_from_db()
    assert feed.last_status == JobFeed.FetchStatus.OK
    assert feed.etag == '"v1"'
    assert feed.last_modified == "Sun, 01 Nov 2026 09:00:00 GMT"
    assert feed.last_error == ""
    assert feed.last_fetched_at is not None
    assert feed.last_success_at is not None
    assert feed.last_summary == "3 new, 0 updated, 0 unchanged"
    ja = JobListing.objects.get(feed=feed, guid="p-2")
    assert (ja.location, ja.remote, ja.salary_min, ja.salary_currency, ja.language) == (
        "大阪府",
        True,
        4_000_000,
        "JPY",
        "ja",
    )
    assert JobListing.objects.get(feed=feed, guid="p-1").skills == ["Python", "Django"]


def test_refetching_the_same_feed_creates_no_duplicates_and_counts_changes(server):
    # Given a feed already ingested once
    feed = _feed(server)
    job_feed_refresh(feed=feed)

    # When it is fetched again unchanged, then with one entry edited and one added
    again = job_feed_refresh(feed=feed)
    changed = [dict(ITEMS[0], title="Junior Python Developer (Django)"), *ITEMS[1:], {"title": "New", "guid": "p-4"}]
    server.add("/jobs.rss", body=rss(changed))
    third = job_feed_refresh(feed=feed)

    # Then nothing is duplicated, and the report tells new/updated/unchanged apart
    assert (again.new, again.updated, again.unchanged) == (0, 0, 3)
    assert (third.new, third.updated, third.unchanged) == (1, 1, 2)
    assert JobListing.objects.filter(feed=feed).count() == 4
    assert JobListing.objects.get(feed=feed, guid="p-1").title == "Junior Python Developer (Django)"


def test_refresh_keeps_staff_owned_fields(server):
    feed = _feed(server)
    job_feed_refresh(feed=feed)
    JobListing.objects.filter(feed=feed, guid="p-1").update(is_editorial_pick=True, active=False, application_count=7)
    server.add("/jobs.rss", body=rss([dict(ITEMS[0], title="Renamed"), *ITEMS[1:]]))

    job_feed_refresh(feed=feed)

    listing = JobListing.objects.get(feed=feed, guid="p-1")
    assert listing.title == "Renamed"
    assert (listing.is_editorial_pick, listing.active, listing.application_count) == (True, False, 7)


def test_same_guid_in_two_feeds_is_two_listings(server):
    first = _feed(server, "/a.rss")
    second = _feed(server, "/b.rss")
    job_feeds_refresh(feeds=[first, second])
    assert JobListing.objects.filter(guid="p-1").count() == 2


def test_conditional_get_304_changes_nothing(server):
    feed = _feed(server, headers={"ETag": '"v1"'})
    job_feed_refresh(feed=feed)
    server.add("/jobs.rss", status=304, headers={"ETag": '"v1"'})

    outcome = job_feed_refresh(feed=feed)

    assert outcome.status == "not_modified"
    assert server.requests[-1].headers["if-none-match"] == '"v1"'
    feed.refresh_from_db()
    assert feed.last_status == JobFeed.FetchStatus.NOT_MODIFIED
    assert JobListing.objects.filter(feed=feed).count() == 3


def test_validators_are_not_kept_when_the_body_cannot_be_parsed(server):
    # A broken body with an ETag must not make the next fetch a 304 of broken data
    feed = _feed(server, body=b"<rss><channel><item>", headers={"ETag": '"bad"'})
    feed.etag = '"old"'
    feed.save()

    outcome = job_feed_refresh(feed=feed)

    assert outcome.status == "error"
    feed.refresh_from_db()
    assert feed.etag == '"old"'
    assert feed.last_status == JobFeed.FetchStatus.ERROR
    assert "not a readable feed" in feed.last_error


def test_a_broken_feed_never_stops_the_others(server, settings):
    # Given good feeds around a bad-XML one, a refused private one, a 500 and an oversized one
    settings.FEED_MAX_BYTES = 50_000
    good_a = _feed(server, "/good-a.rss")
    bad_xml = _feed(server, "/bad.rss", body=b"this is not xml at all")
    private = JobFeedFactory(url="http://10.20.30.40/feed.rss", name="intranet")
    failing = _feed(server, "/500.rss", status=500)
    huge = _feed(server, "/huge.rss", body=b"<rss>" + b"x" * 60_000)
    good_b = _feed(server, "/good-b.rss", body=rss([{"title": "Data Analyst", "guid": "b-1"}]))

    report = job_feeds_refresh(feeds=[good_a, bad_xml, private, failing, huge, good_b])

    statuses = {o.feed_name: o.status for o in report.feeds}
    assert statuses == {
        "good-a.rss": "ok",
        "bad.rss": "error",
        "intranet": "error",
        "500.rss": "error",
        "huge.rss": "error",
        "good-b.rss": "ok",
    }
    assert (report.new, report.errors) == (4, 4)
    for feed, fragment in [
        (bad_xml, "not a readable feed"),
        (private, "10.20.30.40"),
        (failing, "HTTP 500"),
        (huge, "cap"),
    ]:
        feed.refresh_from_db()
        assert fragment in feed.last_error
        assert feed.last_status == JobFeed.FetchStatus.ERROR


def test_a_database_error_on_one_feed_is_recorded_and_the_rest_continue(server, monkeypatch):
    first = _feed(server, "/one.rss")
    second = _feed(server, "/two.rss")
    real_upsert = jobs_services.job_listings_upsert

    def flaky(*, feed, listings):
        if feed.pk == first.pk:
            raise DatabaseError("value too long")
        return real_upsert(feed=feed, listings=listings)

    monkeypatch.setattr(jobs_services, "job_listings_upsert", flaky)

    report = job_feeds_refresh(feeds=[first, second])

    assert [o.status for o in report.feeds] == ["error", "ok"]
    first.refresh_from_db()
    assert "could not store listings" in first.last_error
    assert JobListing.objects.filter(feed=second).count() == 3


def test_a_feed_being_refreshed_elsewhere_is_skipped(server):
    feed = _feed(server)
    cache.add(f"catalog:job-feed-refresh:{feed.pk}", 1, timeout=60)

    outcome = job_feed_refresh(feed=feed)

    assert outcome.status == "skipped"
    assert server.requests == []


def test_feeds_due_are_active_network_feeds_only():
    web = JobFeedFactory(url="https://jobs.example.com/a.rss")
    JobFeedFactory(url="https://jobs.example.com/b.rss", active=False)
    JobFeedFactory(url=(BUNDLED_FEEDS_DIR / "graduate-tech-jobs.rss").as_uri())
    assert list(job_feeds_due()) == [web]


# --- files ------------------------------------------------------------------------------------------------


def test_import_file_is_idempotent_and_keyed_by_the_file(tmp_path):
    path = tmp_path / "jobs.rss"
    path.write_bytes(rss(ITEMS))

    first = job_listings_import_file(path=path, feed_name="Local file")
    second = job_listings_import_file(path=path, feed_name="Local file")

    assert (first.new, second.new, second.unchanged) == (3, 0, 3)
    feed = JobFeed.objects.get(url=path.resolve().as_uri())
    assert feed.name == "Local file"
    assert JobListing.objects.filter(feed=feed).count() == 3


def test_import_file_errors(tmp_path, settings):
    with pytest.raises(FeedFileError):
        job_listings_import_file(path=tmp_path / "missing.rss", feed_name="x")
    bad = tmp_path / "bad.rss"
    bad.write_text("not a feed")
    with pytest.raises(FeedParseError):
        job_listings_import_file(path=bad, feed_name="bad")
    assert JobFeed.objects.get(name="bad").last_status == JobFeed.FetchStatus.ERROR
    settings.FEED_MAX_BYTES = 10
    with pytest.raises(FeedFileError, match="cap"):
        job_listings_import_file(path=BUNDLED_FEEDS_DIR / "graduate-tech-jobs.rss", feed_name="big")


def test_file_feeds_refresh_only_inside_the_feed_file_roots(tmp_path):
    # A bundled feed re-reads its file; a file elsewhere is refused (the admin can't read /etc)
    bundled = JobFeedFactory(url=(BUNDLED_FEEDS_DIR / "graduate-tech-jobs.rss").as_uri())
    elsewhere = tmp_path / "x.rss"
    elsewhere.write_bytes(rss(ITEMS))
    outside = JobFeedFactory(url=elsewhere.as_uri())

    assert job_feed_refresh(feed=bundled).new == 14
    refused = job_feed_refresh(feed=outside)
    assert refused.status == "error"
    assert "outside the feed file directories" in refused.error


def test_demo_step_loads_bundled_feeds_and_is_idempotent():
    from catalog.jobs import demo as jobs_demo
    from config.demo import DemoReport

    first, second = DemoReport(), DemoReport()
    jobs_demo.run(report=first)
    jobs_demo.run(report=second)

    assert "40 new" in first.done[0]
    assert "0 new, 0 updated, 40 unchanged" in second.done[0]
    assert JobListing.objects.count() == 40
    assert JobListing.objects.filter(language="ja").exists()
    assert JobListing.objects.filter(remote=True).exists()


# --- the command ----------------------------------------------------------------------------------------------


def test_fetch_jobs_file_prints_a_summary(tmp_path):
    path = tmp_path / "jobs.rss"
    path.write_bytes(rss(ITEMS))
    out = StringIO()

    call_command("fetch_jobs", "--file", str(path), "--name", "Local", stdout=out)

    text = out.getvalue()
    assert "Local" in text
    assert "TOTAL" in text
    row = next(line for line in text.splitlines() if line.startswith("Local"))
    assert row.split()[1:5] == ["ok", "3", "0", "0"]


def test_fetch_jobs_feed_url_and_all(server):
    url = server.add("/cmd.rss", body=rss(ITEMS))
    out = StringIO()
    call_command("fetch_jobs", "--feed", url, stdout=out)
    assert JobFeed.objects.get(url=url).listings.count() == 3

    out = StringIO()
    call_command("fetch_jobs", stdout=out)
    assert "0 error(s)" in out.getvalue()


def test_fetch_jobs_fails_when_every_feed_fails():
    with pytest.raises(CommandError):
        call_command("fetch_jobs", "--feed", "http://127.0.0.1:9/feed.rss", stdout=StringIO())
