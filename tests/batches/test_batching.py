"""The llm side of batches (llm/batching.py): request lines, result lines, ledger rows."""

import json
from decimal import Decimal

import pytest

from catalog.datasets.llm import FIELD_DESCRIPTION, FieldDescription
from llm.batching import (
    CORRUPT_LINE,
    EXPIRED,
    LineBuilder,
    batch_call_build,
    batch_calls_save,
    batch_endpoint,
    batch_limits,
    fallback_result_line,
    interpret_result,
    read_result_line,
)
from llm.models import LLMCall
from llm.providers import ProviderConfig, provider_config
from llm.runtime import run
from llm.usage import estimate_cost
from tests.batches.conftest import TEST_TASK, field_input

AZURE = ProviderConfig(
    kind="azure", model="gpt-4o-mini", azure_endpoint="https://x.openai.azure.com", azure_deployment="prod-4o-mini"
)


def result_line(content: str | None, *, finish: str = "stop", refusal: str | None = None, custom_id: str = "a"):
    body = {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "model": "gpt-4o-mini",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content, "refusal": refusal},
                "finish_reason": finish,
            }
        ],
        "usage": {"prompt_tokens": 120, "completion_tokens": 30, "total_tokens": 150},
    }
    line = {"id": "r", "custom_id": custom_id, "response": {"status_code": 200, "request_id": "req_1", "body": body}}
    return read_result_line(json.dumps(line).encode())


GOOD = FieldDescription(business_name="Email", description="Email address of the contact.").model_dump_json()


@pytest.mark.django_db
def test_a_request_line_carries_exactly_what_a_live_structured_call_sends(sim):
    # Given the same input sent live through the runtime and built as a batch line
    run(TEST_TASK, field_input(1), apply=False, use_cache=False)
    live = next(c for c in reversed(sim.calls) if c.endpoint == "chat.completions").json

    # When the line is built
    line = json.loads(LineBuilder(TEST_TASK, provider_config()).line("item-1", field_input(1)))

    # Then its body is the live request body (the SDK also spells out the default stream=False),
    # and the envelope is the Batch API's
    assert live.pop("stream") is False
    assert line["body"] == live
    assert (line["custom_id"], line["method"], line["url"]) == ("item-1", "POST", "/v1/chat/completions")


def test_azure_lines_route_by_deployment_without_the_v1_prefix():
    line = json.loads(LineBuilder(TEST_TASK, AZURE).line('id "quoted"', field_input(1)))

    assert line["url"] == batch_endpoint(AZURE) == "/chat/completions"
    assert line["body"]["model"] == "prod-4o-mini"
    assert line["custom_id"] == 'id "quoted"'
    assert batch_limits(AZURE).max_lines == 100_000
    assert batch_limits(ProviderConfig(kind="openai", model="gpt-4o-mini")).max_lines == 50_000


def test_a_valid_answer_becomes_a_validated_output_with_its_usage():
    outcome = interpret_result(TEST_TASK, field_input(1), result_line(GOOD))

    assert outcome.ok
    assert outcome.output == FieldDescription.model_validate_json(GOOD)
    assert (outcome.tokens_in, outcome.tokens_out, outcome.request_id) == (120, 30, "req_1")


@pytest.mark.parametrize(
    ("line", "error_class"),
    [
        (result_line(GOOD[:-10]), "schema"),
        (result_line('{"business_name": "x"}'), "schema"),
        (result_line(GOOD, finish="length"), "length"),
        (result_line(None, finish="content_filter"), "content_filter"),
        (result_line(None, refusal="I can't help with that."), "refusal"),
    ],
)
def test_unusable_answers_are_classified_like_the_runtime_does_and_never_retried(line, error_class):
    outcome = interpret_result(TEST_TASK, field_input(1), line)

    assert not outcome.ok
    assert outcome.error_class == error_class
    assert not outcome.retryable
    assert outcome.tokens_in == 120  # billed all the same


def test_a_failing_quality_check_is_an_error():
    # Given the real field task, whose check limits business_name to 60 characters
    too_long = FieldDescription(business_name="x" * 61, description="ok").model_dump_json()

    outcome = interpret_result(FIELD_DESCRIPTION, field_input(1), result_line(too_long))

    assert (outcome.ok, outcome.error_class) == (False, "quality")
    assert "business_name" in outcome.error_message


