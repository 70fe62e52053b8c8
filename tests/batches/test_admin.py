"""Batch admin: lists in constant queries, a limited items inline, file downloads, thin actions."""

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from batches.admin import ITEMS_SHOWN
from batches.models import Batch, BatchItem
from batches.services import batch_run_pipeline, batch_submit

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:batches_batch_changelist"


def queries_for(client, path: str) -> tuple[int, object]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    assert response.status_code == 200, response.content[:500]
    return len(captured), response


def test_the_changelist_shows_progress_and_cost_in_constant_queries(admin_client, make_batch, sim):
    first = make_batch(3)
    batch_run_pipeline(batch=first, poll_interval=0)
    few, response = queries_for(admin_client, reverse(CHANGELIST))
    assert b"3 / 0 / 3" in response.content

    for _ in range(5):
        make_batch(2)
    many, response = queries_for(admin_client, reverse(CHANGELIST) + "?status=built")

    assert many == few
    assert response.content.count(b"0 / 0 / 2") == 5


def test_the_change_page_shows_the_first_items_in_constant_queries(admin_client, make_batch, settings):
    settings.LLM_PROVIDER = "offline"
    small = make_batch(3)
    large = make_batch(ITEMS_SHOWN + 10)
    batch_run_pipeline(batch=large, poll_interval=0)

    queries_for(admin_client, reverse("admin:batches_batch_change", args=[small.pk]))  # warms the content-type cache
    few, _ = queries_for(admin_client, reverse("admin:batches_batch_change", args=[small.pk]))
    many, response = queries_for(admin_client, reverse("admin:batches_batch_change", args=[large.pk]))

    assert many == few
    content = response.content.decode()
    assert "item-0" in content
    assert f"item-{ITEMS_SHOWN - 1}<" in content
    assert f"item-{ITEMS_SHOWN}<" not in content
    assert f"all {ITEMS_SHOWN + 10} items" in content
    assert reverse("admin:batches_batch_file", args=[large.pk, 1, "output"]) in content


def test_files_download_from_disk(admin_client, make_batch, settings):
    settings.LLM_PROVIDER = "offline"
    batch = make_batch(2)
    batch_submit(batch=batch)

    response = admin_client.get(reverse("admin:batches_batch_file", args=[batch.pk, 1, "input"]))
    body = b"".join(response.streaming_content)

    assert response.status_code == 200
    assert body.count(b"\n") == 2
    assert b'"custom_id":"item-0"' in body
    assert admin_client.get(reverse("admin:batches_batch_file", args=[batch.pk, 1, "error"])).status_code == 404
    assert admin_client.get(reverse("admin:batches_batch_file", args=[batch.pk, 1, "secrets"])).status_code == 404
    assert admin_client.get(reverse("admin:batches_batch_file", args=[batch.pk, 9, "input"])).status_code == 404


def _act(client, action: str, *batches) -> list[str]:
    response = client.post(
        reverse(CHANGELIST), {"action": action, ACTION_CHECKBOX_NAME: [b.pk for b in batches]}, follow=True
    )
    assert response.status_code == 200
    return [str(m) for m in response.context["messages"]]


def test_actions_check_the_state_first_and_carry_the_batch_through(admin_client, make_batch, sim):
    built, submitted = make_batch(2), make_batch(2)
    batch_submit(batch=submitted)

    messages = _act(admin_client, "submit", built, submitted)

    # The state is checked first: the submitted one is refused at once, with the reason.
    assert any(f"{submitted.batch_id}: not done" in m and "already submitted" in m for m in messages)
    # Embedded mode (no broker): the action carries its batch through (submit, poll, ingest) and says so.
    assert any("Submitting 1 batch(es)" in m and "ran to the end" in m for m in messages)
    built.refresh_from_db()
    assert (built.status, built.items_applied) == (Batch.Status.INGESTED, 2)

    # What makes no sense for a finished batch is refused, with the reason, and changes nothing.
    assert any("already finished" in m for m in _act(admin_client, "cancel", built))
    assert any("already ingested" in m for m in _act(admin_client, "ingest", built))
    assert any("nothing is running at the provider" in m for m in _act(admin_client, "poll_now", built))
    assert any("none of its items failed" in m for m in _act(admin_client, "retry_failed", built))
    built.refresh_from_db()
    assert built.status == Batch.Status.INGESTED

    # Cancelling a batch at the provider is followed to the end: no item is left "submitted".
    messages = _act(admin_client, "cancel", submitted)
    assert any("Cancel requested at the provider for 1 batch(es)" in m for m in messages)
    submitted.refresh_from_db()
    assert submitted.ingested_at is not None
    assert not BatchItem.objects.filter(batch=submitted, status=BatchItem.Status.SUBMITTED).exists()
    assert submitted.items_applied + submitted.items_failed == 2


def test_the_items_list_pages_and_output_is_escaped(admin_client, make_batch):
    batch = make_batch(2)
    BatchItem.objects.filter(batch=batch, custom_id="item-0").update(output_summary="<script>alert(1)</script>")

    _, response = queries_for(
        admin_client, reverse("admin:batches_batchitem_changelist") + f"?batch__id__exact={batch.pk}"
    )
    _, change = queries_for(admin_client, reverse("admin:batches_batch_change", args=[batch.pk]))

    assert b"item-1" in response.content
    assert b"<script>alert(1)" not in change.content
    assert b"&lt;script&gt;" in change.content
