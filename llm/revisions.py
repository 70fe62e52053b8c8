"""Staff's tools on one LLM task (admin → LLM tasks): clear its cached answers, or bump its prompt
version so that what it produced so far is regenerated."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser, User
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from config.errors import NotFoundError
from llm.cache import cache_clear
from llm.models import TaskRevision
from llm.task import LLMTask, get_task


@dataclass(frozen=True)
class RevisionBump:
    task: str
    version: int
    revision: int
    cache_entries_cleared: int
    results_marked_stale: int | None  # None: the task's domain cannot mark its results


def _task(task_name: str) -> LLMTask:
    try:
        return get_task(task_name)
    except KeyError as exc:
        raise NotFoundError(f"No LLM task named {task_name!r}.", code="task_not_found") from exc


def task_cache_clear(*, task_name: str) -> int:
    """Drop every cached answer of one task (all users); returns how many entries went."""
    _task(task_name)
    return cache_clear(task_name=task_name)


def task_revision_bump(*, task_name: str, user: User | AnonymousUser | None = None, note: str = "") -> RevisionBump:
    """Count one more prompt revision of the task, clear its cache and mark its stored results stale."""
    task = _task(task_name)
    with transaction.atomic():
        revision, _ = TaskRevision.objects.get_or_create(task=task.name)
        TaskRevision.objects.filter(pk=revision.pk).update(
            revision=F("revision") + 1,
            bumped_at=timezone.now(),
            bumped_by=user if user is not None and user.is_authenticated else None,
            note=note[:200],
        )
        revision.refresh_from_db()
        marked = task.mark_stale() if task.mark_stale is not None else None
    cleared = cache_clear(task_name=task.name)
    return RevisionBump(
        task=task.name,
        version=task.version,
        revision=revision.revision,
        cache_entries_cleared=cleared,
        results_marked_stale=marked,
    )
