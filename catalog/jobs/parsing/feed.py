"""Feed bytes → job listings: feedparser on bytes we fetched ourselves, read like a careful person
would. Pure functions, no database: the services upsert what these return.

- encoding: detected when the declaration is missing or wrong (parsing/encoding.py);
- links: resolved against xml:base and the feed's URL (feedparser), then the channel's own link;
- titles: text unless the feed says HTML (parsing/text.py); every value cleaned for storage;
- key: the entry's id, else its link, else its normalised title + company, so an edited item
  without a guid updates its row instead of leaving a stale one;
- company: only where the posting states it (a job field, a "Company:" line, "Title at Company"),
  never the feed's author (a recruiter, a CMS account) nor pieces of a " | " title;
- dates: Japanese and slash dates read here, implausible ones dropped (parsing/dates.py);
- salary: bounded to what the columns hold (parsing/salary.py).
What was dropped or corrected on an item is listed in its `problems`; items that cannot be a
listing at all (no title) are reported in `ParsedFeed.skipped`. One bad item never costs its
neighbours.
"""

from __future__ import annotations

import hashlib
import io
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

import feedparser

from catalog.jobs.parsing.dates import date_problem, entry_date
from catalog.jobs.parsing.encoding import feed_bytes_decoded
from catalog.jobs.parsing.salary import SALARY_CEILING, find_salary
from catalog.jobs.parsing.text import detect_language, detect_remote, field_text, html_to_text, labelled
from catalog.jobs.skills import extract_skills
from config.text import text_clean, text_is_clean

TITLE_MAX = 300
COMPANY_MAX = 200
LOCATION_MAX = 200
GUID_MAX = 500
URL_MAX = 1000
DESCRIPTION_MAX = 20_000
PROBLEMS_MAX = 100  # per feed report: enough to see the pattern, small enough to store

LOCATION_LABELS = ("Location", "Locations", "Office", "Work location", "勤務地", "勤務場所", "所在地")
COMPANY_LABELS = ("Company", "Employer", "Company name", "会社名", "企業名", "社名")
# "Junior Developer at Fuji Data Labs": the company must look like a name (a capital, a digit or
# Japanese script first), so "Engineer at scale" or "Designer at a startup" keep their titles.
_TITLE_AT = re.compile(
    r"^(?P<title>.+?)\s+(?:at|@)\s+(?P<company>(?:[A-Z0-9]|[\u3040-\u30ff\u3400-\u9fff])[^()\[\]|–—]{1,79})$"
)
_NOT_A_COMPANY = re.compile(r"^(?:A|An|The|Our|Home|Scale|Speed|Night|Weekends?|Remote|Home Office)\b")


class FeedParseError(ValueError):
    """The bytes are not an RSS or Atom feed we can read."""


@dataclass
class ParsedListing:
    guid: str
    title: str
    company: str = ""
    location: str = ""
    remote: bool = False
    salary_min: Decimal | None = None
    salary_max: Decimal | None = None
    salary_currency: str = ""
    salary_period: str = ""
    description: str = ""
    url: str = ""
    posted_at: datetime | None = None
    skills: list[str] = field(default_factory=list)
    language: str = ""
    problems: list[str] = field(default_factory=list)  # what was dropped or corrected, for the report

    def values(self) -> dict[str, Any]:
        """The model fields this listing sets (everything but the key)."""
        return {
            "title": self.title,
            "company": self.company,
            "location": self.location,
            "remote": self.remote,
            "salary_min": self.salary_min,
            "salary_max": self.salary_max,
            "salary_currency": self.salary_currency,
            "salary_period": self.salary_period,
            "description": self.description,
            "url": self.url,
            "posted_at": self.posted_at,
            "skills": self.skills,
            "language": self.language,
        }


@dataclass(frozen=True)
class ItemProblem:
    """One item's problems, as stored on the feed's last-fetch report."""

    item: str  # its key, or "#n title" when it has none
    problems: tuple[str, ...]
    skipped: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {"item": self.item, "problems": list(self.problems), "skipped": self.skipped}


@dataclass
class ParsedFeed:
    title: str
    listings: list[ParsedListing]
    warning: str = ""  # set when feedparser had to recover from malformed XML, or the encoding was fixed
    skipped: list[ItemProblem] = field(default_factory=list)

    def problems(self) -> list[ItemProblem]:
        """Skipped items and kept items with problems, in feed order of discovery, capped."""
        kept = [ItemProblem(item=item.guid, problems=tuple(item.problems)) for item in self.listings if item.problems]
        return [*self.skipped, *kept][:PROBLEMS_MAX]


