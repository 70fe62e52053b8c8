"""Reads for job feeds and listings: the API list with its filters, and the feeds due a refresh."""

from __future__ import annotations

import json
from datetime import datetime

from django.db import connection
from django.db.models import F, Q, QuerySet

from catalog.jobs.models import JobFeed, JobListing
from catalog.jobs.skills import canonical_skill


def job_feeds_due() -> QuerySet[JobFeed]:
    """Active feeds fetched over the network; file feeds are refreshed only when asked for."""
    return JobFeed.objects.filter(active=True).filter(Q(url__startswith="http://") | Q(url__startswith="https://"))


def _has_skill(skill: str) -> Q:
    name = canonical_skill(skill) or skill.strip()
    if connection.vendor == "postgresql":
        return Q(skills__contains=[name])  # jsonb @> : exact element match
    # SQLite has no JSON containment; the stored JSON text holds each name in quotes (names are ASCII,
    # stored with escapes otherwise), so a quoted substring is an exact element match.
    return Q(skills__icontains=json.dumps(name))


def job_listings_list(
    *,
    q: str = "",
    location: str = "",
    remote: bool | None = None,
    skill: str = "",
    posted_since: datetime | None = None,
    include_inactive: bool = False,
) -> QuerySet[JobListing]:
    """Listings for the API, newest first, with their feed in the same query (its fetch problems and
    last error left unread: a listing shows its feed's id and name)."""
    qs = JobListing.objects.select_related("feed").defer("feed__last_problems", "feed__last_error")
    if not include_inactive:
        qs = qs.filter(active=True)
    if q.strip():
        term = q.strip()
        qs = qs.filter(Q(title__icontains=term) | Q(company__icontains=term) | Q(description__icontains=term))
    if location.strip():
        qs = qs.filter(location__icontains=location.strip())
    if remote is not None:
        qs = qs.filter(remote=remote)
    if skill.strip():
        qs = qs.filter(_has_skill(skill))
    if posted_since is not None:
        qs = qs.filter(posted_at__gte=posted_since)
    # Undated postings last on every database (PostgreSQL would put NULLs first when descending).
    return qs.order_by(F("posted_at").desc(nulls_last=True), "-id")
