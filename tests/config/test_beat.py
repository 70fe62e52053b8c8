"""One scheduler at a time: two beats running, only the lease holder sends; the other idles until
the holder stops (or dies and its lease expires), then takes over from the saved run times."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from config import beat as beat_module
from config.beat import LEASE_NAME, LeasedDatabaseScheduler
from config.celery import app as celery_app
from config.models import Lease
from config.periodic import periodic_tasks_sync

# DatabaseScheduler commits and recycles connections itself: it needs real transactions.
pytestmark = pytest.mark.django_db(transaction=True)


class Clock:
    """time.monotonic as the beats see it (wall-clock time is moved with time-machine)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class RecordingScheduler(LeasedDatabaseScheduler):
    """The real scheduler, with the broker replaced by a list of what it would send."""

    producer = None  # never connect to a broker
    made: list["RecordingScheduler"] = []

    def __init__(self, *args, **kwargs) -> None:
        self.sent: list[str] = []
        super().__init__(*args, **kwargs)
        self.made.append(self)

    def apply_entry(self, entry, producer=None) -> None:
        self.sent.append(entry.task)


@pytest.fixture(autouse=True)
def _forget_schedulers():
    yield
    # DatabaseScheduler saves its entries again at interpreter exit; the test database is gone by then.
    for scheduler in RecordingScheduler.made:
        scheduler._finalize.cancel()
    RecordingScheduler.made.clear()


@pytest.fixture
def clock(monkeypatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(beat_module.time, "monotonic", clock)
    return clock


@pytest.fixture
def due_schedules(settings):
    settings.BEAT_LEASE_TTL_S = 60
    periodic_tasks_sync()
    # Every declared schedule last ran a day ago: all are due.
    PeriodicTask.objects.update(last_run_at=timezone.now() - timedelta(days=1))


def run_ticks(scheduler: RecordingScheduler, count: int = 30) -> None:
    for _ in range(count):
        scheduler.tick()


def test_two_beats_only_the_lease_holder_sends(clock, due_schedules):
    first = RecordingScheduler(app=celery_app)
    second = RecordingScheduler(app=celery_app)

    run_ticks(first)
    run_ticks(second)

    assert first.is_leader
    assert not second.is_leader
    assert first.sent.count("batches.batch_poll_due") == 1  # each due entry sent once
    assert len(first.sent) == len(set(first.sent))
    assert second.sent == []
    assert second.tick() == second.standby_interval_s
    assert Lease.objects.get(name=LEASE_NAME).holder == first.lease_holder
    first.close()
    second.close()


def test_the_standby_takes_over_from_a_stopped_beat_without_resending(clock, due_schedules):
    first = RecordingScheduler(app=celery_app)
    second = RecordingScheduler(app=celery_app)
    run_ticks(first)
    run_ticks(second)
    sent_by_first = list(first.sent)

    # When the first beat stops (deploy): it saves its run times and releases the lease
    first.close()
    clock.now += 5
    run_ticks(second)

    # Then the second leads at once, and what the first just sent is not sent again
    assert second.is_leader
    assert not Lease.objects.filter(holder=first.lease_holder).exists()
    assert sent_by_first
    assert second.sent == []
    second.close()


def test_a_dead_beats_lease_expires_and_the_standby_takes_over(clock, due_schedules):
    first = RecordingScheduler(app=celery_app)
    second = RecordingScheduler(app=celery_app)
    run_ticks(first)
    run_ticks(second)
    assert not second.is_leader

    # When the first beat dies (no close, no renewal) and its lease's minute passes
    with time_machine.travel(timezone.now() + timedelta(seconds=61), tick=False):
        clock.now += 61
        run_ticks(second)

        # Then the second took over and sends what is due now (the minute's poll among it), once
        assert second.is_leader
        assert second.sent.count("batches.batch_poll_due") == 1

        # And the first, coming back to life, finds it lost the lease and stays idle
        first.sent.clear()
        clock.now += 30
        run_ticks(first)
        assert not first.is_leader
        assert first.sent == []
    second.close()