# --- entries ------------------------------------------------------------------------------------------


def _clip(value: str, limit: int) -> str:
    value = value.strip()
    return value if len(value) <= limit else value[: limit - 1].rstrip() + "…"


def _detail_type(entry: Any, name: str) -> str:
    detail = entry.get(f"{name}_detail")
    return str(detail.get("type") or "") if isinstance(detail, dict) else ""


def _entry_description(entry: Any) -> str:
    candidates: list[tuple[str, str]] = []
    for content in entry.get("content") or []:
        if isinstance(content, dict) and isinstance(content.get("value"), str):
            candidates.append((content["value"], str(content.get("type") or "")))
    summary = entry.get("summary")
    if isinstance(summary, str):
        candidates.append((summary, _detail_type(entry, "summary")))
    if not candidates:
        return ""
    raw, kind = max(candidates, key=lambda item: len(item[0]))
    return field_text(raw, content_type=kind)


def _job_field(entry: Any, *names: str) -> str:
    for name in names:
        for key in (f"job_{name}", name):
            value = entry.get(key)
            if isinstance(value, str) and value.strip():
                return html_to_text(value)
    return ""


def _absolute_url(raw: str, *, site: str) -> str:
    """The entry's link made absolute: feedparser already applied xml:base and the feed's URL;
    what is still relative (a file import, a feed without either) is joined to the channel link."""
    url = text_clean(raw or "").strip()
    if not url:
        return ""
    if not urlsplit(url).scheme and site.startswith(("http://", "https://")):
        url = urljoin(site, url)
    parts = urlsplit(url)
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path, parts.query, ""))


