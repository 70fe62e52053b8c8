"""Feed bytes → listings: RSS and Atom, English and Japanese, salary, remote, skills, HTML."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from catalog.jobs.parsing import (
    FeedParseError,
    detect_language,
    detect_remote,
    html_to_text,
    parse_feed,
    parse_salary,
)
from catalog.jobs.services import BUNDLED_FEEDS_DIR
from tests.catalog.jobs_helpers import rss


def _bundled(name: str):
    return {item.guid: item for item in parse_feed((BUNDLED_FEEDS_DIR / name).read_bytes()).listings}


def test_bundled_feeds_hold_forty_postings_in_rss_and_atom():
    files = sorted(p.name for p in BUNDLED_FEEDS_DIR.iterdir())
    assert any(name.endswith(".rss") for name in files)
    assert any(name.endswith(".atom") for name in files)
    total = sum(len(parse_feed((BUNDLED_FEEDS_DIR / name).read_bytes()).listings) for name in files)
    assert total >= 40


def test_english_rss_with_job_namespace():
    listing = _bundled("graduate-tech-jobs.rss")["gtj-1001"]

    assert listing.title == "Junior Backend Engineer (Python/Django)"
    assert listing.company == "Kumo Systems K.K."
    assert listing.location.startswith("Tokyo")
    assert listing.remote is True  # hybrid
    assert (listing.salary_min, listing.salary_max, listing.salary_currency, listing.salary_period) == (
        Decimal(4_500_000),
        Decimal(6_000_000),
        "JPY",
        "year",
    )
    assert listing.url == "https://careers.example.com/graduate-tech/gtj-1001"
    assert listing.posted_at == datetime(2026, 11, 19, 6, 0, tzinfo=UTC)
    assert {"Python", "Django", "PostgreSQL", "AWS", "Docker"} <= set(listing.skills)
    assert listing.language == "en"
    assert "<" not in listing.description


def test_japanese_atom_with_details_in_html():
    listings = _bundled("shinsotsu-tech-jobs.atom")
    backend = listings["urn:contentops-demo:shinsotsu:shinsotsu-2001"]

    assert backend.company == "株式会社ミライテック"  # its 会社名 line (never the Atom author)
    assert backend.location == "東京都渋谷区"  # the 勤務地： line
    assert (backend.salary_min, backend.salary_max) == (Decimal(4_000_000), Decimal(5_500_000))
    assert backend.remote is True  # リモート可
    assert backend.language == "ja"
    assert backend.posted_at is not None
    assert backend.posted_at.tzinfo is not None

    frontend = listings["urn:contentops-demo:shinsotsu:shinsotsu-2002"]
    assert frontend.remote is False  # リモート不可
    assert (frontend.salary_min, frontend.salary_max) == (Decimal(3_000_000), None)  # 月給25万円〜, ×12

    ml = listings["urn:contentops-demo:shinsotsu:shinsotsu-2004"]
    assert {"Python", "Machine Learning", "PyTorch"} <= set(ml.skills)  # パイソン, 機械学習

    intern = listings["urn:contentops-demo:shinsotsu:shinsotsu-2006"]
    assert (intern.salary_min, intern.salary_max, intern.salary_period) == (Decimal(1200), Decimal(1500), "hour")


def test_text_only_rss_uses_title_company_and_labelled_lines():
    listings = _bundled("junior-remote-jobs.rss")
    # No <guid>: the link is the key
    python_dev = listings["https://jobs.example.org/postings/rjj-3001"]
    assert python_dev.title == "Junior Python Developer"
    assert python_dev.company == "Fuji Data Labs"
    assert python_dev.location == "Remote (Japan)"
    assert python_dev.remote is True

    sales = listings["https://jobs.example.org/postings/rjj-3009"]
    assert sales.remote is False  # "On-site only"
    assert (sales.salary_min, sales.salary_max) == (Decimal(4_500_000), None)  # 年収450万円〜


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("$60,000–$75,000", (60_000, 75_000, "USD", "year")),
        ("$60k - $75k a year", (60_000, 75_000, "USD", "year")),
        ("$20-25 per hour", (20, 25, "USD", "hour")),
        ("$3,500/month", (42_000, 42_000, "USD", "year")),
        ("£28,000 - £32,000 per annum", (28_000, 32_000, "GBP", "year")),
        ("60,000 - 75,000 USD", (60_000, 75_000, "USD", "year")),
        ("年収400万円〜600万円", (4_000_000, 6_000_000, "JPY", "year")),
        ("年収400〜600万円", (4_000_000, 6_000_000, "JPY", "year")),
        ("年収４００万円～６００万円", (4_000_000, 6_000_000, "JPY", "year")),  # full-width digits
        ("月給25万円", (3_000_000, 3_000_000, "JPY", "year")),  # monthly ×12
        ("給与：月給 22万円〜28万円", (2_640_000, 3_360_000, "JPY", "year")),
        ("400万円以上", (4_000_000, None, "JPY", "year")),
        ("想定年収：〜800万円", (None, 8_000_000, "JPY", "year")),
        ("時給1,200円〜1,500円", (1_200, 1_500, "JPY", "hour")),
        ("日給1万円", (10_000, 10_000, "JPY", "day")),
        ("¥4,000,000 - ¥5,500,000", (4_000_000, 5_500_000, "JPY", "year")),
    ],
)
def test_salary_parsing(text, expected):
    salary = parse_salary(text)
    assert salary is not None
    low, high, currency, period = expected
    assert salary.minimum == (Decimal(low) if low is not None else None)
    assert salary.maximum == (Decimal(high) if high is not None else None)
    assert (salary.currency, salary.period) == (currency, period)


@pytest.mark.parametrize("text", ["Series B, raised $50M", "2027年4月入社", "15 days off", "Team of 12", ""])
def test_texts_without_a_salary(text):
    assert parse_salary(text) is None


@pytest.mark.parametrize(
    ("texts", "remote"),
    [
        (["Fully remote within Japan"], True),
        (["フルリモート可"], True),
        (["在宅勤務（週2日）"], True),
        (["テレワーク制度あり"], True),
        (["Hybrid work model"], True),
        (["リモート不可、本社勤務"], False),
        (["出社必須"], False),
        (["No remote. Office in Osaka"], False),
        (["On-site only"], False),
        (["We run a hybrid cloud"], False),
        (["Tokyo office"], False),
    ],
)
def test_remote_detection(texts, remote):
    assert detect_remote(explicit="", texts=texts) is remote


def test_explicit_remote_field_wins():
    assert detect_remote(explicit="false", texts=["remote-friendly culture"]) is False
    assert detect_remote(explicit="true", texts=["Osaka office"]) is True


def test_html_to_text_drops_scripts_and_decodes_entities():
    text = html_to_text('<p>Tom &amp; Jerry</p><script>alert("x")</script><style>p{}</style><ul><li>Python</li></ul>')
    assert "alert" not in text
    assert "p{}" not in text
    assert "Tom & Jerry" in text
    assert "- Python" in text


def test_language_detection():
    assert detect_language("バックエンドエンジニア募集") == "ja"
    assert detect_language("Backend engineer wanted") == "en"
    assert detect_language("12345") == ""


def test_entry_without_guid_falls_back_to_link_and_duplicates_keep_the_first():
    body = rss(
        [
            {"title": "First", "link": "https://jobs.example.com/1"},
            {"title": "Second", "link": "https://jobs.example.com/1"},
            {"title": "Third", "guid": "g-3"},
        ]
    )
    listings = parse_feed(body).listings
    assert [(item.guid, item.title) for item in listings] == [("https://jobs.example.com/1", "First"), ("g-3", "Third")]


def test_not_a_feed_is_an_error():
    with pytest.raises(FeedParseError):
        parse_feed(b"<html><body>Hello</body></html")
    with pytest.raises(FeedParseError):
        parse_feed(b"")


def test_feedparser_never_fetches_a_url_given_as_body():
    # Bytes that look like a URL are parsed as (bad) content, not fetched
    with pytest.raises(FeedParseError):
        parse_feed(b"http://169.254.169.254/latest/meta-data/")


def test_non_http_links_are_dropped():
    body = rss([{"title": "X", "guid": "g", "link": "javascript:alert(1)"}])
    assert parse_feed(body).listings[0].url == ""


def test_a_well_formed_empty_feed_is_not_an_error():
    parsed = parse_feed(rss([]))
    assert parsed.listings == []
    assert parsed.title == "Test feed"
