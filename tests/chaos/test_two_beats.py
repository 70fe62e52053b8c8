"""Two `celery beat` processes: only the lease holder sends, each periodic task runs once per period,
and when the holder is SIGKILLed the other takes over without sending what was already sent."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from config.models import PeriodicRun
from config.periodic import periodic_tasks_sync
from tests.chaos.conftest import Chaos, Proc

pytestmark = pytest.mark.chaos

# The interval schedules (every minute, every 5 minutes): due at once when their last run is old.
INTERVAL_TASKS = ("batches.batch_poll_due", "batches.batches_reconcile")
LEASE_TTL_S = 8.0  # short, so the takeover is quick; long enough that a loaded machine never loses it


def _sent(beat: Proc) -> list[str]:
    """The tasks a beat sent, from its log ("Scheduler: Sending due task <name> (<task>)")."""
    return re.findall(r"Sending due task .*? \(([\w.]+)\)", beat.output())


def _received(worker: Proc, task: str) -> int:
    return len(re.findall(rf"Task {re.escape(task)}\[[0-9a-f-]+\] received", worker.output()))


def test_two_beats_send_each_periodic_task_once(chaos: Chaos) -> None:
    # Given the declared schedules, the interval ones last run an hour ago (due now), and a worker
    periodic_tasks_sync()
    hour_ago = timezone.now() - timedelta(hours=1)
    assert PeriodicTask.objects.filter(task__in=INTERVAL_TASKS).update(last_run_at=hour_ago) == len(INTERVAL_TASKS)
    # Only they are enabled: a crontab schedule fires whenever a run happens to cross its minute.
    PeriodicTask.objects.exclude(task__in=INTERVAL_TASKS).update(enabled=False)
    worker = chaos.worker()

    # When two beats start side by side
    env = {"BEAT_LEASE_TTL_S": str(LEASE_TTL_S)}
    beats = [chaos.beat("beat-a", **env), chaos.beat("beat-b", **env)]

    # Then the due tasks are sent once, by one beat, and run once
    chaos.wait(
        "both interval tasks to run",
        lambda: PeriodicRun.objects.filter(name__in=INTERVAL_TASKS, finished_at__isnull=False).count() == 2,
        timeout=90,
    )
    time.sleep(LEASE_TTL_S)  # the standby tries the lease several times meanwhile
    senders = [beat for beat in beats if _sent(beat)]
    assert len(senders) == 1, [(beat.name, _sent(beat)) for beat in beats]
    leader = senders[0]
    standby = next(beat for beat in beats if beat is not leader)
    assert sorted(_sent(leader)) == sorted(INTERVAL_TASKS)
    assert all(_received(worker, task) == 1 for task in INTERVAL_TASKS), worker.tail()
    assert PeriodicRun.objects.filter(name__in=INTERVAL_TASKS).count() == 2

    # When the leader is SIGKILLed (its lease is left to expire)
    leader.kill()
    standby.wait_for(r"took the scheduler lease", timeout=LEASE_TTL_S * 3)
    time.sleep(2)

    # Then the standby leads from the saved run times: nothing sent again before its time
    assert [task for task in _sent(standby) if task in INTERVAL_TASKS] == []
    assert all(_received(worker, task) == 1 for task in INTERVAL_TASKS)
    assert PeriodicRun.objects.filter(name__in=INTERVAL_TASKS).count() == 2
