"""The Batch API lifecycle through the simulator: build, split, upload, poll, ingest, resubmit."""

import dataclasses
import json
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.db.models import Sum
from django.utils import timezone

from batches.models import Batch, BatchItem, BatchPart
from batches.services import (
    batch_cancel,
    batch_create,
    batch_ingest,
    batch_poll,
    batch_retry_failed,
    batch_run_pipeline,
    batch_submit,
)
from batches.services.common import part_path
from config.errors import DomainError
from llm.models import LLMCall
from llm.runtime import run
from llm.task import register
from tests.batches.conftest import (
    CRASH,
    TEST_TASK,
    WorkerDied,
    applied_names,
    assert_each_ends_once,
    failed_names,
    field_input,
    specs,
)

pytestmark = pytest.mark.django_db


def poll_until_finished(batch: Batch, *, limit: int = 10) -> Batch:
    for _ in range(limit):
        batch = batch_poll(batch=batch, min_interval_s=0)
        if batch.status in ("completed", "failed", "expired", "cancelled"):
            return batch
    raise AssertionError(f"still {batch.status}")


def test_a_batch_runs_through_the_provider_and_every_item_is_applied_once(sim, make_batch):
    # Given a built batch of 6 items
    batch = make_batch(6, name="fields")
    assert batch.status == Batch.Status.BUILT
    part = batch.parts.get()
    assert part.line_count == 6
    assert part_path(part, "input").exists()

    # When it is submitted, polled to the end and ingested
    batch = batch_submit(batch=batch)
    assert batch.status == Batch.Status.SUBMITTED
    assert set(BatchItem.objects.values_list("status", "attempts")) == {("submitted", 1)}
    batch = batch_poll(batch=batch, min_interval_s=0)
    assert batch.status == Batch.Status.IN_PROGRESS
    batch = poll_until_finished(batch)
    report = batch_ingest(batch=batch)

    # Then every item is applied once, with one ledger row each, and the figures add up
    batch.refresh_from_db()
    assert (report.applied, report.failed, report.resubmitted, report.settled) == (6, 0, 0, True)
    assert (batch.status, batch.items_applied, batch.request_completed) == (Batch.Status.INGESTED, 6, 6)
    assert applied_names() == [f"applied:f{i:05d}" for i in range(6)]
    calls = LLMCall.objects.filter(task=TEST_TASK.name, mode=LLMCall.Mode.BATCH)
    assert calls.count() == 6
    totals = calls.aggregate(tokens_in=Sum("tokens_in"), tokens_out=Sum("tokens_out"), cost=Sum("cost_usd"))
    assert (batch.tokens_in, batch.tokens_out, batch.cost_usd) == (
        totals["tokens_in"],
        totals["tokens_out"],
        totals["cost"],
    )
    assert batch.tokens_in > 0
    assert set(BatchItem.objects.values_list("llm_call_id", flat=True)) == set(calls.values_list("pk", flat=True))
    uploads = [c for c in sim.calls if c.endpoint == "files" and c.method == "POST"]
    assert len(uploads) == 1


def test_results_are_joined_on_custom_id_whatever_order_the_provider_writes(sim, make_batch, settings):
    # Given a provider that shuffles its output lines
    sim.config.batch_shuffle = True
    sim.config.batch_shuffle_chunk = 50
    batch = make_batch(30)

    # When the batch runs
    batch_run_pipeline(batch=batch, poll_interval=0)

    # Then the output file is not in input order, yet each item got the answer to its own prompt
    # (the simulator answers deterministically per prompt, so a live call reproduces it)
    output_ids = [json.loads(line)["custom_id"] for line in part_path(batch.parts.get(), "output").open()]
    assert output_ids != [f"item-{i}" for i in range(30)]
    assert sorted(output_ids) == sorted(f"item-{i}" for i in range(30))
    settings.OPENAI_CACHE_ENABLED = False
    for i in (0, 7, 29):
        item = BatchItem.objects.get(batch=batch, custom_id=f"item-{i}")
        expected = run(TEST_TASK, field_input(i), apply=False).output.model_dump()
        assert json.loads(item.output_summary) == expected


