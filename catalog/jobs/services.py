"""Job feeds and listings: refresh feeds (guarded fetch → feedparser → upsert on (feed, guid)),
import a feed file, and the report the command, the API and the task show.

A broken feed (network, refused address, bad XML, over the body cap) records `last_error` on its
own row and never stops the other feeds; inside a feed, a bad item (no title, a value a column
refuses) is skipped or corrected and listed on the feed's `last_problems`, and never stops its
neighbours.
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
from django.db.models import F
from django.utils import timezone

from catalog.jobs.fetch import FeedFetchError, fetch_url, redact_url
from catalog.jobs.models import JobFeed, JobListing
from catalog.jobs.parsing import FeedParseError, ItemProblem, ParsedListing, parse_feed, rebase_posted_at
from catalog.jobs.parsing.feed import PROBLEMS_MAX
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


class FeedStoreError(FeedFetchError):
    """The database refused a feed's listings as a whole (not one item: those are skipped)."""


@dataclass
class FeedOutcome:
    feed_id: int
    feed_name: str
    status: str  # "ok" | "not_modified" | "error" | "skipped"
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    error: str = ""
    warning: str = ""
    problems: list[dict] = field(default_factory=list)  # as stored on JobFeed.last_problems


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
    def skipped(self) -> int:
        return sum(f.skipped for f in self.feeds)

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
                "skipped": self.skipped,
                "errors": self.errors,
            },
        }


@dataclass
class _UpsertCounts:
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: list[ItemProblem] = field(default_factory=list)


def _same(existing: dict, listing: ParsedListing) -> bool:
    wanted = listing.values()
    return all(existing[name] == wanted[name] for name in UPSERT_FIELDS)


def _bulk_upsert(rows: list[JobListing]) -> None:
    JobListing.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["feed", "guid"],
        update_fields=[*UPSERT_FIELDS, "updated_at"],
    )


def _write(rows: list[JobListing]) -> list[ItemProblem]:
    """Upsert the rows in one statement; if the database refuses it, row by row, each in its own
    savepoint, so one refused row (a value its column can't hold) never costs the others."""
    try:
        with transaction.atomic():
            _bulk_upsert(rows)
        return []
    except DatabaseError:
        pass
    failed: list[ItemProblem] = []
    for row in rows:
        try:
            with transaction.atomic():
                _bulk_upsert([row])
        except DatabaseError as exc:
            logger.warning("job feed %s: item %r refused by the database: %s", row.feed_id, row.guid[:100], exc)
            failed.append(
                ItemProblem(item=row.guid, problems=(f"not stored: {exc.__class__.__name__}",), skipped=True)
            )
    return failed


def _adopt_legacy_keys(feed: JobFeed, chunk: list[ParsedListing], existing: dict[str, dict]) -> None:
    """Items without id or link used to be keyed on a hash of their title and text ("sha1:…"), so
    every edit left a stale row. Their rows move to the stable title + company key (the newest one),
    and older copies of the same posting are deactivated."""
    wanted = {
        item.title: item for item in chunk if item.guid.startswith("title-company:") and item.guid not in existing
    }
    if not wanted:
        return
    legacy = (
        JobListing.objects.filter(feed=feed, guid__startswith="sha1:", title__in=list(wanted))
        .order_by("title", "-updated_at", "-id")
        .values("id", "title", "company")
    )
    adopted: set[str] = set()
    stale: list[int] = []
    for row in legacy:
        item = wanted[row["title"]]
        if row["company"] not in ("", item.company):
            continue
        if item.title in adopted:
            stale.append(row["id"])
            continue
        adopted.add(item.title)
        JobListing.objects.filter(pk=row["id"]).update(guid=item.guid)
    if stale:
        JobListing.objects.filter(pk__in=stale).update(active=False)
    if adopted:
        existing.update(_existing(feed, [wanted[title] for title in adopted]))


def _existing(feed: JobFeed, chunk: list[ParsedListing]) -> dict[str, dict]:
    return {
        row["guid"]: row
        for row in JobListing.objects.filter(feed=feed, guid__in=[item.guid for item in chunk]).values(
            "guid", *UPSERT_FIELDS
        )
    }


