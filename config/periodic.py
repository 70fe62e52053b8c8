"""Periodic tasks are declared in code and synced into django-celery-beat (DESIGN.md §5.8).

Each app may have a `schedules.py` with `SCHEDULE: list[PeriodicSpec]`; `periodic_tasks_sync`
makes django-celery-beat's tables match the declarations, idempotently.
"""

import json
from dataclasses import dataclass, field
from importlib import import_module
from typing import Any

from django.apps import apps
from django.db import transaction
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

MANAGED_MARKER = "[declared in code] "


@dataclass(frozen=True, kw_only=True)
class PeriodicSpec:
    """One schedule: a Celery task name run on a crontab ("m h dom mon dow") or every N seconds."""

    name: str
    task: str
    crontab: str | None = None
    every_seconds: int | None = None
    kwargs: dict[str, Any] = field(default_factory=dict)
    description: str = ""

    def __post_init__(self) -> None:
        if (self.crontab is None) == (self.every_seconds is None):
            raise ValueError(f"{self.name}: give exactly one of crontab or every_seconds")
        if self.crontab is not None and len(self.crontab.split()) != 5:
            raise ValueError(f"{self.name}: crontab must have five fields, got {self.crontab!r}")


@dataclass
class SyncReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


def periodic_specs() -> list[PeriodicSpec]:
    """Every declared schedule, from each installed app's `schedules` module."""
    specs: list[PeriodicSpec] = []
    for app_config in apps.get_app_configs():
        try:
            module = import_module(f"{app_config.name}.schedules")
        except ModuleNotFoundError as exc:
            if exc.name != f"{app_config.name}.schedules":
                raise
            continue
        specs.extend(module.SCHEDULE)
    names = [spec.name for spec in specs]
    duplicates = {n for n in names if names.count(n) > 1}
    if duplicates:
        raise ValueError(f"periodic task names declared twice: {sorted(duplicates)}")
    return specs


def _schedule_fields(spec: PeriodicSpec) -> dict[str, Any]:
    if spec.crontab is not None:
        minute, hour, day_of_month, month_of_year, day_of_week = spec.crontab.split()
        crontab, _ = CrontabSchedule.objects.get_or_create(
            minute=minute,
            hour=hour,
            day_of_month=day_of_month,
            month_of_year=month_of_year,
            day_of_week=day_of_week,
            timezone="UTC",
        )
        return {"crontab": crontab, "interval": None}
    interval, _ = IntervalSchedule.objects.get_or_create(every=spec.every_seconds, period=IntervalSchedule.SECONDS)
    return {"interval": interval, "crontab": None}


@transaction.atomic
def periodic_tasks_sync(*, specs: list[PeriodicSpec] | None = None) -> SyncReport:
    """Make the beat tables match the declared schedules; running it twice changes nothing."""
    specs = periodic_specs() if specs is None else specs
    report = SyncReport()
    for spec in specs:
        wanted = {
            "task": spec.task,
            "kwargs": json.dumps(spec.kwargs, sort_keys=True),
            "description": MANAGED_MARKER + spec.description,
            "enabled": True,
            **_schedule_fields(spec),
        }
        task = PeriodicTask.objects.select_for_update().filter(name=spec.name).first()
        if task is None:
            PeriodicTask.objects.create(name=spec.name, **wanted)
            report.created.append(spec.name)
            continue
        changed = [key for key, value in wanted.items() if getattr(task, key) != value]
        if changed:
            for key in changed:
                setattr(task, key, wanted[key])
            task.save()
            report.updated.append(spec.name)
        else:
            report.unchanged.append(spec.name)
    stale = PeriodicTask.objects.filter(description__startswith=MANAGED_MARKER).exclude(
        name__in=[spec.name for spec in specs]
    )
    report.removed = sorted(stale.values_list("name", flat=True))
    stale.delete()
    return report