def test_a_large_batch_is_split_into_several_provider_jobs(sim, settings, make_batch):
    # Given provider limits of 3 lines per file
    settings.BATCH_MAX_LINES = 3

    # When 7 items are batched and run
    batch = make_batch(7)
    parts = list(batch.parts.order_by("number"))
    batch_run_pipeline(batch=batch, poll_interval=0)

    # Then there were three files and jobs, items belong to their part, and all were applied
    assert [p.line_count for p in parts] == [3, 3, 1]
    assert [BatchItem.objects.filter(part=p).count() for p in parts] == [3, 3, 1]
    assert len({p.provider_job_id for p in BatchPart.objects.filter(batch=batch)}) == 3
    assert len(applied_names()) == 7


def test_the_byte_limit_splits_files_too(settings, make_batch):
    one_line = len(next(part_path(make_batch(1).parts.get(), "input").open("rb")))
    settings.BATCH_MAX_BYTES = one_line * 2 + 10

    batch = batch_create(task=TEST_TASK, items=specs(5))

    sizes = list(batch.parts.order_by("number").values_list("byte_size", flat=True))
    assert len(sizes) == 3
    assert max(sizes) <= settings.BATCH_MAX_BYTES


def test_a_duplicate_custom_id_is_refused_before_anything_is_written_or_uploaded(sim):
    items = [*specs(3), ("item-1", field_input(99))]

    with pytest.raises(DomainError, match="Duplicate custom_id 'item-1'") as error:
        batch_create(task=TEST_TASK, items=items)

    assert error.value.code == "duplicate_custom_id"
    assert not Batch.objects.exists()
    assert not BatchItem.objects.exists()
    assert sim.stats["files"].total() == 0


def test_items_are_recorded_with_their_part_and_a_refused_batch_leaves_no_file(settings):
    # Given provider limits of 2 lines per file
    settings.BATCH_MAX_LINES = 2

    # When 5 items are batched, and then a batch with a duplicate id
    batch = batch_create(task=TEST_TASK, items=specs(5))
    with pytest.raises(DomainError):
        batch_create(task=TEST_TASK, items=[*specs(3), ("item-1", field_input(99))])

    # Then each item belongs to the part whose file holds its line, and the refused batch wrote nothing
    for part in batch.parts.all():
        written = [json.loads(line)["custom_id"] for line in part_path(part, "input").read_bytes().splitlines()]
        assert sorted(written) == sorted(BatchItem.objects.filter(part=part).values_list("custom_id", flat=True))
    assert [p.line_count for p in batch.parts.order_by("number")] == [2, 2, 1]
    assert sorted(p.parent.name for p in Path(settings.BATCH_DIR).glob("*/part-*")) == [batch.batch_id] * 3


def test_an_expired_batch_applies_its_partial_results_and_resubmits_the_rest(sim, make_batch):
    # Given a provider whose batches expire with half their lines done
    sim.config.batch_expire = True
    batch = make_batch(8)

    # When the batch runs and is ingested
    batch_submit(batch=batch)
    report = batch_ingest(batch=poll_until_finished(batch))

    # Then the finished half is applied and the rest went into a new batch that resubmits them
    batch.refresh_from_db()
    assert (report.applied, report.resubmitted) == (4, 4)
    assert (batch.items_applied, batch.items_resubmitted, batch.items_failed) == (4, 4, 0)
    retry = report.retry_batch
    assert retry.retry_of == batch
    assert retry.status == Batch.Status.BUILT
    assert retry.item_count == 4
    resubmitted = BatchItem.objects.filter(batch=batch, status="resubmitted")
    assert set(resubmitted.values_list("error_class", flat=True)) == {"expired"}
    assert sorted(retry.items.values_list("custom_id", flat=True)) == sorted(
        resubmitted.values_list("custom_id", flat=True)
    )
    assert set(retry.items.values_list("attempts", flat=True)) == {1}


def test_resubmission_stops_at_the_budget_and_every_custom_id_ends_once(sim, settings, make_batch):
    # Given batches that always expire half-done, and a budget of two resubmissions
    sim.config.batch_expire = True
    settings.BATCH_MAX_RESUBMITS = 2

    # When the pipeline follows the resubmissions
    result = batch_run_pipeline(batch=make_batch(8), poll_interval=0)

    # Then three batches ran (8 → 4 → 2 lines), and what was left is failed with the reason
    assert [b.item_count for b in result.batches] == [8, 4, 2]
    ends = assert_each_ends_once([f"item-{i}" for i in range(8)])
    assert sorted(ends.values()).count("applied") == 7
    lost = BatchItem.objects.get(status="failed")
    assert lost.attempts == 3
    assert "BATCH_MAX_RESUBMITS=2" in lost.error_message
    assert failed_names() == [f"failed:{lost.input['field_name']}"]  # the task's fail hook ran
    assert (result.applied, result.failed) == (7, 1)


