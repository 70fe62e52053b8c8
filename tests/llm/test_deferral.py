"""Fallback is for a person who is waiting; background work waits for the provider (DESIGN.md §4)."""

import threading
import time

import pytest
from django.utils import timezone

from llm.breaker import get_breaker
from llm.errors import LLMDeferredError
from llm.models import LLMCall
from llm.providers import provider_config
from llm.runtime import run, run_many
from tests.llm.tasks import ECHO, echo_input

pytestmark = pytest.mark.django_db


@pytest.fixture
def applied():
    """ECHO with an apply that records what it was given."""
    import dataclasses

    seen: list[tuple[str, bool]] = []
    lock = threading.Lock()

    def apply(task_input, output, provenance):
        with lock:
            seen.append((task_input.text, provenance.is_fallback))

    return dataclasses.replace(ECHO, name="deferral_test", apply=apply), seen


def _open_the_breaker():
    get_breaker(provider_config().name).record_failure(force_open=True)


def test_background_run_defers_on_quota_instead_of_falling_back(sim, applied):
    task, seen = applied
    sim.script("insufficient_quota")

    with pytest.raises(LLMDeferredError) as raised:
        run(task, echo_input(), defer_when_unavailable=True, mode=LLMCall.Mode.BULK)

    row = LLMCall.objects.get()
    assert raised.value.code == "insufficient_quota"
    assert (row.status, row.error_class, row.attempts) == (LLMCall.Status.DEFERRED, "insufficient_quota", 1)
    assert seen == []  # nothing applied: the item stays pending


def test_background_bulk_run_defers_every_item_while_the_breaker_is_open(sim, applied):
    task, seen = applied
    _open_the_breaker()

    outcomes = run_many(task, [echo_input(i) for i in range(5)], defer_when_unavailable=True)

    assert [(o.ok, o.deferred) for o in outcomes] == [(False, True)] * 5
    assert all("circuit_open" in o.error for o in outcomes)
    assert seen == []
    assert set(LLMCall.objects.values_list("status", flat=True)) == {LLMCall.Status.DEFERRED}
    assert sum(sim.stats["chat.completions"].values()) == 0


def test_callers_that_do_not_opt_in_keep_their_fallbacks(sim, applied):
    task, seen = applied
    _open_the_breaker()

    outcomes = run_many(task, [echo_input(i) for i in range(3)])
    now = run(task, echo_input(9))

    assert all(o.ok and o.result.is_fallback and not o.deferred for o in outcomes)
    assert now.is_fallback
    assert sorted(seen) == sorted([(echo_input(i).text, True) for i in (0, 1, 2, 9)])


def test_output_problems_still_fall_back_when_deferring(sim, applied):
    # The provider answered; asking again later would not change a refusal.
    task, seen = applied
    sim.script("refusal")

    result = run(task, echo_input(), defer_when_unavailable=True)

    assert result.is_fallback
    assert result.status == LLMCall.Status.FALLBACK
    assert seen == [(echo_input(0).text, True)]


def test_offline_falls_back_even_when_deferring(settings, applied, db):
    task, seen = applied
    settings.LLM_PROVIDER = "offline"

    outcomes = run_many(task, [echo_input(0)], defer_when_unavailable=True)

    assert outcomes[0].ok
    assert outcomes[0].result.is_fallback


def test_bulk_items_wait_for_the_half_open_trial_instead_of_falling_back(sim, applied, settings):
    task, seen = applied
    settings.OPENAI_CIRCUIT_RESET_TIMEOUT = 0.2
    run(task, echo_input(100))  # the provider is known to answer
    seen.clear()
    sim.config.latency_ms = 150  # the trial takes a while: the other items meet a half-open circuit
    _open_the_breaker()
    time.sleep(0.25)  # the cool-down is over: the next caller is the trial

    outcomes = run_many(task, [echo_input(i) for i in range(6)], concurrency=6)

    assert all(o.ok and not o.result.is_fallback for o in outcomes), [o.result.error for o in outcomes]
    assert sorted(seen) == sorted([(echo_input(i).text, False) for i in range(6)])
    assert get_breaker(provider_config().name).state == "closed"


def test_bulk_items_defer_when_the_half_open_trial_fails(sim, applied, settings):
    task, seen = applied
    settings.OPENAI_MAX_RETRY_ATTEMPTS = 1
    run(task, echo_input(100))
    seen.clear()
    # Long enough that the circuit the failed trial opens again stays shut for the rest of the run
    # (pybreaker keeps the opening time in whole seconds on Redis).
    breaker = get_breaker(provider_config().name)
    breaker.reset_timeout = 2.0
    sim.config.latency_ms = 150
    sim.script("503")
    _open_the_breaker()
    while breaker.opened_until > timezone.now():  # the cool-down ends: the next caller is the trial
        time.sleep(0.05)

    outcomes = run_many(task, [echo_input(i) for i in range(4)], concurrency=4, defer_when_unavailable=True)

    # the trial failed and opened the circuit again: nobody fell back, everyone is deferred
    assert all(o.deferred for o in outcomes), [(o.error, o.result and o.result.status) for o in outcomes]
    assert seen == []
    assert sum(sim.stats["chat.completions"].values()) == 1 + 1  # the warm-up and the one trial


def test_a_caller_refused_while_the_trial_closes_the_circuit_does_not_give_up(sim, applied, settings, monkeypatch):
    # The race behind a flaky regeneration test: this caller is refused because another took the
    # trial, and that trial closes the circuit before this caller looks again.
    task, seen = applied
    settings.OPENAI_CIRCUIT_RESET_TIMEOUT = 0.2
    run(task, echo_input(100))  # the provider is known to answer
    seen.clear()
    breaker = get_breaker(provider_config().name)
    _open_the_breaker()
    while breaker.opened_until > timezone.now():
        time.sleep(0.05)
    real_allow = breaker.allow
    refused = []

    def another_caller_takes_the_trial_and_succeeds() -> bool:
        if not refused:
            assert real_allow()  # the other caller's trial...
            breaker.record_success()  # ...closes the circuit before this caller looks again
            refused.append(True)
            return False
        return real_allow()

    monkeypatch.setattr(breaker, "allow", another_caller_takes_the_trial_and_succeeds)

    outcomes = run_many(task, [echo_input(1)], defer_when_unavailable=True)

    assert refused
    assert outcomes[0].ok, outcomes[0].error
    assert not outcomes[0].deferred
    assert seen == [(echo_input(1).text, False)]
