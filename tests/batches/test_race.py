"""Two ingests racing on PostgreSQL: row claims (SKIP LOCKED) keep every apply single."""

import contextlib
import dataclasses
import threading

import pytest
from django.contrib.auth.models import Group
from django.db import connection

from batches.models import Batch, BatchItem
from batches.services import batch_create, batch_ingest, batch_submit
from batches.services import ingest as ingest_module
from llm.models import LLMCall
from llm.task import register
from tests.batches.conftest import TEST_TASK, specs

CLAIMED = threading.Event()
RELEASE = threading.Event()
HOLDER = "ingest-a"


def _slow_apply(task_input, output, provenance) -> None:
    # The first ingest stops inside its transaction, holding its claimed rows, until released.
    if threading.current_thread().name == HOLDER and not CLAIMED.is_set():
        CLAIMED.set()
        RELEASE.wait(10)
    Group.objects.create(name=f"applied:{task_input.field_name}")


SLOW_TASK = register(dataclasses.replace(TEST_TASK, name="batches_test_fields_slow", apply=_slow_apply))


class _NoLock:
    def refresh(self) -> None:
        pass


@pytest.mark.django_db(transaction=True)
def test_two_ingests_racing_apply_each_item_exactly_once(settings, monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("row claims with SELECT ... FOR UPDATE SKIP LOCKED are PostgreSQL's (SQLite runs one writer)")
    # Given a finished batch, and no cross-process lock (so only the row claims stand between them)
    settings.LLM_PROVIDER = "offline"
    monkeypatch.setattr(ingest_module, "batch_lock", lambda batch: contextlib.nullcontext(_NoLock()))
    CLAIMED.clear()
    RELEASE.clear()
    batch = batch_submit(batch=batch_create(task=SLOW_TASK, items=specs(20)))
    reports = {}

    def ingest(name: str) -> None:
        try:
            reports[name] = batch_ingest(batch=Batch.objects.get(pk=batch.pk))
        finally:
            connection.close()

    # When one ingest holds its claimed chunk mid-apply while a second one runs through
    first = threading.Thread(target=ingest, args=("a",), name=HOLDER)
    first.start()
    assert CLAIMED.wait(10)
    second = threading.Thread(target=ingest, args=("b",), name="ingest-b")
    second.start()
    second.join(0.5)
    RELEASE.set()
    first.join(10)
    second.join(10)

    # Then the second skipped the claimed items, and every item was applied (and billed) once
    assert reports["a"].applied == 20
    assert reports["b"].applied == 0
    assert reports["b"].skipped == 20
    assert Group.objects.filter(name__startswith="applied:").count() == 20
    assert BatchItem.objects.filter(status="applied").count() == 20
    assert LLMCall.objects.filter(task=SLOW_TASK.name).count() == 20
    batch.refresh_from_db()
    assert (batch.status, batch.items_applied, batch.items_resubmitted) == (Batch.Status.INGESTED, 20, 0)
