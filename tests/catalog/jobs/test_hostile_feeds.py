"""Feeds read like a careful person would: the hostile fixture feeds under fixtures/feeds/.

Relative links, plain-text titles with angle brackets, undeclared or misdeclared encodings, items
without a guid, Japanese and implausible dates, NUL bytes and overflowing salaries: each gives a
clean listing or a recorded problem, and never costs the item's neighbours.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from catalog.jobs.models import JobFeed, JobListing
from catalog.jobs.parsing import ParsedListing, feed_bytes_decoded, parse_date_text, parse_feed, plain_text
from catalog.jobs.services import job_feed_refresh, job_listings_import_file, job_listings_upsert
from tests.catalog.jobs_helpers import FeedServer
from tests.factories import JobFeedFactory, JobListingFactory

FEEDS = Path(__file__).parent / "fixtures" / "feeds"
NOW = datetime(2026, 12, 1, tzinfo=UTC)


def _parse(name: str, **kwargs):
    return parse_feed((FEEDS / name).read_bytes(), now=NOW, **kwargs)


def _by_guid(name: str) -> dict[str, ParsedListing]:
    return {item.guid: item for item in _parse(name).listings}


# -- links ------------------------------------------------------------------------------------------


def test_relative_links_resolve_against_the_channel_and_xml_base():
    urls = [item.url for item in _parse("relative-links.rss").listings]

    assert urls == [
        "https://jobs.example.com/jobs/101",
        "https://jobs.example.com/board/jobs/102?ref=feed",
        "https://jobs.example.com/careers/103",  # the #apply fragment is not part of the posting
        "https://careers.example.net/board/104",  # the item's own xml:base
        "https://cdn.example.org/jobs/105",
        "https://jobs.example.com/jobs/106",
    ]


def test_relative_links_resolve_against_the_feed_url_when_the_channel_has_no_link():
    body = b'<rss version="2.0"><channel><title>t</title><item><title>Dev</title><link>jobs/7</link></item></channel>'
    body += b"</rss>"

    listing = parse_feed(body, base_url="https://feeds.example.com/boards/feed.xml").listings[0]

    assert listing.url == "https://feeds.example.com/boards/jobs/7"


@pytest.mark.django_db
def test_a_fetched_feed_resolves_links_against_its_own_url(settings):
    settings.FEED_ALLOWED_HOSTS = ["127.0.0.1"]
    server = FeedServer().start()
    try:
        body = b'<rss version="2.0"><channel><title>t</title><item><title>Dev</title><link>../jobs/1</link></item>'
        body += b"</channel></rss>"
        feed = JobFeedFactory(url=server.add("/feeds/jobs.rss", body=body))
        job_feed_refresh(feed=feed)
    finally:
        server.stop()
    assert JobListing.objects.get(feed=feed).url == server.url("/jobs/1")


# -- titles -----------------------------------------------------------------------------------------


def test_plain_text_titles_keep_their_angle_brackets_and_lose_only_html():
    titles = {guid: item.title for guid, item in _by_guid("titles.rss").items()}

    assert titles["t-1"] == "C++ Developer <Remote>"
    assert titles["t-2"] == "Backend Engineer <Tokyo> <New Grad OK>"
    assert titles["t-3"] == "Senior Frontend Engineer"
    assert titles["t-4"] == "Data Engineer"  # script text never becomes title text
    assert titles["t-5"] == "ML Engineer (PhD)"
    assert titles["t-6"] == "フロントエンドエンジニア＜未経験OK＞"


def test_html_titles_are_stripped_to_text_even_when_escaped_twice():
    titles = {guid: item.title for guid, item in _by_guid("titles.atom").items()}

    assert titles == {
        "urn:a:1": "Senior Backend Engineer",
        "urn:a:2": "Data Engineer",
        "urn:a:3": "C# Developer <Hybrid>",
        "urn:a:4": "Go Engineer <Remote>",
    }


def test_plain_text_keeps_capitalised_words_in_brackets_and_drops_markup():
    assert plain_text("Engineer <Main> <main>x</main> <BR> <span class='a'>y</span>") == "Engineer <Main> x\ny"


def test_the_company_is_never_guessed_from_the_author_or_a_piped_title():
    atom = _by_guid("titles.atom")
    rss = _by_guid("titles.rss")

    assert {item.company for item in atom.values()} == {""}  # authors are recruiters and mailboxes
    assert rss["t-8"].company == ""
    assert rss["t-8"].title == "Designer | Remote | $90k"
    assert rss["t-7"].title == "Engineer at scale"
    assert rss["t-7"].company == ""


# -- encodings --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "note"),
    [
        ("sjis-undeclared.rss", "no encoding declared; read as shift_jis"),
        ("eucjp-declared-utf8.rss", "declared utf-8; read as euc"),
        ("sjis-declared-latin1.rss", "declared iso8859-1; read as shift_jis"),
    ],
)
def test_japanese_feeds_in_legacy_encodings_read_as_japanese(name, note):
    parsed = _parse(name)
    listings = {item.guid: item for item in parsed.listings}

    assert note in parsed.warning
    assert listings["ja-1"].title == "バックエンドエンジニア（東京）"
    assert listings["ja-1"].location == "東京都港区"
    assert (listings["ja-1"].salary_min, listings["ja-1"].salary_max) == (Decimal(4_000_000), Decimal(6_000_000))
    assert listings["ja-2"].salary_min == Decimal(3_000_000)  # 月給25万円 ×12
    assert listings["ja-3"].salary_min is None  # mojibake "¥" signs made false salaries here
    assert all(item.language == "ja" for item in parsed.listings)


def test_a_correct_declaration_is_left_alone():
    body = '<?xml version="1.0" encoding="shift_jis"?><rss version="2.0"><channel><title>求人</title></channel></rss>'
    decoded = feed_bytes_decoded(body.encode("shift_jis"))
    assert decoded.note == ""
    assert decoded.body == body.encode("shift_jis")


# -- dates ------------------------------------------------------------------------------------------


def test_japanese_and_slashed_dates_are_read_in_japan_time():
    dates = {guid: item.posted_at for guid, item in _by_guid("dates.rss").items()}

    assert dates["d-1"] == datetime(2025, 6, 2, 15, 0, tzinfo=UTC)  # 2025年6月3日 00:00 JST
    assert dates["d-2"] == datetime(2025, 6, 3, 5, 30, tzinfo=UTC)  # 14時30分 JST
    assert dates["d-3"] == datetime(2025, 6, 2, 15, 0, tzinfo=UTC)  # 令和7年
    assert dates["d-4"] == datetime(2025, 6, 3, 10, 0, tzinfo=UTC)  # an English posting: UTC
    assert dates["d-8"] == datetime(2025, 6, 3, 10, 0, tzinfo=UTC)


def test_dates_before_2000_or_over_a_week_ahead_are_dropped_with_a_problem():
    listings = _by_guid("dates.rss")

    for guid in ("d-5", "d-6", "d-7"):
        assert listings[guid].posted_at is None
    assert listings["d-5"].problems == ["posting date 1400-06-03 is before 2000; not stored"]
    assert listings["d-6"].problems == ["posting date 2098-01-01 is more than a week ahead; not stored"]


def test_parse_date_text_refuses_impossible_days():
    assert parse_date_text("2025年2月30日") is None
    assert parse_date_text("午後3時") is None
    assert parse_date_text("2025年6月3日(火) 午後3時") == datetime(2025, 6, 3, 6, 0, tzinfo=UTC)


# -- keys without a guid ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_items_without_guid_or_link_are_updated_in_place_when_edited(tmp_path):
    # Given a feed whose items have neither guid nor link
    path = tmp_path / "guidless.rss"
    path.write_bytes((FEEDS / "guidless.rss").read_bytes())
    first = job_listings_import_file(path=path)

    # When one description is edited (a new salary) and the feed imported again
    path.write_text(path.read_text().replace("Salary: $60,000", "Salary: $65,000"))
    again = job_listings_import_file(path=path)

    # Then the row is updated, not duplicated: the key is the title and the company
    assert (first.new, again.new, again.updated, again.unchanged) == (3, 0, 1, 2)
    rows = JobListing.objects.filter(title="Junior Python Developer").order_by("company")
    assert [(row.company, row.salary_min) for row in rows] == [("Fuji Data Labs", 65_000), ("Kumo Systems", None)]


@pytest.mark.django_db
def test_rows_keyed_by_the_old_content_hash_are_adopted_and_stale_copies_retired(tmp_path):
    path = tmp_path / "guidless.rss"
    path.write_bytes((FEEDS / "guidless.rss").read_bytes())
    feed = JobFeed.objects.create(url=path.resolve().as_uri(), name="guidless")
    older = JobListingFactory(feed=feed, guid="sha1:aaa", title="QA Intern", company="")
    newer = JobListingFactory(feed=feed, guid="sha1:bbb", title="QA Intern", company="")
    JobListing.objects.filter(pk=older.pk).update(updated_at=datetime(2025, 1, 1, tzinfo=UTC))

    outcome = job_listings_import_file(path=path)

    newer.refresh_from_db()
    older.refresh_from_db()
    assert newer.guid.startswith("title-company:")
    assert newer.active
    assert older.active is False
    assert outcome.new == 2  # the two Python postings; the intern one was already there
    assert JobListing.objects.filter(feed=feed, active=True, title="QA Intern").count() == 1


# -- hostile values ---------------------------------------------------------------------------------


def test_hostile_values_are_cleaned_bounded_or_skipped_item_by_item():
    parsed = _parse("hostile-values.rss")
    listings = {item.guid: item for item in parsed.listings}

    assert listings["h-2"].title == "NullByte Engineer"
    assert listings["h-8"].title == "ControlChar Engineer"
    assert listings["h-3"].salary_min is None
    assert listings["h-4"].salary_max is None
    assert "out of range" in listings["h-3"].problems[0]
    assert listings["h-7"].url == ""
    long_key = [guid for guid in listings if guid.startswith("sha1:")]
    assert len(long_key) == 1
    assert len(long_key[0]) <= 500
    assert [p.as_dict() for p in parsed.skipped] == [{"item": "#5", "problems": ["no title"], "skipped": True}]
    assert (listings["h-1"].salary_min, listings["h-9"].salary_min) == (60_000, 70_000)


@pytest.mark.django_db
def test_fetch_jobs_file_stores_the_good_items_and_reports_the_bad(staff_client):
    out = StringIO()

    call_command("fetch_jobs", "--file", str(FEEDS / "hostile-values.rss"), stdout=out)

    feed = JobFeed.objects.get(url=(FEEDS / "hostile-values.rss").resolve().as_uri())
    assert feed.last_status == JobFeed.FetchStatus.OK
    assert JobListing.objects.filter(feed=feed).count() == 8
    assert "8 new" in feed.last_summary
    assert "1 skipped" in feed.last_summary
    problems = {entry["item"]: entry for entry in feed.last_problems}
    assert problems["#5"]["skipped"] is True
    assert any("out of range" in text for text in problems["h-3"]["problems"])
    assert "skipped #5: no title" in out.getvalue()
    # And the listings API answers with them (a salary the column can't hold would be a 500)
    response = staff_client.get("/api/v1/jobs/", {"page_size": 50})
    assert response.status_code == 200


@pytest.mark.django_db
def test_a_feed_over_http_with_a_nul_item_keeps_its_valid_items(settings):
    settings.FEED_ALLOWED_HOSTS = ["127.0.0.1"]
    server = FeedServer().start()
    try:
        feed = JobFeedFactory(url=server.add("/h.rss", body=(FEEDS / "hostile-values.rss").read_bytes()))
        outcome = job_feed_refresh(feed=feed)
    finally:
        server.stop()
    assert outcome.status == "ok"
    valid = ["Valid Backend Engineer", "Valid Frontend Engineer"]
    assert JobListing.objects.filter(feed=feed, title__in=valid).count() == 2


@pytest.mark.django_db
def test_a_row_the_database_refuses_is_reported_and_its_neighbours_stored():
    feed = JobFeedFactory()
    good = ParsedListing(guid="ok-1", title="Fine")
    # min > max breaks the listing's check constraint on every backend
    bad = ParsedListing(guid="bad-1", title="Broken", salary_min=Decimal(9), salary_max=Decimal(1))
    also_good = ParsedListing(guid="ok-2", title="Also fine")

    counts = job_listings_upsert(feed=feed, listings=[good, bad, also_good])

    assert counts.new == 2
    assert [problem.item for problem in counts.failed] == ["bad-1"]
    assert set(JobListing.objects.filter(feed=feed).values_list("guid", flat=True)) == {"ok-1", "ok-2"}