@pytest.mark.parametrize(
    ("status", "code", "error_class", "retryable"),
    [
        (500, "server_error", "server_error", True),
        (429, "rate_limit_exceeded", "rate_limit", True),
        (429, "insufficient_quota", "insufficient_quota", False),
        (400, "invalid_request_error", "bad_request", False),
        (401, "invalid_api_key", "auth", False),
    ],
)
def test_http_errors_on_a_line_are_classified_once(status, code, error_class, retryable):
    raw = {
        "custom_id": "a",
        "response": {"status_code": status, "request_id": "r", "body": {"error": {"message": "nope", "code": code}}},
        "error": None,
    }
    outcome = interpret_result(TEST_TASK, field_input(1), read_result_line(json.dumps(raw).encode()))

    assert (outcome.error_class, outcome.retryable) == (error_class, retryable)
    assert "nope" in outcome.error_message


def test_an_expired_line_can_be_resubmitted():
    raw = {"custom_id": "a", "response": None, "error": {"code": "batch_expired", "message": "window passed"}}
    outcome = interpret_result(TEST_TASK, field_input(1), read_result_line(json.dumps(raw).encode()))

    assert (outcome.error_class, outcome.retryable) == (EXPIRED, True)


def test_a_garbled_line_still_names_its_item_and_fails_with_a_reason():
    raw = b'{"id": "r1", "custom_id": "item-7", "response": {"status_code": 200, "body": {"choi'

    line = read_result_line(raw)
    outcome = interpret_result(TEST_TASK, field_input(7), line)

    assert line.custom_id == "item-7"
    assert (outcome.ok, outcome.error_class, outcome.retryable) == (False, CORRUPT_LINE, False)
    assert "corrupted" in outcome.error_message
    assert read_result_line(b"\n") is None
    assert read_result_line(b"not json at all").custom_id is None


def test_a_line_that_is_not_utf8_is_corrupt_not_a_crash():
    raw = b'{"custom_id": "item-8", "response": {"status_code": 200, "body": {"x": "\xff"}}}'

    line = read_result_line(raw)

    assert line.custom_id == "item-8"
    assert "unreadable output line" in line.corrupt


def test_the_offline_answer_is_the_fallback_in_the_providers_shape():
    line = read_result_line(fallback_result_line(task=TEST_TASK, custom_id="a", task_input=field_input(3)))

    outcome = interpret_result(TEST_TASK, field_input(3), line)

    assert outcome.output == TEST_TASK.fallback_output(field_input(3))


@pytest.mark.django_db
def test_batch_ledger_rows_cost_half_and_fallbacks_say_why(settings):
    # Given a priced model
    settings.LLM_PRICES = {"gpt-4o-mini": (0.15, 0.60)}
    outcome = interpret_result(TEST_TASK, field_input(1), result_line(GOOD))

    # When ledger rows are built for a provider answer and for an offline fallback
    paid = batch_call_build(task=TEST_TASK, provider="openai", model="gpt-4o-mini", outcome=outcome, subject=None)
    offline = batch_call_build(
        task=TEST_TASK, provider="offline", model="offline", outcome=outcome, subject=None, is_fallback=True
    )

    # Then the paid one is at the batch price, and the fallback is flagged with its reason
    full = estimate_cost(provider="openai", model="gpt-4o-mini", tokens_in=120, tokens_out=30)
    assert (paid.mode, paid.status) == (LLMCall.Mode.BATCH, LLMCall.Status.SUCCEEDED)
    assert paid.cost_usd == (full / 2).quantize(Decimal("0.000001"))
    assert (offline.status, offline.error_class, offline.cost_usd) == (LLMCall.Status.FALLBACK, "offline", 0)

    # When they are saved (COPY on PostgreSQL, bulk_create elsewhere)
    saved = batch_calls_save(rows=[paid, offline])

    # Then they come back from the ledger as built, with their ids and creation time
    stored = {row.pk: row for row in LLMCall.objects.filter(pk__in=[row.pk for row in saved])}
    assert len(stored) == 2
    assert (stored[paid.pk].cost_usd, stored[paid.pk].status, stored[paid.pk].tokens_in) == (
        paid.cost_usd,
        "succeeded",
        120,
    )
    assert stored[offline.pk].error_class == "offline"
    assert all(row.created_at is not None for row in stored.values())


@pytest.mark.django_db
def test_no_ledger_rows_when_metrics_are_off(settings):
    settings.OPENAI_METRICS_ENABLED = False
    outcome = interpret_result(TEST_TASK, field_input(1), result_line(GOOD))
    row = batch_call_build(task=TEST_TASK, provider="openai", model="gpt-4o-mini", outcome=outcome, subject=None)

    assert batch_calls_save(rows=[row]) == []
    assert not LLMCall.objects.exists()
