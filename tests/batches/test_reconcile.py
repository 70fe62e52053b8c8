"""The reconciler: batches left without a live owner (a pipeline killed between "created" and
submit, a worker killed mid-submit, a part that never got a provider job, a finished batch nobody
ingested) are put back in line once, however many reconcilers run, and their items end applied once."""

import threading
from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from batches.models import Batch, BatchItem, BatchPart
from batches.services import batch_run_pipeline, batch_submit, batches_reconcile
from batches.services import reconcile as reconcile_module
from batches.services import submit as submit_module
from batches.services.common import batch_dir, batch_lock_name
from batches.tasks import batch_poll_due, batches_reconcile_task
from config.models import Lease
from tests.batches.conftest import WorkerDied, applied_names, assert_each_ends_once

GRACE_S = 300


@pytest.fixture(autouse=True)
def _grace(settings):
    settings.BATCH_RECONCILE_GRACE_S = GRACE_S


def later(seconds: float = GRACE_S + 1):
    """The clock moved on (the reconciler runs on a schedule, minutes after the crash)."""
    return time_machine.travel(timezone.now() + timedelta(seconds=seconds), tick=False)


def provider_jobs(sim, batch: Batch) -> list[dict]:
    return [job for job in sim.batches.list(100)["data"] if job["metadata"]["contentops_batch"] == batch.batch_id]


def uploads(sim) -> int:
    return len([c for c in sim.calls if c.endpoint == "files" and c.method == "POST"])


def expected_names(count: int) -> list[str]:
    return [f"applied:f{i:05d}" for i in range(count)]


@pytest.mark.django_db
def test_a_batch_built_but_never_submitted_is_submitted_once_and_applied_once(sim, make_batch):
    # Given a pipeline killed after "Created batch", before submitting: the batch stays built
    batch = make_batch(5)
    assert batch.status == Batch.Status.BUILT

    # When the reconciler runs within the grace period, the batch may still have an owner: untouched
    assert batches_reconcile().submitted == []
    batch.refresh_from_db()
    assert batch.status == Batch.Status.BUILT

    with later():
        # When it runs after the grace period, twice in a row
        first = batches_reconcile()
        second = batches_reconcile()

        # Then the first submitted it, the second found nothing, and the provider got one job
        assert first.submitted == [batch.batch_id]
        assert (second.submitted, second.resumed, second.skipped, second.errors) == ([], [], [], {})
        batch.refresh_from_db()
        assert batch.status == Batch.Status.SUBMITTED
        assert len(provider_jobs(sim, batch)) == 1
        assert uploads(sim) == 1
        assert set(BatchItem.objects.filter(batch=batch).values_list("status", "attempts")) == {("submitted", 1)}

        # And once the provider finishes, every item is applied exactly once
        batch_run_pipeline(batch=batch, poll_interval=0, timeout_s=30)
    assert applied_names() == expected_names(5)
    assert assert_each_ends_once([f"item-{i}" for i in range(5)]) == {f"item-{i}": "applied" for i in range(5)}


