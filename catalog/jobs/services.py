"""Job feeds and listings: refresh feeds (guarded fetch → feedparser → upsert on (feed, guid)),
import a feed file, and the report the command, the API and the task show.

A broken feed (network, refused address, bad XML, over the body cap, a database error on its rows)
records `last_error` on its own row and never stops the other feeds.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, transaction
from django.utils import timezone

from catalog.jobs.fetch import FeedFetchError, fetch_url, redact_url
from catalog.jobs.models import JobFeed, JobListing
from catalog.jobs.parsing import FeedParseError, ParsedListing, parse_feed, rebase_posted_at
from catalog.jobs.selectors import job_feeds_due

logger = logging.getLogger("contentops.catalog.jobs")

BUNDLED_FEEDS_DIR = Path(__file__).resolve().parent / "demo_data" / "feeds"
UPSERT_FIELDS = [
    "title",
    "company",
    "location",
    "remote",
    "salary_min",
    "salary_max",
    "salary_currency",
    "salary_period",
    "description",
    "url",
    "posted_at",
    "skills",
    "language",
]
_CHUNK = 500
_LOCK_SECONDS = 5 * 60


class FeedFileError(FeedFetchError):
    """A feed file is missing, too large, or outside the directories feeds may be read from."""


@dataclass
class FeedOutcome:
    feed_id: int
    feed_name: str
    status: str  # "ok" | "not_modified" | "error" | "skipped"
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    error: str = ""
    warning: str = ""


@dataclass
class RefreshReport:
    feeds: list[FeedOutcome] = field(default_factory=list)

    @property
    def new(self) -> int:
        return sum(f.new for f in self.feeds)

    @property
    def updated(self) -> int:
        return sum(f.updated for f in self.feeds)

    @property
    def unchanged(self) -> int:
        return sum(f.unchanged for f in self.feeds)

    @property
    def errors(self) -> int:
        return sum(1 for f in self.feeds if f.status == "error")

    def as_dict(self) -> dict:
        return {
            "feeds": [asdict(f) for f in self.feeds],
            "totals": {
                "feeds": len(self.feeds),
                "new": self.new,
                "updated": self.updated,
                "unchanged": self.unchanged,
                "errors": self.errors,
            },
        }


@dataclass
class _UpsertCounts:
    new: int = 0
    updated: int = 0
    unchanged: int = 0


def _same(existing: dict, listing: ParsedListing) -> bool:
    wanted = listing.values()
    return all(existing[name] == wanted[name] for name in UPSERT_FIELDS)


def job_listings_upsert(*, feed: JobFeed, listings: list[ParsedListing]) -> _UpsertCounts:
    """Insert new and update changed listings of one feed in bulk; (feed, guid) is the key.

    The classification (new/updated/unchanged) is for the report only; the write itself is an
    INSERT … ON CONFLICT DO UPDATE, so a concurrent refresh of the same feed cannot duplicate rows.
    Staff-owned fields (active, editorial pick, application count) are never overwritten.
    """
    counts = _UpsertCounts()
    for start in range(0, len(listings), _CHUNK):
        chunk = listings[start : start + _CHUNK]
        existing = {
            row["guid"]: row
            for row in JobListing.objects.filter(feed=feed, guid__in=[item.guid for item in chunk]).values(
                "guid", *UPSERT_FIELDS
            )
        }
        to_write: list[JobListing] = []
        for item in chunk:
            row = existing.get(item.guid)
            if row is None:
                counts.new += 1
            elif _same(row, item):
                counts.unchanged += 1
                continue
            else:
                counts.updated += 1
            to_write.append(JobListing(feed=feed, guid=item.guid, **item.values()))
        if to_write:
            JobListing.objects.bulk_create(
                to_write,
                update_conflicts=True,
                unique_fields=["feed", "guid"],
                update_fields=[*UPSERT_FIELDS, "updated_at"],
            )
    return counts


def _summary(counts: _UpsertCounts) -> str:
    return f"{counts.new} new, {counts.updated} updated, {counts.unchanged} unchanged"


def _record(feed: JobFeed, **values: object) -> None:
    # A targeted UPDATE: never overwrite what staff changed on the row meanwhile (name, active, url).
    JobFeed.objects.filter(pk=feed.pk).update(**values)
    for name, value in values.items():
        setattr(feed, name, value)


def _record_error(feed: JobFeed, message: str) -> FeedOutcome:
    logger.warning("job feed %s failed: %s", feed.pk, message)
    _record(
        feed,
        last_fetched_at=timezone.now(),
        last_status=JobFeed.FetchStatus.ERROR,
        last_error=message[:2000],
        last_summary="error",
    )
    return FeedOutcome(feed_id=feed.pk, feed_name=feed.name, status="error", error=message[:2000])


def _ingest(
    feed: JobFeed,
    body: bytes,
    *,
    content_type: str = "",
    etag: str = "",
    last_modified: str = "",
    rebase_to: datetime | None = None,
) -> FeedOutcome:
    parsed = parse_feed(body, content_type=content_type)
    if rebase_to is not None:
        rebase_posted_at(parsed.listings, newest=rebase_to)
    with transaction.atomic():
        counts = job_listings_upsert(feed=feed, listings=parsed.listings)
        now = timezone.now()
        # The validators are stored only once the rows are in: a failed ingest refetches in full.
        _record(
            feed,
            etag=etag[:255],
            last_modified=last_modified[:100],
            last_fetched_at=now,
            last_success_at=now,
            last_status=JobFeed.FetchStatus.OK,
            last_error="",
            last_summary=_summary(counts)[:200],
        )
    return FeedOutcome(
        feed_id=feed.pk,
        feed_name=feed.name,
        status="ok",
        new=counts.new,
        updated=counts.updated,
        unchanged=counts.unchanged,
        warning=parsed.warning,
    )


def _max_bytes() -> int:
    return settings.FEED_MAX_BYTES


def _read_feed_file(path: Path) -> bytes:
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise FeedFileError(f"cannot read feed file {path.name!r}: {exc.strerror or exc}") from exc
    limit = _max_bytes()
    if size > limit:
        raise FeedFileError(f"feed file {path.name!r} is {size} bytes, over the {limit}-byte cap")
    try:
        with path.open("rb") as handle:
            body = handle.read(limit + 1)
    except OSError as exc:
        raise FeedFileError(f"cannot read feed file {path.name!r}: {exc.strerror or exc}") from exc
    if len(body) > limit:
        raise FeedFileError(f"feed file {path.name!r} is over the {limit}-byte cap")
    return body


def _file_roots() -> list[Path]:
    return [Path(root).resolve() for root in settings.FEED_FILE_ROOTS]


def _file_feed_path(url: str) -> Path:
    """The local path of a `file://` feed, only inside FEED_FILE_ROOTS (the bundled feeds by default)."""
    path = Path(unquote(urlsplit(url).path)).resolve()
    if not any(path.is_relative_to(root) for root in _file_roots()):
        raise FeedFileError(
            f"file feed {path.name!r} is outside the feed file directories; import it with fetch_jobs --file"
        )
    return path


def _refresh_locked(feed: JobFeed) -> FeedOutcome:
    if feed.url.startswith("file:"):
        body = _read_feed_file(_file_feed_path(feed.url))
        return _ingest(feed, body)
    result = fetch_url(feed.url, etag=feed.etag, last_modified=feed.last_modified)
    if result.not_modified:
        now = timezone.now()
        _record(
            feed,
            etag=result.etag[:255],
            last_modified=result.last_modified[:100],
            last_fetched_at=now,
            last_success_at=now,
            last_status=JobFeed.FetchStatus.NOT_MODIFIED,
            last_error="",
            last_summary="not modified (304)",
        )
        return FeedOutcome(feed_id=feed.pk, feed_name=feed.name, status="not_modified")
    return _ingest(
        feed, result.body, content_type=result.content_type, etag=result.etag, last_modified=result.last_modified
    )


def job_feed_refresh(*, feed: JobFeed) -> FeedOutcome:
    """Fetch (conditional GET), parse and upsert one feed; failures are recorded, never raised."""
    lock = f"catalog:job-feed-refresh:{feed.pk}"
    if not cache.add(lock, 1, timeout=_LOCK_SECONDS):
        return FeedOutcome(feed_id=feed.pk, feed_name=feed.name, status="skipped", warning="a refresh is running")
    try:
        return _refresh_locked(feed)
    except (FeedFetchError, FeedParseError) as exc:
        return _record_error(feed, str(exc))
    except DatabaseError as exc:
        # One feed's rows failing to write (e.g. a value the column refuses) must not stop the rest.
        logger.exception("job feed %s: database error while storing listings", feed.pk)
        return _record_error(feed, f"could not store listings: {exc.__class__.__name__}")
    finally:
        cache.delete(lock)


def job_feeds_refresh(
    *, feeds: Iterable[JobFeed] | None = None, on_feed: Callable[[FeedOutcome], None] | None = None
) -> RefreshReport:
    """Refresh the given feeds (default: every active http(s) feed), one after another."""
    if feeds is None:
        feeds = job_feeds_due()
    report = RefreshReport()
    for feed in feeds:
        outcome = job_feed_refresh(feed=feed)
        report.feeds.append(outcome)
        if on_feed is not None:
            on_feed(outcome)
    return report


def job_feed_get_or_create(*, url: str, name: str = "") -> JobFeed:
    """The feed row for a URL (created active, named after its host when no name is given)."""
    feed, _ = JobFeed.objects.get_or_create(url=url, defaults={"name": (name or redact_url(url))[:200]})
    return feed


def job_listings_import_file(
    *, path: str | Path, feed_name: str | None = None, rebase_to: datetime | None = None
) -> FeedOutcome:
    """Load a feed from a local RSS/Atom file (no network) into a feed keyed by the file's URI.

    Re-importing the same file updates that feed's listings instead of duplicating them.
    `rebase_to` shifts the posting dates so the newest is that time (the demo's fixed-date files). Raises
    FeedFileError / FeedParseError: the operator asked for this one file, so failures are theirs
    to see (and are recorded on the feed row when it exists).
    """
    file_path = Path(path).resolve()
    body = _read_feed_file(file_path)
    name = (feed_name or file_path.stem)[:200]
    feed, created = JobFeed.objects.get_or_create(url=file_path.as_uri(), defaults={"name": name})
    if not created and feed_name and feed.name != name:
        _record(feed, name=name)
    try:
        return _ingest(feed, body, rebase_to=rebase_to)
    except FeedParseError as exc:
        _record_error(feed, str(exc))
        raise


def job_feeds_bundled() -> list[Path]:
    """The demo feed files shipped with the app, in a stable order."""
    return sorted(p for p in BUNDLED_FEEDS_DIR.glob("*") if p.suffix in {".xml", ".rss", ".atom"})
