"""Celery tasks for job feeds. Arguments are ids only; the work is the service's."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from celery import shared_task
from django.conf import settings

from catalog.jobs.models import JobFeed
from catalog.jobs.selectors import job_feeds_due
from catalog.jobs.services import RefreshReport, job_feeds_refresh
from config.periodic import periodic_once

REFRESH_PERIOD_S = 3600  # the hourly schedule (catalog/schedules.py)


@shared_task(name="catalog.job_feeds_refresh", acks_late=True, reject_on_worker_lost=True, ignore_result=False)
def job_feeds_refresh_task(feed_ids: list[int] | None = None, on_demand: bool = False) -> dict | None:
    """Refresh the given feeds (default: every active http(s) feed); returns the report.

    The schedule's send (no arguments) runs once per hour (`periodic_once`: a duplicate send returns
    None); one asked for by a person (`on_demand`, or given feeds) always runs. Safe to run twice
    (a redelivery after a worker died): listings are upserted on (feed, guid).
    """
    if feed_ids or on_demand:
        return _refresh(feed_ids)
    return _scheduled_refresh()


@periodic_once(period_s=REFRESH_PERIOD_S, name="catalog.job_feeds_refresh")
def _scheduled_refresh() -> dict:
    return _refresh(None)


def _refresh(feed_ids: list[int] | None) -> dict:
    feeds = JobFeed.objects.filter(pk__in=feed_ids).order_by("name") if feed_ids else job_feeds_due()
    return job_feeds_refresh(feeds=list(feeds)).as_dict()


@dataclass(frozen=True)
class RefreshRequest:
    """What asking for a refresh did: queued (`task_id`) or, without a broker, ran inline (`report`)."""

    task_id: str | None
    report: RefreshReport | None

    @property
    def queued(self) -> bool:
        return self.task_id is not None


def job_feeds_refresh_request(*, feed_ids: list[int] | None = None) -> RefreshRequest:
    """Queue a refresh after the current transaction commits; run it inline when there is no broker."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        feeds = JobFeed.objects.filter(pk__in=feed_ids).order_by("name") if feed_ids else job_feeds_due()
        return RefreshRequest(task_id=None, report=job_feeds_refresh(feeds=list(feeds)))
    task_id = str(uuid.uuid4())
    job_feeds_refresh_task.apply_async_on_commit(
        kwargs={"feed_ids": feed_ids or None, "on_demand": True}, task_id=task_id
    )
    return RefreshRequest(task_id=task_id, report=None)
