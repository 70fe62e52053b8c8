import pytest
from django.core.management import call_command
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from config.periodic import MANAGED_MARKER, PeriodicSpec, periodic_specs, periodic_tasks_sync

pytestmark = pytest.mark.django_db


def snapshot():
    return sorted(PeriodicTask.objects.values_list("name", "task", "crontab_id", "interval_id", "kwargs", "enabled"))


def test_setup_periodic_tasks_is_idempotent(capsys):
    call_command("setup_periodic_tasks")
    first = snapshot()
    crontabs = CrontabSchedule.objects.count()

    call_command("setup_periodic_tasks")

    assert snapshot() == first
    assert CrontabSchedule.objects.count() == crontabs
    assert {name for name, *_ in first} == {spec.name for spec in periodic_specs()}
    assert "0 created, 0 updated" in capsys.readouterr().out


def test_sync_updates_changed_schedules_and_removes_undeclared_ones():
    spec = PeriodicSpec(name="demo: tick", task="config.tasks.clear_expired_sessions", every_seconds=60)
    periodic_tasks_sync(specs=[spec])
    interval = PeriodicTask.objects.get(name="demo: tick").interval
    PeriodicTask.objects.create(name="hand-made", task="x.y", interval=interval)  # not ours: never touched

    report = periodic_tasks_sync(
        specs=[PeriodicSpec(name="demo: tick", task="config.tasks.clear_expired_sessions", every_seconds=120)]
    )

    assert report.updated == ["demo: tick"]
    assert PeriodicTask.objects.get(name="demo: tick").interval.every == 120

    report = periodic_tasks_sync(specs=[])

    assert report.removed == ["demo: tick"]
    assert list(PeriodicTask.objects.values_list("name", flat=True)) == ["hand-made"]


def test_hand_edits_to_declared_tasks_are_restored():
    periodic_tasks_sync()
    task = PeriodicTask.objects.filter(description__startswith=MANAGED_MARKER).first()
    task.enabled = False
    task.save()

    report = periodic_tasks_sync()

    assert task.name in report.updated
    assert PeriodicTask.objects.get(pk=task.pk).enabled is True


def test_a_spec_needs_exactly_one_schedule():
    with pytest.raises(ValueError, match="exactly one"):
        PeriodicSpec(name="bad", task="x", crontab="* * * * *", every_seconds=5)