def job_listings_upsert(*, feed: JobFeed, listings: list[ParsedListing]) -> _UpsertCounts:
    """Insert new and update changed listings of one feed in bulk; (feed, guid) is the key.

    The classification (new/updated/unchanged) is for the report only; the write itself is an
    INSERT … ON CONFLICT DO UPDATE, so a concurrent refresh of the same feed cannot duplicate rows.
    Staff-owned fields (active, editorial pick, application count) are never overwritten. A row the
    database refuses is reported in `failed` and not counted; the others are stored.
    """
    counts = _UpsertCounts()
    for start in range(0, len(listings), _CHUNK):
        chunk = listings[start : start + _CHUNK]
        existing = _existing(feed, chunk)
        _adopt_legacy_keys(feed, chunk, existing)
        to_write: list[JobListing] = []
        kinds: dict[str, str] = {}
        for item in chunk:
            row = existing.get(item.guid)
            if row is not None and _same(row, item):
                counts.unchanged += 1
                continue
            kinds[item.guid] = "new" if row is None else "updated"
            to_write.append(JobListing(feed=feed, guid=item.guid, **item.values()))
        failed = _write(to_write) if to_write else []
        refused = {problem.item for problem in failed}
        counts.failed.extend(failed)
        for guid, kind in kinds.items():
            if guid not in refused:
                setattr(counts, kind, getattr(counts, kind) + 1)
    return counts


def _summary(counts: _UpsertCounts, *, skipped: int, corrected: int) -> str:
    text = f"{counts.new} new, {counts.updated} updated, {counts.unchanged} unchanged"
    if skipped:
        text += f", {skipped} skipped"
    if corrected:
        text += f", {corrected} corrected"
    return text


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
        last_problems=[],
    )
    return FeedOutcome(feed_id=feed.pk, feed_name=feed.name, status="error", error=message[:2000])


def _ingest(
    feed: JobFeed,
    body: bytes,
    *,
    content_type: str = "",
    etag: str = "",
    last_modified: str = "",
    base_url: str = "",
    rebase_to: datetime | None = None,
) -> FeedOutcome:
    now = timezone.now()
    # Demo files ship with fixed dates and are shifted to today: "ahead of now" means nothing there.
    parsed = parse_feed(body, content_type=content_type, base_url=base_url, now=now, check_ahead=rebase_to is None)
    if rebase_to is not None:
        rebase_posted_at(parsed.listings, newest=rebase_to)
    with transaction.atomic():
        counts = job_listings_upsert(feed=feed, listings=parsed.listings)
        skipped = len(parsed.skipped) + len(counts.failed)
        corrected = sum(1 for item in parsed.listings if item.problems)
        report = [problem.as_dict() for problem in [*counts.failed, *parsed.problems()][:PROBLEMS_MAX]]
        # The validators are stored only once the rows are in: a failed ingest refetches in full.
        _record(
            feed,
            etag=etag[:255],
            last_modified=last_modified[:100],
            last_fetched_at=now,
            last_success_at=now,
            last_status=JobFeed.FetchStatus.OK,
            last_error="",
            last_summary=_summary(counts, skipped=skipped, corrected=corrected)[:200],
            last_problems=report,
        )
    return FeedOutcome(
        feed_id=feed.pk,
        feed_name=feed.name,
        status="ok",
        new=counts.new,
        updated=counts.updated,
        unchanged=counts.unchanged,
        skipped=skipped,
        warning=parsed.warning,
        problems=report,
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


def job_feed_file_path(*, url: str) -> Path:
    """The file a `file://` feed URL reads, or FeedFileError when it is outside FEED_FILE_ROOTS or missing."""
    path = _file_feed_path(url)
    if not path.is_file():
        raise FeedFileError(f"no feed file {path.name!r} there")
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
        feed,
        result.body,
        content_type=result.content_type,
        etag=result.etag,
        last_modified=result.last_modified,
        base_url=result.url,
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
    except DatabaseError as exc:
        logger.exception("job feed file %s: database error while storing listings", feed.pk)
        message = f"could not store listings: {exc.__class__.__name__}"
        _record_error(feed, message)
        raise FeedStoreError(message) from exc


def job_feeds_bundled() -> list[Path]:
    """The demo feed files shipped with the app, in a stable order."""
    return sorted(p for p in BUNDLED_FEEDS_DIR.glob("*") if p.suffix in {".xml", ".rss", ".atom"})


def job_listing_click_record(*, job_id: int) -> None:
    """Someone followed a tracked link to the job: one more on its click count (an F() update, so
    concurrent clicks never lose one; `updated_at` stays, it belongs to the feed's content)."""
    JobListing.objects.filter(pk=job_id).update(click_count=F("click_count") + 1)


def job_listing_application_record(*, job_id: int) -> None:
    """Someone said they applied to the job: one more on its application count (an F() update)."""
    JobListing.objects.filter(pk=job_id).update(application_count=F("application_count") + 1)