def test_transient_line_errors_are_resubmitted_and_bad_outputs_are_not(sim, settings, make_batch):
    # Given a provider answering some lines with 500s and refusing others
    sim.config.batch_line_error_rate = 0.25
    sim.config.refusal = 0.2
    settings.BATCH_MAX_RESUBMITS = 5

    # When the pipeline runs to the end
    batch_run_pipeline(batch=make_batch(40), poll_interval=0)

    # Then every custom_id ends once; 500s were resubmitted, refusals failed at once with a reason
    ends = assert_each_ends_once([f"item-{i}" for i in range(40)])
    assert set(BatchItem.objects.filter(status="resubmitted").values_list("error_class", flat=True)) == {"server_error"}
    refused = BatchItem.objects.filter(status="failed")
    assert refused.exists()
    assert set(refused.values_list("error_class", flat=True)) == {"refusal"}
    assert set(refused.values_list("attempts", flat=True)) <= {1, 2, 3, 4, 5, 6}
    assert len(failed_names()) == refused.count() == list(ends.values()).count("failed")
    assert len(applied_names()) == list(ends.values()).count("applied")


def test_a_corrupted_output_line_fails_that_item_only(sim, make_batch):
    # Given a finished batch whose output file has one garbled line
    batch = make_batch(6)
    batch_submit(batch=batch)
    batch = poll_until_finished(batch)
    stored = sim.files.get(batch.parts.get().output_file_id)
    lines = stored.path.read_bytes().splitlines(keepends=True)
    victim = next(i for i, line in enumerate(lines) if b'"item-3"' in line)
    lines[victim] = lines[victim][:120] + b"\n"
    stored.path.write_bytes(b"".join(lines))
    stored.bytes = stored.path.stat().st_size

    # When it is ingested
    report = batch_ingest(batch=batch)

    # Then that item failed with a reason (and its fail hook ran); the others were applied
    item = BatchItem.objects.get(custom_id="item-3")
    assert (item.status, item.error_class) == ("failed", "corrupt_line")
    assert "corrupted" in item.error_message
    assert (report.applied, report.failed) == (5, 1)
    assert failed_names() == ["failed:f00003"]
    assert len(applied_names()) == 5


def test_a_crash_mid_ingest_leaves_a_state_a_rerun_completes_exactly_once(sim, settings, make_batch):
    # Given a finished batch of 10, ingested 4 lines per transaction, and a worker dying at the 7th apply
    settings.BATCH_INGEST_CHUNK = 4
    batch = make_batch(10)
    batch_submit(batch=batch)
    batch = poll_until_finished(batch)
    CRASH["after"] = 6

    # When the ingest dies mid-way
    with pytest.raises(WorkerDied):
        batch_ingest(batch=batch)

    # Then the first chunk is applied and recorded, the chunk in hand rolled back entirely
    assert BatchItem.objects.filter(status="applied").count() == len(applied_names()) == 4
    assert LLMCall.objects.filter(task=TEST_TASK.name).count() == 4
    batch.refresh_from_db()
    assert (batch.items_applied, batch.ingested_at) == (4, None)

    # When a rerun (the redelivered task) ingests again
    CRASH["after"] = None
    report = batch_ingest(batch=batch)

    # Then every item is applied exactly once (a second apply would hit the unique name)
    assert (report.applied, report.skipped) == (6, 4)
    assert applied_names() == [f"applied:f{i:05d}" for i in range(10)]
    assert LLMCall.objects.filter(task=TEST_TASK.name).count() == 10
    batch.refresh_from_db()
    assert (batch.status, batch.items_applied) == (Batch.Status.INGESTED, 10)


def test_a_line_repeated_in_the_next_chunk_is_applied_once(sim, settings, make_batch):
    # Given a finished batch of 6, ingested 3 lines a chunk, whose output repeats item-0's line in the
    # second chunk (read and judged while the first is still being written)
    settings.BATCH_INGEST_CHUNK = 3
    batch = make_batch(6)
    batch_submit(batch=batch)
    batch = poll_until_finished(batch)
    stored = sim.files.get(batch.parts.get().output_file_id)
    lines = sorted(stored.path.read_bytes().splitlines(keepends=True), key=lambda line: b'"item-0"' not in line)
    stored.path.write_bytes(b"".join([*lines[:3], lines[0], *lines[3:]]))

    # When it is ingested
    report = batch_ingest(batch=batch)

    # Then every item is applied once, with one ledger row each, and the repeat is skipped
    assert (report.applied, report.skipped) == (6, 1)
    assert applied_names() == [f"applied:f{i:05d}" for i in range(6)]
    assert LLMCall.objects.filter(task=TEST_TASK.name).count() == 6
    batch.refresh_from_db()
    assert (batch.status, batch.items_applied) == (Batch.Status.INGESTED, 6)


