"""`batch_status` and the demo's offline batch (field descriptions, in the data dictionaries' demo step)."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from batches.models import Batch
from batches.services import batch_run_pipeline
from catalog.datasets.demo import run_batch as demo_run
from config.demo import DemoReport

pytestmark = pytest.mark.django_db


def test_batch_status_lists_and_shows_a_batch(make_batch, settings):
    settings.LLM_PROVIDER = "offline"
    batch = make_batch(3, name="three fields")
    batch_run_pipeline(batch=batch, poll_interval=0)

    listing, detail = StringIO(), StringIO()
    call_command("batch_status", stdout=listing)
    call_command("batch_status", batch.batch_id, stdout=detail)

    assert batch.batch_id in listing.getvalue()
    assert "applied 3/3" in listing.getvalue()
    assert "3 applied, 0 failed, 0 resubmitted, of 3" in detail.getvalue()
    assert "part 1: completed" in detail.getvalue()
    with pytest.raises(CommandError, match="No batch"):
        call_command("batch_status", "batch_missing", stdout=StringIO())


def test_the_demo_runs_an_offline_batch_to_the_end(settings):
    settings.LLM_PROVIDER = "offline"
    report = DemoReport()

    demo_run(report=report)

    batch = Batch.objects.get()
    assert (batch.status, batch.items_applied) == (Batch.Status.INGESTED, batch.item_count)
    assert batch.batch_id in report.done[0]
