"""Periodic tasks are declared in code and synced into django-celery-beat (DESIGN.md §5.8).

Each app may have a `schedules.py` with `SCHEDULE: list[PeriodicSpec]`; `periodic_tasks_sync`
makes django-celery-beat's tables match the declarations, idempotently. One beat runs at a time
(config.beat), and every periodic task is idempotent per period with `periodic_once`:

    @shared_task(name="batches.batch_poll_due", acks_late=True)
    @periodic_once(period_s=60)          # the schedule's own interval (a crontab daily: 24 * 3600)
    def batch_poll_due() -> dict[str, int]: ...

A second run for the same period (a duplicate send, a failover beat re-sending) returns None at
once and does nothing; see `periodic_once` for the exact contract.
"""

import functools
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from importlib import import_module
from typing import Any, ParamSpec, TypeVar

from celery import current_task
from django.apps import apps
from django.conf import settings
from django.db import DatabaseError, IntegrityError, transaction
from django.utils import timezone
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

from config.models import PeriodicRun

logger = logging.getLogger("contentops.periodic")
P = ParamSpec("P")
R = TypeVar("R")

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


# --- idempotent per period ------------------------------------------------------------------


def periodic_period_key(*, period_s: int, now: datetime | None = None) -> str:
    """The start of the period (UTC) that `now` falls in, periods counted from the Unix epoch:
    period_s=60 gives the minute, 3600 the hour, 86400 the UTC day."""
    now = now or timezone.now()
    start = int(now.timestamp()) // period_s * period_s
    return datetime.fromtimestamp(start, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def periodic_run_claim(*, name: str, period_key: str, task_id: str = "") -> PeriodicRun | None:
    """Claim the run of `name` for `period_key`; None when that period's run is already claimed.

    The unique (name, period_key) row is the claim, so two workers racing get one winner. The same
    Celery message delivered again (its worker died: acks_late) may take its own claim back, if that
    run never finished, so a crash does not lose the period's work.
    """
    now = timezone.now()
    try:
        with transaction.atomic():
            return PeriodicRun.objects.create(name=name, period_key=period_key, task_id=task_id, started_at=now)
    except IntegrityError:
        pass
    if task_id:
        run = PeriodicRun.objects.filter(
            name=name, period_key=period_key, task_id=task_id, finished_at__isnull=True
        ).first()
        if run is not None:
            return run
    return None


def periodic_run_finish(*, run: PeriodicRun) -> None:
    """Mark a claimed run done (a redelivered copy of its message will then not run it again)."""
    run.finished_at = timezone.now()
    PeriodicRun.objects.filter(pk=run.pk).update(finished_at=run.finished_at)


def periodic_run_abandon(*, run: PeriodicRun) -> None:
    """Give the period back after a failed run, so a retry in the same period may run.

    When the database is what failed, the claim stays (the period is skipped, not doubled).
    """
    try:
        PeriodicRun.objects.filter(pk=run.pk, finished_at__isnull=True).delete()
    except DatabaseError:
        logger.warning("%s: the claim for %s was not given back", run.name, run.period_key, exc_info=True)


def periodic_runs_prune(*, older_than: timedelta | None = None) -> int:
    """Delete the records of runs started longer ago than PERIODIC_RUN_RETENTION_DAYS; returns how many."""
    older_than = older_than or timedelta(days=settings.PERIODIC_RUN_RETENTION_DAYS)
    deleted, _ = PeriodicRun.objects.filter(started_at__lt=timezone.now() - older_than).delete()
    return deleted


def periodic_once(*, period_s: int, name: str | None = None) -> Callable[[Callable[P, R]], Callable[P, R | None]]:
    """Make a periodic task idempotent per period: at most one run per `period_s` window.

    Put it under `@shared_task(...)` (it wraps the function, Celery wraps the result). Each call
    claims (`name`, the period it starts in) in `PeriodicRun` before running; when the period is
    claimed already the call logs and returns None without running. A run that raises gives its
    period back (the error propagates), and the same message redelivered after a worker died
    re-runs an unfinished claim, so work is neither doubled nor lost. Use the schedule's interval
    as `period_s` (crontab daily: 86400, periods are UTC); `name` defaults to module.function.
    The task's own work should still be safe to repeat: this guards the schedule, not the data.
    """

    def decorate(func: Callable[P, R]) -> Callable[P, R | None]:
        run_name = name or f"{func.__module__}.{func.__name__}"

        @functools.wraps(func)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R | None:
            period_key = periodic_period_key(period_s=period_s)
            request = getattr(current_task, "request", None)
            task_id = str(getattr(request, "id", None) or "")
            run = periodic_run_claim(name=run_name, period_key=period_key, task_id=task_id)
            if run is None:
                logger.info("%s: the run for %s already happened; skipped", run_name, period_key)
                return None
            try:
                result = func(*args, **kwargs)
            except BaseException:
                periodic_run_abandon(run=run)
                raise
            periodic_run_finish(run=run)
            return result

        return wrapper

    return decorate
