"""Demo step for jobs: load the bundled RSS/Atom feeds (English and Japanese postings) from files.

No network. Posting dates are shifted so the newest is today (00:00 UTC): the files ship with fixed
dates, and a demo run the same day later finds every listing unchanged.
"""

from __future__ import annotations

from datetime import datetime, time

from django.utils import timezone

from catalog.jobs.models import JobListing
from catalog.jobs.parsing import FeedParseError
from catalog.jobs.services import FeedFileError, job_feeds_bundled, job_listings_import_file
from config.demo import DemoReport

DEMO_FEED_NAMES = {
    "graduate-tech-jobs.rss": "Demo: Graduate Tech Jobs Japan (RSS, English)",
    "shinsotsu-tech-jobs.atom": "Demo: 新卒・若手ITエンジニア求人 (Atom, Japanese)",
    "junior-remote-jobs.rss": "Demo: Junior & Remote Jobs Board (RSS, mixed)",
}


def run(*, report: DemoReport) -> None:
    """Refresh the bundled demo feeds and say what changed."""
    today = datetime.combine(timezone.now().date(), time.min, tzinfo=timezone.get_current_timezone())
    new = updated = unchanged = 0
    failed: list[str] = []
    files = job_feeds_bundled()
    for path in files:
        try:
            outcome = job_listings_import_file(path=path, feed_name=DEMO_FEED_NAMES.get(path.name), rebase_to=today)
        except (FeedFileError, FeedParseError) as exc:
            failed.append(f"{path.name}: {exc}")
            continue
        new, updated, unchanged = new + outcome.new, updated + outcome.updated, unchanged + outcome.unchanged
    total = JobListing.objects.filter(active=True).count()
    report.done.append(
        f"job feeds: loaded {len(files) - len(failed)} bundled feed(s) (RSS + Atom, English + Japanese): "
        f"{new} new, {updated} updated, {unchanged} unchanged listing(s); {total} active listing(s)"
    )
    for line in failed:
        report.done.append(f"WARNING: bundled job feed failed: {line}")
    report.look += [
        "jobs API: GET http://127.0.0.1:8000/api/v1/jobs/?skill=python&location=Tokyo (signed in)",
        "job feeds and listings: http://127.0.0.1:8000/admin/catalog/jobfeed/",
        "refresh feeds: python manage.py fetch_jobs [--feed URL | --file PATH | --bundled]",
    ]