@pytest.mark.django_db(transaction=True)
def test_two_reconcilers_racing_submit_a_stale_batch_once(sim, make_batch, monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("two reconcilers on two connections need a server database")
    # Given a batch left built, and two reconcilers that both pick it before either acts
    batch = make_batch(4)
    both_chose = threading.Barrier(2, timeout=10)
    real_submit = reconcile_module.batch_submit

    def submit_after_both_chose(*, batch: Batch) -> Batch:
        both_chose.wait()
        return real_submit(batch=batch)

    monkeypatch.setattr(reconcile_module, "batch_submit", submit_after_both_chose)
    reports = {}

    def reconcile(name: str) -> None:
        try:
            reports[name] = batches_reconcile()
        finally:
            connection.close()

    # When they run concurrently
    with later():
        threads = [threading.Thread(target=reconcile, args=(name,)) for name in ("a", "b")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)

        # Then one submitted it and the other stood back: one upload, one provider job
        assert sorted(len(report.submitted) for report in reports.values()) == [0, 1]
        assert sorted(report.skipped for report in reports.values()) == [[], [batch.batch_id]]
        assert all(not report.errors for report in reports.values())
        assert len(provider_jobs(sim, batch)) == 1
        assert uploads(sim) == 1
        assert BatchPart.objects.get(batch=batch).create_attempts == 1
        assert not Lease.objects.exists()  # the winner released the batch's lease

        # And the items end applied once
        batch_run_pipeline(batch=Batch.objects.get(pk=batch.pk), poll_interval=0, timeout_s=30)
    assert applied_names() == expected_names(4)


@pytest.mark.django_db
def test_a_built_batch_whose_files_are_gone_is_rebuilt_then_submitted(sim, make_batch):
    # Given a built batch whose JSONL files were lost (a wiped disk, another host) before submit
    batch = make_batch(3)
    for path in batch_dir(batch).iterdir():
        path.unlink()

    # When the reconciler runs after the grace period
    with later():
        report = batches_reconcile()

        # Then it was built again from the stored inputs and submitted
        assert (report.submitted, report.rebuilt) == ([batch.batch_id], [batch.batch_id])
        assert len(provider_jobs(sim, batch)) == 1
        batch_run_pipeline(batch=Batch.objects.get(pk=batch.pk), poll_interval=0, timeout_s=30)
    assert applied_names() == expected_names(3)


@pytest.mark.django_db
def test_a_submit_killed_mid_way_is_resumed_after_its_lease_expires(sim, make_batch, monkeypatch, settings):
    # Given a two-part batch whose submitting worker died after uploading part 1 and creating its
    # job, while uploading part 2 (no `finally` ran: its lease stays behind)
    settings.BATCH_MAX_LINES = 3
    batch = make_batch(5)
    real_upload = submit_module.batch_file_upload
    calls = {"n": 0}

    def dying_upload(**kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise WorkerDied("killed while uploading part 2")
        return real_upload(**kwargs)

    monkeypatch.setattr(submit_module, "batch_file_upload", dying_upload)
    with pytest.raises(WorkerDied):
        batch_submit(batch=batch)
    monkeypatch.setattr(submit_module, "batch_file_upload", real_upload)
    Lease.objects.create(
        name=batch_lock_name(batch.pk),
        holder="dead-worker",
        acquired_at=timezone.now(),
        expires_at=timezone.now() + timedelta(minutes=10),
    )
    batch.refresh_from_db()
    assert batch.status == Batch.Status.SUBMITTING

    # When the reconciler runs while the dead worker's lease is still live: it stands back
    with later(GRACE_S + 1):
        early = batches_reconcile()
    assert early.resumed == []
    assert early.skipped == [batch.batch_id]

    # When it runs after the lease expired
    with later(11 * 60):
        report = batches_reconcile()

        # Then the lease was released and the submission resumed where it stopped: part 1 was not
        # uploaded or created again, part 2 was
        assert report.leases_released == [batch_lock_name(batch.pk)]
        assert report.resumed == [batch.batch_id]
        assert len(provider_jobs(sim, batch)) == 2
        assert uploads(sim) == 2
        assert list(BatchPart.objects.filter(batch=batch).values_list("create_attempts", flat=True)) == [1, 1]
        batch_run_pipeline(batch=Batch.objects.get(pk=batch.pk), poll_interval=0, timeout_s=30)
    assert applied_names() == expected_names(5)


@pytest.mark.django_db
def test_an_active_batch_with_a_part_never_sent_gets_that_part_sent(sim, make_batch, settings):
    # Given a submitted two-part batch, one of whose parts never reached the provider
    settings.BATCH_MAX_LINES = 3
    batch = batch_submit(batch=make_batch(5))
    BatchPart.objects.filter(batch=batch, number=2).update(
        status=BatchPart.Status.BUILT, input_file_id="", provider_job_id=""
    )
    first_job = BatchPart.objects.get(batch=batch, number=1).provider_job_id
    assert batch.status == Batch.Status.SUBMITTED

    # When the reconciler runs after the grace period, twice
    with later():
        report = batches_reconcile()
        again = batches_reconcile()

        # Then only the missing part was sent; the first part kept its job
        assert report.resumed == [batch.batch_id]
        assert again.resumed == []
        parts = list(BatchPart.objects.filter(batch=batch).order_by("number"))
        assert parts[0].provider_job_id == first_job
        assert parts[1].provider_job_id
        assert len(provider_jobs(sim, batch)) == 3  # the lost one, still at the provider, plus two
        batch_run_pipeline(batch=Batch.objects.get(pk=batch.pk), poll_interval=0, timeout_s=30)
    assert applied_names() == expected_names(5)


@pytest.mark.django_db
def test_a_finished_batch_nobody_ingested_is_ingested(make_batch, settings):
    # Given an offline batch answered at submit, whose worker died before ingesting
    settings.LLM_PROVIDER = "offline"
    batch = batch_submit(batch=make_batch(3))
    assert batch.status == Batch.Status.COMPLETED

    # When the reconciler runs after the grace period
    with later():
        report = batches_reconcile()

    # Then it was ingested, each item applied once
    assert report.ingested == [batch.batch_id]
    batch.refresh_from_db()
    assert (batch.status, batch.items_applied) == (Batch.Status.INGESTED, 3)
    assert applied_names() == expected_names(3)


@pytest.mark.django_db
def test_the_minute_tick_sends_abandoned_built_batches_once_per_minute(
    sim, make_batch, django_capture_on_commit_callbacks
):
    # Given a batch built but never submitted
    batch = make_batch(2)

    # When the minute tick runs before the grace period: nothing
    with django_capture_on_commit_callbacks(execute=True):
        batch_poll_due()
    batch.refresh_from_db()
    assert batch.status == Batch.Status.BUILT

    # When it runs after the grace period, and once more in the same minute
    with later(), django_capture_on_commit_callbacks(execute=True):
        first = batch_poll_due()
        second = batch_poll_due()

    # Then it was submitted once; the duplicate run of that minute did nothing
    assert first["submit"] == 1
    assert second is None
    batch.refresh_from_db()
    assert batch.status == Batch.Status.SUBMITTED
    assert len(provider_jobs(sim, batch)) == 1


@pytest.mark.django_db
def test_the_reconcile_task_is_named_scheduled_and_idempotent_per_period(make_batch, settings):
    from config.periodic import periodic_specs

    settings.LLM_PROVIDER = "offline"
    spec = next(s for s in periodic_specs() if s.task == "batches.batches_reconcile")
    assert spec.every_seconds == 5 * 60
    assert batches_reconcile_task.name == "batches.batches_reconcile"
    batch = make_batch(2)

    with later():
        first = batches_reconcile_task()
        second = batches_reconcile_task()

    assert first["submitted"] == 1
    assert second is None  # the same 5 minutes: a duplicate send does nothing
    batch.refresh_from_db()
    assert batch.status == Batch.Status.COMPLETED


@pytest.mark.django_db
def test_the_command_prints_a_summary(make_batch, settings, capsys):
    settings.LLM_PROVIDER = "offline"
    call_command("batches_reconcile")
    assert "Nothing to reconcile" in capsys.readouterr().out

    batch = make_batch(2)
    with later():
        call_command("batches_reconcile")

    out = capsys.readouterr().out
    assert f"submitted  {batch.batch_id}" in out
    assert "Reconciled: 1 submitted (0 rebuilt), 0 resumed, 0 ingested" in out
