"""Every periodic task is idempotent per period: a duplicate run for the same period does nothing,
a failed run gives its period back, and a redelivered message may finish its own unfinished run."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.utils import timezone

from config.celery import app as celery_app
from config.models import PeriodicRun
from config.periodic import (
    periodic_once,
    periodic_period_key,
    periodic_run_claim,
    periodic_run_finish,
    periodic_runs_prune,
    periodic_specs,
)
from config.tasks import clear_expired_sessions

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 1, 3, 17, 5, tzinfo=UTC)
RUNS: list[str] = []


@periodic_once(period_s=60, name="tests.tick")
def tick(label: str) -> str:
    RUNS.append(label)
    if label == "boom":
        raise RuntimeError("the run failed")
    return label


@pytest.fixture(autouse=True)
def _runs():
    RUNS.clear()


def test_period_keys_are_the_start_of_the_utc_period():
    assert periodic_period_key(period_s=60, now=T0) == "2026-03-01T03:17:00Z"
    assert periodic_period_key(period_s=300, now=T0) == "2026-03-01T03:15:00Z"
    assert periodic_period_key(period_s=86400, now=T0) == "2026-03-01T00:00:00Z"


def test_a_second_run_in_the_same_period_does_nothing():
    with time_machine.travel(T0, tick=False) as clock:
        assert tick("first") == "first"
        assert tick("duplicate") is None  # e.g. a second beat's send of the same minute
        clock.shift(timedelta(seconds=50))
        assert tick("same minute, later") is None
        clock.shift(timedelta(seconds=10))
        assert tick("next minute") == "next minute"

    assert RUNS == ["first", "next minute"]
    assert sorted(PeriodicRun.objects.values_list("period_key", flat=True)) == [
        "2026-03-01T03:17:00Z",
        "2026-03-01T03:18:00Z",
    ]
    assert not PeriodicRun.objects.filter(finished_at__isnull=True).exists()


def test_a_failed_run_gives_its_period_back():
    with time_machine.travel(T0, tick=False):
        with pytest.raises(RuntimeError):
            tick("boom")
        assert tick("retry") == "retry"

    assert RUNS == ["boom", "retry"]


def test_a_redelivered_message_may_finish_its_own_unfinished_run_only():
    key = "2026-03-01T03:17:00Z"
    claimed = periodic_run_claim(name="tests.tick", period_key=key, task_id="msg-1")
    assert claimed is not None

    # Its worker died mid-run: the same message, delivered again, takes the claim back...
    assert periodic_run_claim(name="tests.tick", period_key=key, task_id="msg-1") == claimed
    # ...another message for the same period does not
    assert periodic_run_claim(name="tests.tick", period_key=key, task_id="msg-2") is None
    assert periodic_run_claim(name="tests.tick", period_key=key) is None
    # and once the run finished, not even its own message runs it again
    periodic_run_finish(run=claimed)
    assert periodic_run_claim(name="tests.tick", period_key=key, task_id="msg-1") is None


def test_clearing_sessions_twice_in_a_day_does_nothing_the_second_time():
    def expired_session() -> str:
        store = SessionStore()
        store["x"] = 1
        store.create()
        Session.objects.filter(session_key=store.session_key).update(expire_date=timezone.now() - timedelta(days=1))
        return store.session_key

    with time_machine.travel(T0, tick=False) as clock:
        first = expired_session()
        clear_expired_sessions()
        assert not Session.objects.filter(session_key=first).exists()

        second = expired_session()
        clock.shift(timedelta(hours=2))
        clear_expired_sessions()  # a duplicate send the same (UTC) day
        assert Session.objects.filter(session_key=second).exists()

        clock.shift(timedelta(days=1))
        clear_expired_sessions()
        assert not Session.objects.filter(session_key=second).exists()


def test_old_run_records_are_pruned(settings):
    settings.PERIODIC_RUN_RETENTION_DAYS = 14
    with time_machine.travel(T0 - timedelta(days=15), tick=False):
        tick("old")
    with time_machine.travel(T0, tick=False):
        tick("new")
        assert periodic_runs_prune() == 1

    assert list(PeriodicRun.objects.values_list("period_key", flat=True)) == ["2026-03-01T03:17:00Z"]


def test_every_declared_schedule_names_a_registered_task_and_batches_and_config_ones_run_once_per_period(
    settings,
):
    settings.LLM_PROVIDER = "offline"
    celery_app.autodiscover_tasks(force=True)
    specs = periodic_specs()
    missing = [spec.task for spec in specs if spec.task not in celery_app.tasks]
    assert missing == []

    ours = [spec for spec in specs if spec.task.split(".")[0] in ("batches", "config")]
    assert {spec.task for spec in ours} >= {
        "batches.batch_poll_due",
        "batches.batches_reconcile",
        "config.sessions_clear_expired",
        "config.periodic_runs_prune",
    }
    with time_machine.travel(T0, tick=False):
        for spec in ours:
            task = celery_app.tasks[spec.task]
            task()
            assert task() is None, spec.task  # the duplicate of the same period
            assert PeriodicRun.objects.filter(name=spec.task).count() == 1, spec.task