def test_ingesting_the_same_output_twice_changes_nothing(sim, make_batch):
    # Given a batch run to the end
    batch = make_batch(5)
    batch_run_pipeline(batch=batch, poll_interval=0)
    batch.refresh_from_db()
    before = (batch.items_applied, batch.tokens_in, batch.cost_usd, LLMCall.objects.count(), applied_names())

    # When its output files are read again, as a redelivered ingest would
    BatchPart.objects.filter(batch=batch).update(ingested_at=None)
    Batch.objects.filter(pk=batch.pk).update(status=Batch.Status.COMPLETED, ingested_at=None)
    report = batch_ingest(batch=batch)

    # Then nothing changed
    batch.refresh_from_db()
    assert (report.applied, report.failed, report.skipped) == (0, 0, 5)
    assert (batch.items_applied, batch.tokens_in, batch.cost_usd, LLMCall.objects.count(), applied_names()) == before
    # and an ingest of a settled batch is a no-op
    assert batch_ingest(batch=batch).applied == 0


def test_a_cancelled_batch_applies_what_finished_and_fails_the_rest_as_cancelled(sim, make_batch):
    # Given a batch in progress at the provider
    batch = make_batch(8)
    batch_submit(batch=batch)
    batch = batch_poll(batch=batch, min_interval_s=0)
    assert batch.status == Batch.Status.IN_PROGRESS

    # When it is cancelled, then polled to the end and ingested
    batch = batch_cancel(batch=batch)
    assert batch.status == Batch.Status.CANCELLING
    assert batch.cancel_requested_at is not None
    report = batch_ingest(batch=poll_until_finished(batch))

    # Then the half the provider finished is applied, the rest failed as cancelled (not resubmitted)
    assert (report.applied, report.failed, report.retry_batch) == (4, 4, None)
    cancelled = BatchItem.objects.filter(status="failed")
    assert set(cancelled.values_list("error_class", flat=True)) == {"cancelled"}
    assert len(failed_names()) == 4

    # When staff retry the failed items
    retry = batch_retry_failed(batch=batch)
    batch_run_pipeline(batch=retry, poll_interval=0)

    # Then they are applied in the new batch, and every custom_id ended once
    ends = assert_each_ends_once([f"item-{i}" for i in range(8)])
    assert set(ends.values()) == {"applied"}


def test_cancelling_before_submission_fails_every_item_at_once(sim, make_batch):
    batch = batch_cancel(batch=make_batch(3))

    assert (batch.status, batch.items_failed, batch.ingested_at is not None) == (Batch.Status.CANCELLED, 3, True)
    assert set(BatchItem.objects.values_list("status", "error_class")) == {("failed", "cancelled")}
    assert sim.stats["files"].total() == 0


def test_azure_token_limit_on_create_is_retried_with_backoff(make_sim, settings, make_batch):
    # Given a provider that fails the first two job creations with token_limit_exceeded
    make_sim(batch_create_token_limit_exceeded=2)
    settings.BATCH_CREATE_BACKOFF_S = 60
    batch = make_batch(4)
    batch_submit(batch=batch)

    # When polled, the job fails for the token limit: it waits its backoff before creating again
    with time_machine.travel(timezone.now(), tick=False) as clock:
        batch = batch_poll(batch=batch, min_interval_s=0)
        part = batch.parts.get()
        assert (part.status, part.create_attempts, part.error_code) == ("uploaded", 1, "token_limit_exceeded")
        assert part.retry_at == timezone.now() + timedelta(seconds=60)
        batch_poll(batch=batch, min_interval_s=0)
        assert batch.parts.get().create_attempts == 1  # still waiting
        clock.shift(61)
        batch_poll(batch=batch, min_interval_s=0)  # creates the job again...
        batch_poll(batch=batch, min_interval_s=0)  # ...which fails again: now it waits twice as long
        part = batch.parts.get()
        assert part.create_attempts == 2
        assert part.retry_at == timezone.now() + timedelta(seconds=120)
        clock.shift(121)
        batch_run_pipeline(batch=batch, poll_interval=0)

    # Then the third creation went through and every item was applied
    part = batch.parts.get()
    assert (part.status, part.create_attempts, part.error_code) == ("completed", 3, "")
    assert len(applied_names()) == 4