def _normalized(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def _key(*, entry_id: str, url: str, title: str, company: str) -> str:
    """The item's stable key: its id, else its link, else its normalised title and company."""
    key = entry_id or url
    if not key:
        digest = hashlib.sha1(f"{_normalized(title)}\n{_normalized(company)}".encode(), usedforsecurity=False)
        return "title-company:" + digest.hexdigest()
    if len(key) > GUID_MAX:
        # Clipping could make two long ids one; their hash cannot.
        return "sha1:" + hashlib.sha1(key.encode(), usedforsecurity=False).hexdigest()
    return key


def _company(entry: Any, description: str, title: str) -> tuple[str, str]:
    """(company, title): stated by the posting, or ("", title)."""
    company = _job_field(entry, "company", "employer", "hiringorganization") or labelled(description, COMPANY_LABELS)
    if company:
        return company, title
    at = _TITLE_AT.match(title)
    if at and not _NOT_A_COMPANY.match(at["company"]):
        return at["company"].strip(), at["title"]
    return "", title


def entry_to_listing(
    entry: Any, *, site: str = "", now: datetime | None = None, check_ahead: bool = True
) -> ParsedListing | str:
    """One feed entry as a listing, or the reason it cannot be one (a string).

    `site` is the channel's link (for links still relative); `now` bounds posting dates.
    """
    problems: list[str] = []
    raw_title = entry.get("title", "")
    title = field_text(raw_title, content_type=_detail_type(entry, "title"))
    description = _entry_description(entry)
    if isinstance(raw_title, str) and not text_is_clean(raw_title):
        problems.append("control characters removed from the title")
    if not title:
        return "no title"

    raw_link = entry.get("link") if isinstance(entry.get("link"), str) else ""
    url = _absolute_url(raw_link, site=site)
    if url and not url.startswith(("http://", "https://")):
        problems.append(f"link {_clip(url, 80)!r} is not an http(s) URL")
        url = ""
    elif len(url) > URL_MAX:
        problems.append(f"link is longer than {URL_MAX} characters")
        url = ""

    company, title = _company(entry, description, title)
    location = _job_field(entry, "location", "joblocation") or labelled(description, LOCATION_LABELS)
    entry_id = text_clean(entry.get("id") or "").strip() if isinstance(entry.get("id"), str) else ""
    guid = _key(entry_id=entry_id, url=url, title=title, company=company)

    tags = [t.get("term", "") for t in entry.get("tags", []) or [] if isinstance(t, dict) and t.get("term")]
    tags = [text_clean(str(t)) for t in tags]
    remote = detect_remote(explicit=_job_field(entry, "remote"), texts=[title, location, description, " ".join(tags)])
    if remote and not location:
        location = "Remote"
    salary = find_salary(explicit=_job_field(entry, "salary", "compensation"), description=description, title=title)
    if salary is not None and any(v is not None and v >= SALARY_CEILING for v in (salary.minimum, salary.maximum)):
        problems.append(f"salary {salary.maximum or salary.minimum:.0f} {salary.currency} is out of range; not stored")
        salary = None
    language = detect_language(f"{title}\n{description}")

    posted_at, raw_date = entry_date(entry, japanese=language == "ja")
    if posted_at is None and raw_date:
        problems.append(f"unreadable posting date {_clip(raw_date, 60)!r}")
    elif posted_at is not None:
        problem = date_problem(posted_at, now=(now or datetime.now(UTC)) if check_ahead else None)
        if problem:
            problems.append(f"{problem}; not stored")
            posted_at = None

    return ParsedListing(
        guid=guid,
        title=_clip(title, TITLE_MAX),
        company=_clip(company, COMPANY_MAX),
        location=_clip(location, LOCATION_MAX),
        remote=remote,
        salary_min=salary.minimum if salary else None,
        salary_max=salary.maximum if salary else None,
        salary_currency=salary.currency if salary else "",
        salary_period=salary.period if salary else "",
        description=_clip(description, DESCRIPTION_MAX),
        url=url,
        posted_at=posted_at,
        skills=extract_skills("\n".join([title, " ".join(tags), description])),
        language=language,
        problems=problems,
    )


def rebase_posted_at(listings: list[ParsedListing], *, newest: datetime) -> None:
    """Shift every posting date so the newest one is `newest`, keeping their spacing (demo data
    shipped with fixed dates would otherwise look months old)."""
    dates = [item.posted_at for item in listings if item.posted_at is not None]
    if not dates:
        return
    shift = newest - max(dates)
    for item in listings:
        if item.posted_at is not None:
            item.posted_at = item.posted_at + shift


def _label(entry: Any, number: int) -> str:
    title = entry.get("title") if isinstance(entry.get("title"), str) else ""
    return f"#{number} {_clip(text_clean(title), 60)}".strip()


def parse_feed(
    body: bytes,
    *,
    content_type: str = "",
    base_url: str = "",
    now: datetime | None = None,
    check_ahead: bool = True,
) -> ParsedFeed:
    """Parse RSS/Atom bytes (never a URL or a path: feedparser would fetch or open those).

    `base_url` is where the bytes came from (the final URL after redirects): relative links resolve
    against it. `now` (default: the current time) bounds posting dates unless `check_ahead` is off.
    """
    decoded = feed_bytes_decoded(body, content_type=content_type)
    headers = {"content-type": decoded.content_type} if decoded.content_type else {}
    if base_url.startswith(("http://", "https://")):
        headers["content-location"] = base_url
    parsed = feedparser.parse(io.BytesIO(decoded.body), response_headers=headers)
    site = parsed.feed.get("link") if isinstance(parsed.feed.get("link"), str) else ""
    site = site if site.startswith(("http://", "https://")) else base_url
    listings: list[ParsedListing] = []
    skipped: list[ItemProblem] = []
    seen: dict[str, int] = {}
    for number, entry in enumerate(parsed.entries, start=1):
        listing = entry_to_listing(entry, site=site, now=now, check_ahead=check_ahead)
        if isinstance(listing, str):
            skipped.append(ItemProblem(item=_label(entry, number), problems=(listing,), skipped=True))
            continue
        if listing.guid in seen:
            # A feed that repeats a key keeps its first entry.
            skipped.append(
                ItemProblem(item=listing.guid, problems=(f"repeats item #{seen[listing.guid]}",), skipped=True)
            )
            continue
        seen[listing.guid] = number
        listings.append(listing)
    # Malformed XML from which no usable entry was recovered, or something that is not a feed at all.
    # (A well-formed feed with no entries is fine: an empty board.)
    if not listings and (parsed.get("bozo") or not parsed.get("version")):
        reason = parsed.get("bozo_exception") or "no RSS or Atom content"
        raise FeedParseError(f"not a readable feed: {reason}")
    warnings = []
    if decoded.note:
        warnings.append(f"encoding: {decoded.note}")
    exception = parsed.get("bozo_exception") if parsed.get("bozo") else None
    if exception is not None and not (decoded.note and isinstance(exception, feedparser.CharacterEncodingOverride)):
        warnings.append(f"malformed feed, read leniently: {exception}")
    title = field_text(parsed.feed.get("title", ""), content_type=_detail_type(parsed.feed, "title"))
    return ParsedFeed(title=title, listings=listings, warning="; ".join(warnings), skipped=skipped)
