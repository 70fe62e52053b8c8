"""The offline provider runs the same pipeline locally; Celery drives batches on a schedule."""

import dataclasses
import json
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from batches.models import Batch, BatchItem
from batches.services import batch_cancel, batch_create, batch_run_pipeline, batch_submit
from batches.services.common import part_path
from batches.tasks import batch_ingest_task, batch_poll_due, batch_submit_task
from config.errors import ConflictError
from config.periodic import periodic_specs
from llm.models import LLMCall
from llm.task import register
from tests.batches.conftest import TEST_TASK, applied_names, assert_each_ends_once, specs

pytestmark = pytest.mark.django_db

SEEN: list = []


def _record(task_input, output, provenance) -> None:
    SEEN.append((task_input.field_name, output, provenance))


RECORDING_TASK = register(dataclasses.replace(TEST_TASK, name="batches_test_fields_recording", apply=_record))


def test_offline_batches_run_locally_through_the_same_ingest_flagged_as_fallback(settings):
    # Given no provider configured
    settings.LLM_PROVIDER = "offline"
    SEEN.clear()
    batch = batch_create(task=RECORDING_TASK, items=specs(4))

    # When it is submitted (answered locally) and the pipeline ingests it
    batch = batch_submit(batch=batch)
    assert batch.status == Batch.Status.COMPLETED
    output = part_path(batch.parts.get(), "output")
    assert len(output.read_text().splitlines()) == 4
    batch_run_pipeline(batch=batch, poll_interval=0)

    # Then every item got its task's fallback, flagged in provenance, items and the ledger
    batch.refresh_from_db()
    assert (batch.status, batch.items_applied, batch.cost_usd) == (Batch.Status.INGESTED, 4, 0)
    assert [name for name, _, _ in SEEN] == ["f00000", "f00001", "f00002", "f00003"]
    for name, output_model, provenance in SEEN:
        assert output_model == TEST_TASK.fallback_output(
            next(s.task_input for s in specs(4) if s.task_input.field_name == name)
        )
        assert (provenance.is_fallback, provenance.provider, provenance.fallback_reason) == (
            True,
            "fallback",
            "offline",
        )
        assert provenance.call_id is not None
    assert set(BatchItem.objects.values_list("is_fallback", flat=True)) == {True}
    calls = LLMCall.objects.filter(task=RECORDING_TASK.name)
    assert set(calls.values_list("mode", "status", "error_class")) == {("batch", "fallback", "offline")}
    assert json.loads(output.read_text().splitlines()[0])["response"]["body"]["object"] == "chat.completion"


def test_a_finished_offline_batch_cannot_be_cancelled(settings):
    settings.LLM_PROVIDER = "offline"
    batch = batch_submit(batch=batch_create(task=TEST_TASK, items=specs(2)))

    with pytest.raises(ConflictError, match="already finished"):
        batch_cancel(batch=batch)


def test_the_poll_schedule_is_declared_every_minute():
    spec = next(s for s in periodic_specs() if s.task == "batches.batch_poll_due")

    assert spec.every_seconds == 60


def test_tasks_are_acked_late_and_take_ids():
    for task in (batch_poll_due, batch_submit_task, batch_ingest_task):
        assert task.acks_late
        assert task.reject_on_worker_lost


def test_the_scheduler_polls_ingests_and_sends_resubmissions(sim, make_batch, django_capture_on_commit_callbacks):
    # Given a submitted batch at a provider whose batches expire half-done
    sim.config.batch_expire = True
    batch = make_batch(8)
    batch_submit(batch=batch)

    # When the minute tick runs a few times (a minute apart: a second run in one minute is a no-op)
    with time_machine.travel(timezone.now(), tick=False) as clock:
        for _ in range(12):
            with django_capture_on_commit_callbacks(execute=True):
                batch_poll_due()
            clock.shift(timedelta(minutes=1))

    # Then the batch and its resubmissions were polled, ingested and sent on, to the budget's end
    assert Batch.objects.filter(status=Batch.Status.INGESTED).count() == 3
    assert Batch.objects.exclude(status=Batch.Status.INGESTED).count() == 0
    ends = assert_each_ends_once([f"item-{i}" for i in range(8)])
    assert list(ends.values()).count("applied") == len(applied_names()) == 7
