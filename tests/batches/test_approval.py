"""Money: every batch carries its estimated cost before it is sent; above BATCH_APPROVAL_USD it waits for a
staff member's approval, and the daily budget is checked before anything is submitted."""

from decimal import Decimal

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse

from batches.models import Batch, BatchPart
from batches.services import (
    BatchAwaitingApprovalError,
    DailyBudgetExceededError,
    batch_approve,
    batch_run_pipeline,
    batch_submit,
)
from llm.usage import estimate_cost
from tests.batches.conftest import TEST_TASK
from tests.factories import make_call

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:batches_batch_changelist")


def uploads(sim) -> list:
    return [c for c in sim.calls if c.endpoint in ("files", "batches")]


def test_the_estimate_is_the_built_input_and_every_answer_at_the_output_cap_at_batch_prices(make_batch, sim):
    batch = make_batch(4)

    size = sum(BatchPart.objects.filter(batch=batch).values_list("byte_size", flat=True))
    expected = estimate_cost(
        provider="openai", model="gpt-4o-mini", tokens_in=size // 4, tokens_out=4 * TEST_TASK.max_output_tokens,
        batch=True,
    )  # fmt: skip
    batch.refresh_from_db()
    assert batch.estimated_cost_usd == expected > 0
    assert batch.status == Batch.Status.BUILT  # far below the default $5


def test_offline_batches_cost_nothing_and_never_wait(make_batch, settings):
    settings.LLM_PROVIDER = "offline"
    settings.BATCH_APPROVAL_USD = 0

    batch = make_batch(3)

    assert (batch.estimated_cost_usd, batch.status) == (0, Batch.Status.BUILT)


def test_a_costly_batch_waits_for_approval_and_nothing_is_sent_before(make_batch, sim, settings, staff_user):
    settings.BATCH_APPROVAL_USD = 0  # every paid batch asks

    batch = make_batch(3)

    assert batch.status == Batch.Status.AWAITING_APPROVAL
    with pytest.raises(BatchAwaitingApprovalError, match="awaiting approval"):
        batch_submit(batch=batch)
    result = batch_run_pipeline(batch=batch, poll_interval=0)
    assert result.awaiting_approval is not None
    assert uploads(sim) == []

    batch_approve(batch=batch, user=staff_user)
    result = batch_run_pipeline(batch=batch, poll_interval=0)

    batch.refresh_from_db()
    assert (batch.status, batch.items_applied, batch.approved_by) == (Batch.Status.INGESTED, 3, staff_user)
    assert batch.approved_at is not None
    assert uploads(sim) != []


def test_the_admin_approves_and_carries_it_through_and_refuses_the_rest(admin_client, make_batch, sim, settings):
    settings.BATCH_APPROVAL_USD = 0
    waiting = make_batch(2)
    progress = admin_client.get(reverse("admin:batches_batch_progress_json", args=[waiting.pk])).json()
    assert progress["status"] == "awaiting_approval"
    assert "Waiting for approval" in progress["next_step"]

    refused = admin_client.post(CHANGELIST, {"action": "submit", ACTION_CHECKBOX_NAME: [waiting.pk]}, follow=True)
    assert any("awaiting approval" in str(m) for m in refused.context["messages"])

    response = admin_client.post(CHANGELIST, {"action": "approve", ACTION_CHECKBOX_NAME: [waiting.pk]}, follow=True)

    messages = [str(m) for m in response.context["messages"]]
    assert any(m.startswith("Approved an estimated $") for m in messages)
    assert response.redirect_chain[-1][0] == reverse("admin:batches_batch_progress", args=[waiting.pk])
    waiting.refresh_from_db()
    assert waiting.status == Batch.Status.INGESTED
    again = admin_client.post(CHANGELIST, {"action": "approve", ACTION_CHECKBOX_NAME: [waiting.pk]}, follow=True)
    assert any("not awaiting approval" in str(m) for m in again.context["messages"])


def test_the_daily_budget_is_checked_before_submitting(make_batch, sim, settings):
    settings.LLM_DAILY_BUDGET_USD = 1.0
    make_call(cost_usd=Decimal("0.999999"))  # today's spend so far
    make_call(cost_usd=Decimal("50"), days_ago=1.5)  # yesterday's does not count
    batch = make_batch(2)

    with pytest.raises(DailyBudgetExceededError, match="daily budget"):
        batch_submit(batch=batch)

    batch.refresh_from_db()
    assert batch.status == Batch.Status.BUILT  # it waits, built
    assert uploads(sim) == []
    settings.LLM_DAILY_BUDGET_USD = 0  # no budget: it goes
    assert batch_submit(batch=batch).status == Batch.Status.SUBMITTED


def test_the_progress_page_shows_the_next_step_and_polls_its_json(admin_client, make_batch, settings):
    settings.LLM_PROVIDER = "offline"
    batch = make_batch(2)

    page = admin_client.get(reverse("admin:batches_batch_progress", args=[batch.pk])).content.decode()
    state = admin_client.get(reverse("admin:batches_batch_progress_json", args=[batch.pk])).json()

    assert reverse("admin:batches_batch_progress_json", args=[batch.pk]) in page
    assert "contentops/progress.js" in page
    assert (state["status"], state["percent"], state["done"]) == ("built", 0, False)
    assert "Submit and follow" in state["next_step"]
