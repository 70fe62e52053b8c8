"""The task runtime through the simulator: success, cache, every classified fault, re-ask, bulk."""

import dataclasses
import logging
import time
from threading import Lock

import pytest
from django.core.cache import cache
from django.db import IntegrityError, connection, transaction
from django.db.models.signals import post_save
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from pydantic import BaseModel

from catalog.datasets.llm import FIELD_DESCRIPTION, FieldDescription
from llm import resilience
from llm.breaker import get_breaker
from llm.cache import cache_get
from llm.errors import LLMRequestError
from llm.ledger import CallRecord, llm_call_build, llm_call_record
from llm.limits import get_governor
from llm.models import LLMCall
from llm.providers import provider_config
from llm.resilience import call_slot
from llm.runtime import run, run_many
from tests.conftest import CANARY_KEY
from tests.llm.factories import field_input

pytestmark = pytest.mark.django_db


def chat_calls(sim):
    return [c for c in sim.calls if c.endpoint == "chat.completions"]


def test_offline_provider_answers_with_the_flagged_fallback(settings):
    settings.LLM_PROVIDER = ""
    settings.OPENAI_API_KEY = ""

    result = run(FIELD_DESCRIPTION, field_input(1, field_name="customer_id", semantic_type="identifier"))

    assert result.is_fallback
    assert result.output.business_name == "Customer ID"
    assert "Unique identifier" in result.output.description
    row = LLMCall.objects.get()
    assert (row.status, row.error_class, row.provider, row.attempts) == ("fallback", "offline", "offline", 0)


def test_a_successful_call_is_parsed_and_recorded(sim):
    result = run(FIELD_DESCRIPTION, field_input(1))

    assert not result.is_fallback
    assert isinstance(result.output, FieldDescription)
    assert result.provenance.model == "gpt-4o-mini"
    row = LLMCall.objects.get()
    assert row.status == "succeeded"
    assert row.attempts == 1
    assert row.tokens_in > 0
    assert row.tokens_out > 0
    assert row.cost_usd > 0
    assert row.mode == "now"


def test_second_identical_call_is_a_cache_hit(sim):
    first = run(FIELD_DESCRIPTION, field_input(1))
    second = run(FIELD_DESCRIPTION, field_input(1))

    assert second.cached
    assert second.output == first.output
    assert len(chat_calls(sim)) == 1
    hit = LLMCall.objects.get(status="cached")
    assert (hit.attempts, hit.tokens_in, hit.cost_usd) == (0, 0, 0)


def test_cache_key_changes_with_task_version_and_schema(sim):
    class OtherShape(BaseModel):
        business_name: str
        description: str
        owner: str

    run(FIELD_DESCRIPTION, field_input(1))
    run(dataclasses.replace(FIELD_DESCRIPTION, version=2), field_input(1))
    run(
        dataclasses.replace(
            FIELD_DESCRIPTION,
            output_model=OtherShape,
            fallback=lambda f: OtherShape(business_name="x", description="y", owner="z"),
        ),
        field_input(1),
    )

    assert len(chat_calls(sim)) == 3
    assert LLMCall.objects.filter(status="cached").count() == 0


@pytest.mark.parametrize(
    ("faults", "status", "error_class", "attempts"),
    [
        (["429", "ok"], "succeeded", "", 2),
        (["500", "ok"], "succeeded", "", 2),
        (["502", "503", "ok"], "succeeded", "", 3),
        (["500", "500", "500"], "fallback", "server_error", 3),
        (["401"], "fallback", "auth", 1),
        (["400"], "fallback", "bad_request", 1),
        (["insufficient_quota"], "fallback", "insufficient_quota", 1),
        (["truncate"], "fallback", "length", 1),
        (["content_filter"], "fallback", "content_filter", 1),
        (["refusal"], "fallback", "refusal", 1),
        (["invalid_json", "ok"], "succeeded", "", 2),
        (["invalid_json", "invalid_json"], "fallback", "schema", 2),
    ],
)
def test_error_classification_decides_retries(sim, faults, status, error_class, attempts):
    sim.script(*[(f, {"retry_after_ms": 10}) if f == "429" else f for f in faults])

    result = run(FIELD_DESCRIPTION, field_input(1))

    row = LLMCall.objects.get()
    assert (row.status, row.error_class, row.attempts) == (status, error_class, attempts)
    assert len(chat_calls(sim)) == attempts
    assert result.is_fallback == (status == "fallback")


