"""The ledger bills every attempt as the provider reported it, whatever the call's outcome.

The simulator counts the tokens of every answer it served (`Simulator.usage`), as a provider's own
usage page would; the ledger's totals must match it.
"""

from collections.abc import Iterator

import pytest
from django.db.models import Sum

from llm.conversations import conversation_reply, conversation_start
from llm.models import LLMCall
from llm.providers import clients_reset, use_transport
from llm.runtime import run, run_many
from llm.simulator import Simulator
from llm.usage import estimate_cost
from tests.conftest import CANARY_KEY
from tests.llm.tasks import ECHO, echo_input

pytestmark = pytest.mark.django_db


@pytest.fixture
def faulty_sim(settings) -> Iterator[Simulator]:
    """The simulator as `sim`, with a mix of faults: errors, truncations, invalid JSON, refusals."""
    settings.LLM_PROVIDER = "openai"
    settings.OPENAI_API_KEY = CANARY_KEY
    settings.OPENAI_BASE_URL = ""
    settings.OPENAI_RETRY_MIN_WAIT = 0.001
    settings.OPENAI_RETRY_MAX_WAIT = 0.005
    settings.OPENAI_REQUEST_TIMEOUT = 2.0
    # Transient errors here are part of the mix, not an outage: they must not open the breaker.
    settings.OPENAI_CIRCUIT_FAILURE_THRESHOLD = 1000
    simulator = Simulator(
        seed=11,
        require_api_key=CANARY_KEY,
        fail_5xx=0.05,
        truncate=0.06,
        invalid_json=0.06,
        refusal=0.05,
        content_filter=0.02,
    )
    with use_transport(simulator.transport()):
        yield simulator
    simulator.close()
    clients_reset()


def _ledger_totals() -> dict:
    return LLMCall.objects.aggregate(tokens_in=Sum("tokens_in"), tokens_out=Sum("tokens_out"), attempts=Sum("attempts"))


def test_ledger_token_totals_match_the_providers_count_under_a_fault_mix(faulty_sim):
    outcomes = run_many(ECHO, [echo_input(i) for i in range(200)], apply=False, concurrency=8)

    served = faulty_sim.usage
    requests = sum(faulty_sim.stats["chat.completions"].values())
    totals = _ledger_totals()
    # the mix really happened: billed answers that were unusable, and errors that bill nothing
    outcomes_seen = faulty_sim.stats["chat.completions"]
    assert min(outcomes_seen["truncate"], outcomes_seen["invalid_json"], outcomes_seen["refusal"]) > 0
    assert sum(n for outcome, n in outcomes_seen.items() if outcome.isdigit()) > 0
    assert len(outcomes) == 200
    # within 1% (exactly, in fact): every response the provider billed is on a ledger row
    assert totals["tokens_in"] == pytest.approx(served["prompt_tokens"], rel=0.01)
    assert totals["tokens_out"] == pytest.approx(served["completion_tokens"], rel=0.01)
    assert (totals["tokens_in"], totals["tokens_out"]) == (served["prompt_tokens"], served["completion_tokens"])
    assert totals["attempts"] == requests
    # and the fallbacks are billed too, for what their unusable answers cost
    billed_fallbacks = LLMCall.objects.filter(status=LLMCall.Status.FALLBACK, tokens_out__gt=0)
    assert billed_fallbacks.exists()
    assert all(row.cost_usd > 0 for row in billed_fallbacks)


@pytest.mark.parametrize("fault", ["refusal", "truncate", "invalid_json", "content_filter"])
def test_an_unusable_answer_is_billed_on_its_row(sim, fault):
    # a refusal and a truncation are final; invalid JSON and a filtered answer are asked again once
    sim.script(fault, fault)

    result = run(ECHO, echo_input(), apply=False)

    row = LLMCall.objects.get()
    served = sim.usage
    assert result.is_fallback
    assert row.attempts == sum(sim.stats["chat.completions"].values()) == served["responses"]
    assert (row.tokens_in, row.tokens_out) == (served["prompt_tokens"], served["completion_tokens"])
    assert row.tokens_in > 0
    assert row.cost_usd == estimate_cost(
        provider=row.provider, model=row.model, tokens_in=row.tokens_in, tokens_out=row.tokens_out
    )
    assert row.cost_usd > 0


def test_a_reask_after_invalid_json_sums_both_attempts(sim):
    sim.script("invalid_json", "ok")

    result = run(ECHO, echo_input(), apply=False)

    row = LLMCall.objects.get()
    served = sim.usage
    assert not result.is_fallback
    assert row.status == LLMCall.Status.SUCCEEDED
    assert served["responses"] == 2
    assert row.attempts == 2
    assert (row.tokens_in, row.tokens_out) == (served["prompt_tokens"], served["completion_tokens"])
    assert (result.tokens_in, result.tokens_out) == (row.tokens_in, row.tokens_out)


def test_retried_errors_count_as_attempts_and_bill_nothing(sim):
    sim.script("503", "429", "ok")

    run(ECHO, echo_input(), apply=False)

    row = LLMCall.objects.get()
    assert row.attempts == 3
    assert sim.usage["responses"] == 1
    assert (row.tokens_in, row.tokens_out) == (sim.usage["prompt_tokens"], sim.usage["completion_tokens"])


def test_cached_input_tokens_are_recorded_and_priced_at_the_discount(sim, settings, monkeypatch):
    from llm.simulator import completions

    built = completions.build_chat

    def with_cached_prompt(*args, **kwargs):
        answer = built(*args, **kwargs)
        answer.body["usage"]["prompt_tokens_details"]["cached_tokens"] = answer.input_tokens // 2
        return answer

    monkeypatch.setattr("llm.simulator.core.build_chat", with_cached_prompt)
    settings.LLM_CACHED_INPUT_DISCOUNT = 0.5

    run(ECHO, echo_input(), apply=False)

    row = LLMCall.objects.get()
    assert row.tokens_cached == row.tokens_in // 2 > 0
    full = estimate_cost(provider=row.provider, model=row.model, tokens_in=row.tokens_in, tokens_out=row.tokens_out)
    assert row.cost_usd < full
    assert row.cost_usd == estimate_cost(
        provider=row.provider,
        model=row.model,
        tokens_in=row.tokens_in,
        tokens_out=row.tokens_out,
        tokens_cached=row.tokens_cached,
    )


def test_a_conversation_turn_cut_off_is_billed(sim):
    conversation = conversation_start(title="billing")
    sim.script("truncate")

    turn = conversation_reply(conversation=conversation, message="Hello", fallback=lambda c, m: "offline")

    row = LLMCall.objects.get()
    assert turn.is_fallback
    assert row.status == LLMCall.Status.FALLBACK
    assert (row.tokens_in, row.tokens_out) == (sim.usage["prompt_tokens"], sim.usage["completion_tokens"])
    assert row.tokens_out > 0
