"""The generic batch API: staff or X-API-Key only, 404 in the error shape, queued long work."""

import pytest
from django.urls import reverse

from batches.models import Batch
from batches.services import batch_run_pipeline, batch_submit
from config.services import api_key_create

pytestmark = pytest.mark.django_db

ID_ROUTES = [
    ("get", "v1:batch-status"),
    ("post", "v1:batch-submit"),
    ("post", "v1:batch-process-results"),
    ("post", "v1:batch-cancel"),
    ("post", "v1:batch-retry-failed"),
    ("get", "v1:batch-results"),
]


def url(name: str, batch: Batch | str | None = None) -> str:
    if batch is None:
        return reverse(name)
    return reverse(name, args=[batch if isinstance(batch, str) else batch.batch_id])


def test_anonymous_clients_get_401_and_non_staff_users_403(api_client, user_client, make_batch):
    batch = make_batch(1)

    assert api_client.get(url("v1:batch-list")).status_code == 401
    assert user_client.get(url("v1:batch-list")).status_code == 403
    assert user_client.get(url("v1:batch-status", batch)).status_code == 403
    assert user_client.post(url("v1:batch-cancel", batch)).status_code == 403
    assert Batch.objects.get().status == Batch.Status.BUILT


def test_staff_and_service_keys_are_allowed(api_client, staff_client, staff_user, make_batch):
    batch = make_batch(2)
    _, raw_key = api_key_create(name="storefront", user=staff_user, scopes=["read", "staff"])

    by_staff = staff_client.get(url("v1:batch-status", batch))
    by_key = api_client.get(url("v1:batch-status", batch), HTTP_X_API_KEY=raw_key)

    assert by_staff.status_code == by_key.status_code == 200
    body = by_key.json()
    assert (body["batch_id"], body["status"], body["items"]["total"]) == (batch.batch_id, "built", 2)
    assert body["parts"][0]["line_count"] == 2


@pytest.mark.parametrize(("method", "name"), ID_ROUTES)
def test_unknown_batch_ids_are_404_in_the_error_shape(staff_client, method, name):
    response = getattr(staff_client, method)(url(name, "batch_nope"))

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "batch_not_found"


def test_submit_queues_the_upload_and_status_follows_the_provider(
    sim, staff_client, make_batch, django_capture_on_commit_callbacks
):
    batch = make_batch(3)

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(url("v1:batch-submit", batch))
    assert response.status_code == 202
    assert staff_client.get(url("v1:batch-status", batch)).json()["status"] in ("submitted", "in_progress")

    again = staff_client.post(url("v1:batch-submit", batch))
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "conflict"


def test_results_cannot_be_processed_before_the_batch_finishes(sim, staff_client, make_batch):
    batch = make_batch(2)
    batch_submit(batch=batch)

    response = staff_client.post(url("v1:batch-process-results", batch))

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "batch_not_finished"


def test_process_results_ingests_and_results_list_items_paginated(
    settings, staff_client, django_capture_on_commit_callbacks, make_batch
):
    # Given a finished offline batch of 60 items
    settings.LLM_PROVIDER = "offline"
    batch = make_batch(60)
    batch_submit(batch=batch)

    # When its results are processed
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(url("v1:batch-process-results", batch))

    # Then it is ingested (queued: the answer shows the batch as it stood), and its items list
    # 50 per page with status and an output summary
    assert response.status_code == 202
    assert staff_client.get(url("v1:batch-status", batch)).json()["status"] == "ingested"
    page = staff_client.get(url("v1:batch-results", batch)).json()
    assert page["count"] == 60
    assert len(page["results"]) == 50
    assert page["next"]
    first = page["results"][0]
    assert (first["custom_id"], first["status"], first["is_fallback"]) == ("item-0", "applied", True)
    assert first["output_summary"].startswith("{")
    assert staff_client.get(url("v1:batch-results", batch), {"status": "failed"}).json()["count"] == 0
    assert staff_client.get(url("v1:batch-results", batch), {"status": "bogus"}).status_code == 400


def test_cancel_and_retry_failed(sim, staff_client, make_batch, django_capture_on_commit_callbacks):
    batch = make_batch(2)

    response = staff_client.post(url("v1:batch-cancel", batch))
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    with django_capture_on_commit_callbacks(execute=True):
        retry = staff_client.post(url("v1:batch-retry-failed", batch))

    assert retry.status_code == 201
    body = retry.json()
    assert body["retry_of"] == batch.batch_id
    assert body["items"]["total"] == 2
    assert staff_client.get(url("v1:batch-status", body["batch_id"])).json()["status"] == "in_progress"
    assert staff_client.post(url("v1:batch-retry-failed", body["batch_id"])).status_code == 409


def test_the_list_filters_and_costs_constant_queries(sim, staff_client, make_batch, django_assert_num_queries):
    batch_run_pipeline(batch=make_batch(2), poll_interval=0)
    with django_assert_num_queries(3):  # count, page (retry_of and creator joined), parts
        small = staff_client.get(url("v1:batch-list"))
    for _ in range(4):
        make_batch(3)
    with django_assert_num_queries(3):
        large = staff_client.get(url("v1:batch-list"))

    assert small.json()["count"] == 1
    assert large.json()["count"] == 5
    assert staff_client.get(url("v1:batch-list"), {"status": "ingested"}).json()["count"] == 1
    assert staff_client.get(url("v1:batch-list"), {"task": "nope"}).json()["count"] == 0
