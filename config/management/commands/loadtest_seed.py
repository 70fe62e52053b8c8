"""`python manage.py loadtest_seed`: the data the API load test (loadtests/locustfile.py) reads.

2,000 job listings, a few people with a profile, 200 scored matches, a week of digests and a few
emails each, a staff user with a read+staff API key, and a few batches with items. Everything it
makes is named `loadtest-…` and is replaced on the next run; on PostgreSQL the tables it rewrote
are then vacuumed and analyzed (repeated runs leave no dead rows for the load test to read). The
credentials and ids the load test needs are written to a JSON file (default var/loadtest.json): API
tokens are secrets, so the file is readable by its owner only.
"""

from __future__ import annotations

import json
import os
import uuid
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandParser
from django.db import connection, transaction
from django.utils import timezone
from rest_framework.authtoken.models import Token

from batches.models import Batch, BatchItem, BatchPart
from catalog.jobs.models import JobFeed, JobListing
from config.services import api_key_create
from emails.models import Email
from profiles.models import DailyDigest, JobScore, UserProfile

PREFIX = "loadtest-"
SKILLS = ["Python", "Django", "AWS", "React", "SQL", "Go", "Kubernetes", "TypeScript", "Docker", "Git"]


class Command(BaseCommand):
    help = "Create the data the API load test reads (jobs, people with scores/digests/emails, batches)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--jobs", type=int, default=2000)
        parser.add_argument("--people", type=int, default=5)
        parser.add_argument("--scores", type=int, default=200, help="Scored matches per person.")
        parser.add_argument("--batches", type=int, default=5)
        parser.add_argument("--out", default=str(Path(settings.VAR_DIR) / "loadtest.json"))

    def handle(self, *args: Any, **options: Any) -> None:
        with transaction.atomic():
            _reset()
            seeded = _seed(
                jobs=options["jobs"], people=options["people"], scores=options["scores"], batches=options["batches"]
            )
        _vacuum()
        out = Path(options["out"])
        out.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as stream:
            json.dump(seeded, stream, indent=2)
        self.stdout.write(
            f"seeded {options['jobs']} jobs, {len(seeded['people'])} people, {len(seeded['batches'])} batches; "
            f"credentials and ids in {out}"
        )


def _reset() -> None:
    User = get_user_model()
    users = User.objects.filter(username__startswith=PREFIX)
    Email.objects.filter(recipient__in=users).delete()
    Batch.objects.filter(name__startswith=PREFIX).delete()
    JobListing.objects.filter(feed__name__startswith=PREFIX).delete()
    JobFeed.objects.filter(name__startswith=PREFIX).delete()
    users.delete()  # profiles, scores, digests, tokens and keys go with them


