"""Celery task for data dictionary runs (the dictionary id only; the work is the service's), and
the request that runs a dictionary now or queues it."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass

from celery import shared_task
from django.conf import settings
from django.contrib.auth.models import AnonymousUser, User

from catalog.datasets.models import DataDictionary
from catalog.datasets.services.runs import DescribeSummary, data_dictionary_create, data_dictionary_describe
from catalog.datasets.sources import FieldProfile


@shared_task(name="catalog.data_dictionary_describe", acks_late=True, reject_on_worker_lost=True, ignore_result=False)
def data_dictionary_describe_task(dictionary_id: int) -> dict:
    """Describe a dictionary in the background. Safe to run twice: the apply is a conditional
    UPDATE per entry, and a cached answer costs no second call."""
    return data_dictionary_describe(dictionary_id=dictionary_id, background=True).as_dict()


@dataclass(frozen=True)
class DictionaryRequest:
    """What asking for a dictionary did: described it now (`summary`) or queued it (`run_id`)."""

    dictionary: DataDictionary
    run_id: str | None
    summary: DescribeSummary | None

    @property
    def queued(self) -> bool:
        return self.run_id is not None


def data_dictionary_request(
    *,
    name: str,
    source_kind: str,
    source_name: str,
    fields: list[FieldProfile],
    created_by: User | AnonymousUser | None = None,
    inline: bool = False,
    on_progress: Callable[[int, int], None] | None = None,
) -> DictionaryRequest:
    """Create (or refresh) the dictionary, then describe it now, or, when it is large and a broker
    is there, queue the run after this transaction commits."""
    dictionary = data_dictionary_create(
        name=name, source_kind=source_kind, source_name=source_name, fields=fields, created_by=created_by
    )
    large = len(fields) > settings.DATA_DICTIONARY_INLINE_MAX_FIELDS
    if inline or settings.CELERY_TASK_ALWAYS_EAGER or not large:
        summary = data_dictionary_describe(dictionary_id=dictionary.pk, on_progress=on_progress)
        dictionary.refresh_from_db()
        return DictionaryRequest(dictionary=dictionary, run_id=None, summary=summary)
    run_id = str(uuid.uuid4())
    DataDictionary.objects.filter(pk=dictionary.pk).update(run_id=run_id)
    dictionary.run_id = run_id
    data_dictionary_describe_task.apply_async_on_commit(kwargs={"dictionary_id": dictionary.pk}, task_id=run_id)
    return DictionaryRequest(dictionary=dictionary, run_id=run_id, summary=None)
