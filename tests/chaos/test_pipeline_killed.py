"""The batch pipeline SIGKILLed after "Created batch", before submit: the reconciler submits the
batch left built, a worker polls and ingests it, and every product ends completed; nothing stuck."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest
from django.db import connection

from batches.models import Batch, BatchItem
from catalog.products.models import LOCALES, Product, ProductContent
from tests.chaos.conftest import Chaos
from tests.factories import CategoryFactory, ProductFactory

pytestmark = pytest.mark.chaos

LOCK_KEY = 15_004  # the advisory lock the trigger below waits on while this test holds it
PER_CATEGORY = 2


@pytest.fixture
def submit_held(chaos: Chaos) -> Iterator[None]:
    """Hold every batch submit at its first step (taking the batch's lease, an INSERT into the lease
    table) for as long as this test holds an advisory lock: the pipeline stops right after creating
    the batch, where it is killed."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [LOCK_KEY])
        cursor.execute(
            "CREATE OR REPLACE FUNCTION chaos_hold_batch_submit() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN IF NEW.name LIKE 'batches:batch:%%' THEN PERFORM pg_advisory_xact_lock({LOCK_KEY}); END IF; "
            "RETURN NEW; END $$"
        )
        cursor.execute(
            "CREATE TRIGGER chaos_hold_batch_submit BEFORE INSERT ON config_lease "
            "FOR EACH ROW EXECUTE FUNCTION chaos_hold_batch_submit()"
        )
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            # The killed pipeline's session may still wait in the trigger: end it, so nothing it did commits.
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid() AND wait_event_type = 'Lock'"
            )
            cursor.execute("DROP TRIGGER IF EXISTS chaos_hold_batch_submit ON config_lease")
            cursor.execute("DROP FUNCTION IF EXISTS chaos_hold_batch_submit()")
            cursor.execute("SELECT pg_advisory_unlock(%s)", [LOCK_KEY])


def _submit_waiting() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
        return cursor.fetchone()[0] > 0


def _all_completed() -> bool:
    return set(Product.objects.values_list("processing_status", flat=True)) == {Product.ProcessingStatus.COMPLETED}


def test_a_pipeline_killed_before_submit_is_finished_by_the_reconciler(chaos: Chaos, submit_held: None) -> None:
    # Given products in two categories and a batch pipeline that has just created its batch
    for category in CategoryFactory.create_batch(2):
        ProductFactory.create_batch(PER_CATEGORY, category=category)
    chaos.sim.config.batch_polls_per_stage = 0  # the provider finishes a batch by its first poll
    pipeline = chaos.start(
        "pipeline",
        [sys.executable, "manage.py", "run_batch_processing", "--action", "pipeline"]
        + ["--category-limit", str(PER_CATEGORY), "--poll-interval", "0.2", "--timeout", "60"],
    )
    pipeline.wait_for(r"Created batch", timeout=90)
    chaos.wait("the pipeline to start submitting", _submit_waiting, timeout=30, every=0.05)

    # When it is SIGKILLed there
    pipeline.kill()
    batch = Batch.objects.get()
    assert batch.status == Batch.Status.BUILT
    assert set(Product.objects.values_list("processing_status", flat=True)) == {Product.ProcessingStatus.QUEUED}

    # Then the reconciler submits the batch it left built (once its grace period is over)...
    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER chaos_hold_batch_submit ON config_lease")
    reconcile = chaos.manage("batches_reconcile", BATCH_RECONCILE_GRACE_S="0")
    assert reconcile.returncode == 0, reconcile.stderr
    assert "1 submitted" in reconcile.stdout, reconcile.stdout
    batch.refresh_from_db()
    assert batch.status not in (Batch.Status.CREATED, Batch.Status.BUILT, Batch.Status.SUBMITTING)

    # ...the scheduled poll finds it done and a worker ingests it: every product completed, nothing stuck
    chaos.worker(env={"BATCH_POLL_MIN_INTERVAL_S": "0"})
    chaos.send("batches.batch_poll_due")
    chaos.wait("every product completed", _all_completed, timeout=90)
    batch.refresh_from_db()
    assert batch.status == Batch.Status.INGESTED
    assert set(BatchItem.objects.values_list("status", flat=True)) == {BatchItem.Status.APPLIED}
    assert ProductContent.objects.filter(is_fallback=False).count() == 2 * PER_CATEGORY * len(LOCALES)
    assert not Batch.objects.exclude(status=Batch.Status.INGESTED).exists()