def test_a_hang_times_out_and_is_retried(sim, settings):
    settings.OPENAI_REQUEST_TIMEOUT = 0.2
    sim.script("hang", "ok")

    result = run(FIELD_DESCRIPTION, field_input(1))

    assert not result.is_fallback
    row = LLMCall.objects.get()
    assert (row.attempts, row.timeout_errors) == (2, 1)


def test_backoff_honours_retry_after(sim, settings):
    settings.OPENAI_RETRY_MIN_WAIT = 5.0  # would dominate if retry-after were ignored
    sim.script(("429", {"retry_after_ms": 300}), "ok")

    started = time.monotonic()
    result = run(FIELD_DESCRIPTION, field_input(1))
    elapsed = time.monotonic() - started

    assert not result.is_fallback
    assert 0.3 <= elapsed < 2.0
    assert LLMCall.objects.get().rate_limit_errors == 1


def test_quota_opens_the_breaker_after_one_call_and_later_calls_never_reach_the_provider(sim):
    sim.script("insufficient_quota", "insufficient_quota", "insufficient_quota")

    results = [run(FIELD_DESCRIPTION, field_input(i)) for i in range(3)]

    assert len(chat_calls(sim)) == 1
    assert all(r.is_fallback for r in results)
    assert get_breaker(provider_config().name).state == "open"
    assert list(LLMCall.objects.order_by("id").values_list("error_class", "attempts")) == [
        ("insufficient_quota", 1),
        ("circuit_open", 0),
        ("circuit_open", 0),
    ]


def test_breaker_opens_after_three_failed_calls(sim):
    sim.script(*["503"] * 9)

    for i in range(4):
        run(FIELD_DESCRIPTION, field_input(i))

    assert len(chat_calls(sim)) == 9  # the fourth call never left
    assert LLMCall.objects.order_by("-id").first().error_class == "circuit_open"


def test_failed_quality_check_reasks_once_with_the_problems_then_falls_back(sim):
    def never_good(task_input, output):
        return ["description must mention the word 'zebra'"]

    task = dataclasses.replace(FIELD_DESCRIPTION, name="picky_field", checks=(never_good,))

    result = run(task, field_input(1))

    assert result.is_fallback
    calls = chat_calls(sim)
    assert len(calls) == 2
    assert "zebra" in calls[1].json["messages"][-1]["content"]
    row = LLMCall.objects.get()
    assert (row.status, row.error_class, row.attempts) == ("fallback", "quality", 2)


def test_a_rejected_answer_is_never_cached_and_the_accepted_one_is(sim):
    never_good = dataclasses.replace(FIELD_DESCRIPTION, name="never_good", checks=(lambda i, o: ["not good"],))
    run(never_good, field_input(1))
    assert not run(never_good, field_input(1)).cached
    assert len(chat_calls(sim)) == 4

    verdicts = iter([["not good"], []])
    second_try_good = dataclasses.replace(FIELD_DESCRIPTION, name="second_try", checks=(lambda i, o: next(verdicts),))
    first = run(second_try_good, field_input(1))
    again = run(second_try_good, field_input(1))

    assert (first.status, again.status) == ("succeeded", "cached")
    assert again.output == first.output
    assert len(chat_calls(sim)) == 6


def test_allow_fallback_false_raises_and_records_the_failure(sim):
    sim.script("400")

    with pytest.raises(LLMRequestError):
        run(FIELD_DESCRIPTION, field_input(1), allow_fallback=False)

    assert LLMCall.objects.get().status == "failed"


def test_run_many_applies_each_output_exactly_once_despite_faults(sim):
    sim.config = dataclasses.replace(sim.config, fail_5xx=0.15)
    applied: list[str] = []
    lock = Lock()

    def apply(task_input, output, provenance):
        with lock:
            applied.append(task_input.field_path)

    task = dataclasses.replace(FIELD_DESCRIPTION, name="bulk_field", apply=apply)
    progress: list[tuple[int, int]] = []
    inputs = [field_input(i) for i in range(30)]

    outcomes = run_many(task, inputs, concurrency=5, on_progress=lambda d, t: progress.append((d, t)))

    assert [o.task_input for o in outcomes] == inputs
    assert all(o.ok and not o.result.is_fallback for o in outcomes)
    assert sorted(applied) == sorted(i.field_path for i in inputs)
    assert LLMCall.objects.filter(status="succeeded", mode="bulk").count() == 30
    assert progress[-1] == (30, 30)