def test_a_refused_upload_fails_the_unsent_parts_and_their_items_with_the_reason(make_sim, settings, make_batch):
    # Given a provider that refuses our key, and a batch of two parts
    make_sim(require_api_key="sk-another-key")
    settings.BATCH_MAX_LINES = 2
    batch = make_batch(4)

    # When it is submitted and ingested
    batch = batch_submit(batch=batch)
    assert batch.status == Batch.Status.FAILED
    report = batch_ingest(batch=batch)

    # Then nothing is resubmitted (auth cannot clear by retrying); every item failed with the reason
    assert (report.failed, report.resubmitted) == (4, 0)
    assert set(BatchPart.objects.values_list("status", "error_code")) == {("failed", "auth")}
    assert set(BatchItem.objects.values_list("status", "error_class")) == {("failed", "auth")}
    assert "HTTP 401" in BatchItem.objects.first().error_message
    assert len(failed_names()) == 4


def test_a_transient_upload_failure_leaves_a_submit_to_resume(sim, monkeypatch, make_batch):
    # Given an upload that fails once with a 503
    from batches.services import submit as submit_module
    from llm.batching import BatchProviderError

    real_upload = submit_module.batch_file_upload
    failures = iter([BatchProviderError("Uploading failed: HTTP 503", kind="server_error", retryable=True)])

    def flaky_upload(**kwargs):
        error = next(failures, None)
        if error is not None:
            raise error
        return real_upload(**kwargs)

    monkeypatch.setattr(submit_module, "batch_file_upload", flaky_upload)
    batch = make_batch(3)

    # When the first submit fails, the batch waits in `submitting` with the reason
    with pytest.raises(BatchProviderError):
        batch_submit(batch=batch)
    batch.refresh_from_db()
    assert (batch.status, batch.error_message) == (Batch.Status.SUBMITTING, "Uploading failed: HTTP 503")
    assert set(BatchItem.objects.values_list("attempts", flat=True)) == {1}

    # Then submitting again resumes, counts no extra attempt, and the batch runs to the end
    batch_run_pipeline(batch=batch, poll_interval=0)
    assert set(BatchItem.objects.values_list("status", "attempts")) == {("applied", 1)}


def test_a_batch_is_polled_at_most_once_a_minute(sim, settings, make_batch):
    settings.BATCH_POLL_MIN_INTERVAL_S = 60
    batch = make_batch(2)
    with time_machine.travel(timezone.now(), tick=False) as clock:
        batch_submit(batch=batch)
        clock.shift(61)
        retrieves = sim.stats["batches"]["ok"]

        batch_poll(batch=batch)
        batch_poll(batch=batch)
        assert sim.stats["batches"]["ok"] == retrieves + 1
        clock.shift(61)
        batch_poll(batch=batch)
        assert sim.stats["batches"]["ok"] == retrieves + 2


# --- a task with a bulk apply ------------------------------------------------------------------

BULK_APPLIED: list[list[str]] = []


def _apply_many(items):
    names = [task_input.field_name for task_input, _, _ in items]
    if "f00002" in names:
        raise ValueError("f00002 cannot be applied")
    BULK_APPLIED.append(names)
    Group.objects.bulk_create([Group(name=f"applied:{name}") for name in names])


BULK_TASK = register(
    dataclasses.replace(TEST_TASK, name="batches_test_fields_bulk", apply=None, apply_many=_apply_many)
)


def test_apply_many_applies_in_bulk_and_one_bad_item_fails_alone(sim, make_batch):
    BULK_APPLIED.clear()
    batch = make_batch(5, task=BULK_TASK)

    batch_run_pipeline(batch=batch, poll_interval=0)

    # The chunk went as one call; it raised, so items went one by one and only the bad one failed
    assert BULK_APPLIED == [["f00000"], ["f00001"], ["f00003"], ["f00004"]]
    bad = BatchItem.objects.get(custom_id="item-2")
    assert (bad.status, bad.error_class) == ("failed", "apply_failed")
    assert "cannot be applied" in bad.error_message
    assert len(applied_names()) == 4