def _vacuum() -> None:
    """VACUUM ANALYZE the tables a run rewrites (PostgreSQL). Each run deletes its rows and inserts new
    ones; where autovacuum is off or behind, the dead rows pile up and every count and page of the
    load test reads them (20 runs left 40,000 dead listings beside 2,000 live ones, 12 MB)."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:  # VACUUM refuses a transaction (tests)
        return
    models = (JobListing, JobFeed, JobScore, DailyDigest, Email, UserProfile, Batch, BatchPart, BatchItem, Token)
    with connection.cursor() as cursor:
        for model in (*models, get_user_model()):
            cursor.execute(f"VACUUM ANALYZE {connection.ops.quote_name(model._meta.db_table)}")


def _seed(*, jobs: int, people: int, scores: int, batches: int) -> dict[str, Any]:
    User = get_user_model()
    now = timezone.now()
    feed_url = f"https://feeds.example.com/{PREFIX}{uuid.uuid4().hex[:8]}.rss"
    feed = JobFeed.objects.create(url=feed_url, name=PREFIX + "feed")
    listings = JobListing.objects.bulk_create(
        JobListing(
            feed=feed,
            guid=f"{PREFIX}{i}",
            title=f"{['Backend', 'Frontend', 'Data', 'Platform'][i % 4]} Engineer {i}",
            company=f"Company {i % 97}",
            location=["Tokyo, Japan", "Osaka, Japan", "Remote"][i % 3],
            remote=i % 3 == 2,
            salary_min=Decimal(4_000_000 + (i % 20) * 100_000),
            salary_max=Decimal(6_000_000 + (i % 20) * 100_000),
            salary_currency="JPY",
            description=f"Build and run services with {SKILLS[i % 10]} and {SKILLS[(i + 3) % 10]}. Posting {i}.",
            url=f"https://jobs.example.com/{PREFIX}{i}",
            posted_at=now - timedelta(hours=i % 500),
            skills=[SKILLS[i % 10], SKILLS[(i + 3) % 10], SKILLS[(i + 5) % 10]],
            language="en",
        )
        for i in range(jobs)
    )
    staff = User.objects.create_user(username=PREFIX + "staff", password=None, is_staff=True)
    _, api_key = api_key_create(name=PREFIX + "staff", user=staff, scopes=["read", "staff"])
    seeded: dict[str, Any] = {"api_key": api_key, "people": [], "batches": []}
    for n in range(people):
        user = User.objects.create_user(username=f"{PREFIX}person{n}", email=f"{PREFIX}person{n}@example.com")
        profile = UserProfile.objects.create(
            owner=user,
            user_id=user.username,
            full_name=f"Load Test {n}",
            email=user.email,
            location="Tokyo, Japan",
            time_zone="Asia/Tokyo",
            years_of_experience=1.5,
            career_level="entry",
            programming_languages=["Python", "SQL"],
            frameworks_libraries=["Django", "React"],
            tools_platforms=["AWS", "Git"],
            desired_roles=["Backend Engineer"],
            preferred_locations=["Tokyo", "Remote"],
            salary_range_min=4_000_000,
            salary_range_max=7_000_000,
        )
        JobScore.objects.bulk_create(
            JobScore(
                profile=profile,
                job=listings[(n * 37 + i) % len(listings)],
                compatibility_score=95.0 - i * 0.3,
                confidence_score=0.7,
                ai_reasoning="Strong skills overlap: Python and Django on AWS.",
                match_factors=["Python", "Django"],
                mismatch_factors=["Go"] if i % 3 == 0 else [],
                score_version="1",
            )
            for i in range(min(scores, len(listings)))
        )
        top = [{"job_id": listings[(n * 37 + i) % len(listings)].pk, "score": 95.0 - i} for i in range(5)]
        digests = DailyDigest.objects.bulk_create(
            DailyDigest(
                profile=profile,
                digest_date=timezone.localdate() - timedelta(days=d),
                digest_title=f"{5 + d} new matches",
                digest_summary="Your best match is a Backend Engineer role in Tokyo.",
                top_jobs=top,
                total_new_jobs=40 + d,
                total_matches=5 + d,
            )
            for d in range(7)
        )
        emails = Email.objects.bulk_create(
            Email(
                kind=Email.Kind.JOB_RECOMMENDATION,
                recipient=user,
                to_address=user.email,
                subject=f"Your job picks, week {w}",
                html="<p>Six sections of job picks.</p>",
                text="Six sections of job picks.",
                status=Email.Status.SENT,
                sent_at=now - timedelta(days=7 * w),
                week=f"2026-W{40 + w:02d}",
            )
            for w in range(4)
        )
        token = Token.objects.create(user=user)
        seeded["people"].append(
            {
                "user_id": user.username,
                "token": token.key,
                "digest_ids": [d.pk for d in digests],
                "email_ids": [e.pk for e in emails],
            }
        )
    for b in range(batches):
        batch = Batch.objects.create(
            batch_id=f"batch_{PREFIX.rstrip('-')}{uuid.uuid4().hex[:16]}",
            name=f"{PREFIX}{b}",
            task_name="product_content",
            task_version=1,
            provider="openai",
            model="gpt-4o-mini",
            status=Batch.Status.INGESTED,
            item_count=50,
            items_applied=50,
            submitted_at=now,
            ingested_at=now,
            created_by=staff,
        )
        BatchItem.objects.bulk_create(
            BatchItem(
                batch=batch,
                custom_id=f"{PREFIX}{b}-{i}",
                input={"product_id": i, "locale": "en-US"},
                status=BatchItem.Status.APPLIED,
                attempts=1,
                applied_at=now,
                output_summary='{"basic_info": {"overview": "A load test line."}}',
            )
            for i in range(50)
        )
        seeded["batches"].append(batch.batch_id)
    return seeded