def test_api_key_never_reaches_logs_or_the_ledger(sim, caplog, settings):
    caplog.set_level(logging.DEBUG)
    sim.script("500", "ok", "401")

    run(FIELD_DESCRIPTION, field_input(1))
    run(FIELD_DESCRIPTION, field_input(2))

    assert CANARY_KEY not in caplog.text
    assert CANARY_KEY[:12] not in caplog.text
    for row in LLMCall.objects.values():
        assert CANARY_KEY not in str(row)
        assert CANARY_KEY[:12] not in str(row)


def test_bulk_requeues_a_transient_failure_and_records_one_row(sim, settings):
    settings.OPENAI_MAX_RETRY_ATTEMPTS = 1  # no in-call retry: only the requeue can save it
    sim.script("503", "ok")

    outcomes = run_many(FIELD_DESCRIPTION, [field_input(1)])

    assert not outcomes[0].result.is_fallback
    row = LLMCall.objects.get()
    assert (row.status, row.attempts, row.api_errors) == ("succeeded", 2, 1)


def test_quota_under_concurrency_costs_a_single_call(sim):
    sim.config = dataclasses.replace(sim.config, insufficient_quota=1.0)

    outcomes = run_many(FIELD_DESCRIPTION, [field_input(i) for i in range(20)], concurrency=10)

    assert len(chat_calls(sim)) == 1
    assert all(o.result.is_fallback for o in outcomes)
    assert LLMCall.objects.filter(attempts__gt=0).count() == 1


def ledger_record(**overrides) -> CallRecord:
    values = {
        "task": "field_description",
        "task_version": 3,
        "provider": "openai",
        "model": "gpt-4o-mini",
        "mode": "now",
        "status": "succeeded",
        "attempts": 2,
        "tokens_in": 1200,
        "tokens_out": 300,
        "latency_ms": 45,
        "rate_limit_errors": 1,
        "request_id": "req_123",
        "cache_key": "c" * 64,
    }
    values.update(overrides)
    return CallRecord(**values)


def test_the_ledger_row_is_saved_as_the_orm_would_save_it(user):
    record = ledger_record(subject=("auth.User", user.pk), user_id=user.pk)
    by_orm = llm_call_build(record=record)
    by_orm.save()

    call_id = llm_call_record(record=record)

    stored = LLMCall.objects.get(pk=call_id)
    for model_field in LLMCall._meta.concrete_fields:
        if model_field.attname not in ("id", "created_at"):
            assert getattr(stored, model_field.attname) == getattr(by_orm, model_field.attname), model_field.name
    assert by_orm.created_at <= stored.created_at <= timezone.now()
    assert stored.cost_usd > 0
    assert (stored.subject, stored.user) == (user, user)


def _ledger_sql_and_commit_setting() -> tuple[str, str]:
    with CaptureQueriesContext(connection) as queries:
        llm_call_record(record=ledger_record())
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        (setting,) = cursor.fetchone()
    (query,) = queries.captured_queries
    return query["sql"], setting


@pytest.mark.django_db(transaction=True)
def test_a_ledger_row_of_its_own_commits_without_waiting_for_the_wal_flush(settings):
    if connection.vendor != "postgresql":
        pytest.skip("asynchronous commit is PostgreSQL's")

    sql, setting = _ledger_sql_and_commit_setting()
    assert sql.startswith("SET LOCAL synchronous_commit TO OFF; INSERT")
    assert setting == "on"  # only that statement's transaction committed asynchronously
    assert LLMCall.objects.count() == 1

    with transaction.atomic():  # the caller's transaction: the row commits on the ledger's own connection
        with CaptureQueriesContext(connection) as queries:
            llm_call_record(record=ledger_record())
        assert queries.captured_queries == []
        with connection.cursor() as cursor:
            cursor.execute("SHOW synchronous_commit")
            assert cursor.fetchone() == ("on",)  # the caller's transaction keeps its own commit setting

    settings.LLM_LEDGER_ASYNC_COMMIT = False
    sql, _ = _ledger_sql_and_commit_setting()
    assert sql.startswith("INSERT")
    assert LLMCall.objects.count() == 3


def test_the_ledger_refuses_a_row_breaking_its_constraints_and_marks_the_transaction(db):
    with transaction.atomic():
        with pytest.raises(IntegrityError):
            llm_call_record(record=ledger_record(status="failed", error_class=""))
        assert transaction.get_connection().needs_rollback

    assert not LLMCall.objects.exists()


