"""The scheduled feed refresh runs once per hour however many times the beat sends it (a second
beat, a failover); a refresh someone asked for always runs."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine

from catalog.jobs import tasks as jobs_tasks
from catalog.jobs.services import RefreshReport

pytestmark = pytest.mark.django_db


@pytest.fixture
def refreshes(monkeypatch):
    calls: list[list] = []

    def fake_refresh(*, feeds):
        calls.append(feeds)
        return RefreshReport()

    monkeypatch.setattr(jobs_tasks, "job_feeds_refresh", fake_refresh)
    return calls


def test_a_duplicate_scheduled_send_in_the_same_hour_does_nothing(refreshes):
    with time_machine.travel(datetime(2025, 3, 1, 10, 0, 5, tzinfo=UTC), tick=False):
        first = jobs_tasks.job_feeds_refresh_task.apply().get()
    with time_machine.travel(datetime(2025, 3, 1, 10, 0, 40, tzinfo=UTC), tick=False):
        duplicate = jobs_tasks.job_feeds_refresh_task.apply().get()
    with time_machine.travel(datetime(2025, 3, 1, 11, 0, 5, tzinfo=UTC), tick=False):
        next_hour = jobs_tasks.job_feeds_refresh_task.apply().get()

    assert first is not None
    assert duplicate is None
    assert next_hour is not None
    assert len(refreshes) == 2


def test_a_refresh_someone_asked_for_runs_even_after_the_hours_scheduled_one(refreshes):
    with time_machine.travel(datetime(2025, 3, 1, 10, 0, 5, tzinfo=UTC), tick=False):
        jobs_tasks.job_feeds_refresh_task.apply().get()
        asked = jobs_tasks.job_feeds_refresh_task.apply(kwargs={"feed_ids": None, "on_demand": True}).get()

    assert asked is not None
    assert len(refreshes) == 2
