"""Responses API conversations: chaining, replay when the chain is gone or the API is missing."""

import pytest
from pydantic import BaseModel

from llm.conversations import conversation_reply, conversation_start
from llm.models import LLMCall

pytestmark = pytest.mark.django_db


class Verdict(BaseModel):
    score: int
    summary: str


def echo_fallback(conversation, message):
    return f"(offline) noted: {message[:40]}"


def responses_calls(sim):
    return [c for c in sim.calls if c.endpoint == "responses"]


def test_turns_chain_with_previous_response_id_and_pay_for_prior_context(sim):
    conversation = conversation_start(title="Lead: bakery", instructions="You analyse sales leads.")

    first = conversation_reply(
        conversation=conversation, message="Analyse this posting: bakery needs a website.", fallback=echo_fallback
    )
    second = conversation_reply(conversation=conversation, message="Estimate the ROI.", fallback=echo_fallback)

    calls = responses_calls(sim)
    assert "previous_response_id" not in calls[0].json
    assert calls[1].json["previous_response_id"] == first.response_id
    assert calls[1].json["instructions"] == "You analyse sales leads."
    assert (first.index, second.index) == (0, 1)
    assert not second.replayed
    assert not second.is_fallback
    # The chained turn is billed for everything before it, not just its own message.
    assert second.tokens_in > first.tokens_in + first.tokens_out
    conversation.refresh_from_db()
    assert conversation.last_response_id == second.response_id
    assert LLMCall.objects.filter(mode="conversation", status="succeeded").count() == 2


def test_structured_turn_is_parsed(sim):
    conversation = conversation_start(title="Lead: plumber")

    turn = conversation_reply(
        conversation=conversation, message="Score this lead.", fallback=echo_fallback, output_model=Verdict
    )

    assert Verdict.model_validate(turn.output_json)


def test_expired_chain_is_replayed_in_full(sim):
    conversation = conversation_start(title="Lead: dentist")
    conversation_reply(conversation=conversation, message="First question", fallback=echo_fallback)
    sim.forget_responses()  # the provider's 30-day retention ran out

    turn = conversation_reply(conversation=conversation, message="Second question", fallback=echo_fallback)

    assert turn.replayed
    assert not turn.is_fallback
    replay = responses_calls(sim)[-1].json
    assert "previous_response_id" not in replay
    assert [item["content"] for item in replay["input"]][0] == "First question"
    assert replay["input"][-1]["content"] == "Second question"


def test_backend_without_responses_api_falls_back_to_chat_with_history(sim):
    sim.config = sim.config.__class__(**{**sim.config.__dict__, "responses_api": False})
    conversation = conversation_start(title="Lead: gym")

    conversation_reply(conversation=conversation, message="Hello", fallback=echo_fallback)
    turn = conversation_reply(conversation=conversation, message="And then?", fallback=echo_fallback)

    assert not turn.is_fallback
    chat = [c for c in sim.calls if c.endpoint == "chat.completions"]
    assert [m["content"] for m in chat[-1].json["messages"]] == [
        "Hello",
        chat[-1].json["messages"][1]["content"],
        "And then?",
    ]
    # Learned once: the second turn does not probe /responses again.
    assert len(responses_calls(sim)) == 1


def test_offline_conversation_answers_with_fallback(settings):
    settings.LLM_PROVIDER = "offline"
    conversation = conversation_start(title="Lead: cafe")

    turn = conversation_reply(conversation=conversation, message="Analyse", fallback=echo_fallback)

    assert turn.is_fallback
    assert turn.output_text.startswith("(offline)")
    assert LLMCall.objects.get().error_class == "offline"