def test_save_signal_receivers_still_see_ledger_rows(db):
    seen: list[int] = []

    def receiver(sender, instance, created, **kwargs):
        seen.append(instance.pk)

    post_save.connect(receiver, sender=LLMCall)
    try:
        call_id = llm_call_record(record=ledger_record())
    finally:
        post_save.disconnect(receiver, sender=LLMCall)

    assert seen == [call_id]


def test_the_hot_path_costs_one_query_and_few_round_trips(sim, needs_redis, round_trips, django_assert_num_queries):
    run(FIELD_DESCRIPTION, field_input(0))  # the first call probes the provider and loads the scripts

    round_trips.clear()
    with django_assert_num_queries(1):
        assert run(FIELD_DESCRIPTION, field_input(1)).status == "succeeded"
    # cache read with the slot's admission and the breaker's state; release with the breaker's
    # success and the cache write
    assert round_trips == ["EVALSHA", "PIPELINE"]

    round_trips.clear()
    with django_assert_num_queries(1):
        assert run(FIELD_DESCRIPTION, field_input(1)).cached
    assert len(round_trips) == 1, round_trips


def test_however_a_call_ends_the_slot_taken_with_its_cache_read_is_freed(sim, needs_redis):
    config = provider_config()
    governor = get_governor(config.name)
    run(FIELD_DESCRIPTION, field_input(0))  # the provider answers: later calls take a slot with the cache read

    sim.script("400", "503", "ok")
    refused, retried, answered = (run(FIELD_DESCRIPTION, field_input(i)) for i in (1, 1, 2))
    hit = run(FIELD_DESCRIPTION, field_input(1))
    get_breaker(config.name).record_failure(force_open=True)
    shut_out = run(FIELD_DESCRIPTION, field_input(3))

    assert [(r.status, r.attempts) for r in (refused, retried, answered, hit, shut_out)] == [
        ("fallback", 1),
        ("succeeded", 2),
        ("succeeded", 1),
        ("cached", 0),
        ("fallback", 0),
    ]
    assert shut_out.error.kind == "circuit_open"
    assert governor.effective_limits()["in_flight"] == 0


def test_a_caller_that_must_probe_the_provider_first_lets_go_of_the_slot_it_took(sim, needs_redis):
    config = provider_config()
    governor = get_governor(config.name)
    run(FIELD_DESCRIPTION, field_input(0))
    call = call_slot(config=config)
    assert cache_get(key="absent", call=call) is None
    assert governor.effective_limits()["in_flight"] == 1

    # The provider is no longer known to answer (another process saw it refuse): this caller
    # probes it, or waits for whoever does, and must not hold a slot meanwhile.
    resilience._forget_verified()
    cache.delete(resilience._verified_key(config))
    try:
        assert resilience._enter_gate(config, get_breaker(config.name), time.monotonic() + 1, call)
        assert governor.effective_limits()["in_flight"] == 0
    finally:
        cache.delete(resilience._probe_key(config))


def test_an_error_between_the_cache_read_and_the_call_strands_no_slot(sim, needs_redis, monkeypatch):
    governor = get_governor(provider_config().name)
    run(FIELD_DESCRIPTION, field_input(0))

    def broken(*args, **kwargs):
        raise RuntimeError("a bug after the cache read")

    monkeypatch.setattr("llm.runtime.estimate_tokens", broken)
    with pytest.raises(RuntimeError, match="after the cache read"):
        run(FIELD_DESCRIPTION, field_input(1))
    assert governor.effective_limits()["in_flight"] == 0


def test_a_retry_backs_off_holding_no_slot(sim, needs_redis, monkeypatch):
    governor = get_governor(provider_config().name)
    run(FIELD_DESCRIPTION, field_input(0))  # the provider answers: the next call takes its slot with the cache read
    held_while_backing_off: list[int] = []
    sleep = time.sleep

    def observed_sleep(seconds: float) -> None:
        held_while_backing_off.append(governor.effective_limits()["in_flight"])
        sleep(seconds)

    monkeypatch.setattr(resilience.time, "sleep", observed_sleep)
    sim.script("503", "503", "ok")
    result = run(FIELD_DESCRIPTION, field_input(1))

    assert (result.status, result.attempts) == ("succeeded", 3)
    assert held_while_backing_off == [0, 0]
    assert governor.effective_limits()["in_flight"] == 0
