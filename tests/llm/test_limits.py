"""Shared RPM/TPM/concurrency budgets: pacing, token accounting, learned limits, pauses, two processes."""

import json
import os
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import httpx2
import pytest

from llm.cache import cache_get
from llm.limits import (
    CallSlot,
    Gate,
    GateShut,
    RateBudgetTimeout,
    RateGovernor,
    get_governor,
    parse_reset_duration,
    request_leaving,
    rpm_window,
)
from llm.providers import get_client, provider_config, use_transport
from llm.redis import redis_client, reset_shared_state_for_tests
from llm.scripts import SCRIPTS, Script
from tests.llm.factories import unlimited_governor

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(params=["memory", "redis"])
def backend(request):
    if request.param == "redis":
        request.getfixturevalue("needs_redis")
    return request.param


@pytest.fixture
def make_governor(backend):
    """Governors for one account name: each call is another "process" sharing the budget."""
    name = f"test-{uuid.uuid4().hex[:8]}"

    def make(**kwargs) -> RateGovernor:
        kwargs = {"rpm": None, "tpm": None, "max_concurrency": 10, **kwargs}
        return RateGovernor(name, redis=None if backend == "memory" else "auto", **kwargs)

    return make


def most_in_any_window(stamps: list[float], *, seconds: float) -> int:
    stamps = sorted(stamps)
    return max(sum(1 for t in stamps if start <= t < start + seconds) for start in stamps)


@pytest.mark.parametrize(
    ("rpm", "window"), [(120, (1, 2)), (600, (1, 10)), (60, (1, 1)), (50, (2, 1)), (7, (9, 1)), (90_000, (1, 1500))]
)
def test_rpm_is_enforced_over_the_shortest_whole_second_window(rpm, window):
    assert rpm_window(rpm) == window


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("1s", 1.0), ("6m0s", 360.0), ("20ms", 0.02), ("1h2m3.5s", 3723.5), ("0.5", 0.5), ("soon", None), (None, None)],
)
def test_reset_durations_are_parsed(value, seconds):
    assert parse_reset_duration(value) == pytest.approx(seconds) if seconds is not None else seconds is None


def test_requests_are_paced_not_burst(make_governor):
    governor = make_governor(rpm=600)  # 10 per second
    stamps = []
    started = time.monotonic()

    for _ in range(20):
        with governor.slot(estimated_tokens=0):
            stamps.append(time.monotonic())

    elapsed = time.monotonic() - started
    assert 0.95 <= elapsed < 1.6
    # 50 ms of slack for the time between the limiter's stamp and ours.
    assert most_in_any_window(stamps, seconds=0.95) <= 10


def test_tokens_are_charged_and_settled_to_actual_usage(make_governor):
    governor = make_governor(tpm=1000)
    with governor.slot(estimated_tokens=600) as first:
        pass

    started = time.monotonic()
    with (
        pytest.raises(RateBudgetTimeout) as excinfo,
        governor.slot(estimated_tokens=600, deadline=time.monotonic() + 0.2),
    ):
        pass
    assert time.monotonic() - started < 0.1  # it knew the wait was too long: no sleeping in vain
    # The current minute must roll over (Redis: 60 s after the first hit; memory: at the clock's
    # minute), then 200 of its 600 tokens decay away over 20 s.
    assert 20 < excinfo.value.retry_after <= 81

    first.settle(actual_tokens=100)  # the provider billed far less than the estimate
    with governor.slot(estimated_tokens=600, deadline=time.monotonic() + 0.05) as second:
        pass

    second.settle(actual_tokens=900)  # ...or more: 100 + 900 fill the minute
    with pytest.raises(RateBudgetTimeout), governor.slot(estimated_tokens=50, deadline=time.monotonic() + 0.2):
        pass


def test_concurrency_is_capped_across_threads(make_governor):
    governors = [make_governor(max_concurrency=3) for _ in range(3)]
    lock = threading.Lock()
    active = peak = 0

    def work(governor: RateGovernor) -> None:
        nonlocal active, peak
        with governor.slot(estimated_tokens=1):
            with lock:
                active += 1
                peak = max(peak, active)
            time.sleep(0.05)
            with lock:
                active -= 1

    threads = [threading.Thread(target=work, args=(governors[i % 3],)) for i in range(9)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert peak == 3
    assert time.monotonic() - started >= 0.15
    assert governors[0].effective_limits()["in_flight"] == 0


def test_waiting_for_a_slot_gives_up_at_the_deadline(make_governor):
    governor = make_governor(max_concurrency=1)
    with governor.slot(estimated_tokens=1):
        started = time.monotonic()
        with (
            pytest.raises(RateBudgetTimeout),
            make_governor(max_concurrency=1).slot(estimated_tokens=1, deadline=time.monotonic() + 0.1),
        ):
            pass
        assert 0.09 <= time.monotonic() - started < 0.3


def test_a_crashed_holders_slot_frees_itself(needs_redis):
    name = f"test-{uuid.uuid4().hex[:8]}"
    crashed = RateGovernor(name, rpm=None, tpm=None, max_concurrency=1, lease_seconds=0.2)
    # Entered, never exited: the process died. (Kept referenced: collecting it would run its cleanup.)
    held = crashed.slot(estimated_tokens=1)
    held.__enter__()

    started = time.monotonic()
    with RateGovernor(name, rpm=None, tpm=None, max_concurrency=1).slot(
        estimated_tokens=1, deadline=time.monotonic() + 2
    ):
        waited = time.monotonic() - started

    assert 0.1 < waited < 0.6
    del held


def test_unconfigured_limits_are_learned_from_headers_and_shared(make_governor):
    learner, other = make_governor(), make_governor()
    configured = make_governor(rpm=100)

    learner.observe_headers(
        {
            "X-RateLimit-Limit-Requests": "120",
            "x-ratelimit-remaining-requests": "119",
            "x-ratelimit-reset-requests": "500ms",
            "x-ratelimit-limit-tokens": "150000",
            "x-ratelimit-remaining-tokens": "149000",
            "x-ratelimit-reset-tokens": "400ms",
        }
    )

    limits = other.effective_limits()
    assert (limits["rpm"], limits["rpm_source"]) == (120, "learned")
    assert (limits["tpm"], limits["tpm_source"]) == (150000, "learned")
    assert (limits["rpm_window_seconds"], limits["rpm_window_requests"]) == (1, 2)
    assert limits["paused_for"] == 0
    configured_limits = configured.effective_limits()
    assert (configured_limits["rpm"], configured_limits["rpm_source"], configured_limits["learned_rpm"]) == (
        100,
        "configured",
        120,
    )

    # The learned limit is enforced: two requests per second.
    with other.slot(estimated_tokens=10), other.slot(estimated_tokens=10):
        pass
    with pytest.raises(RateBudgetTimeout), other.slot(estimated_tokens=10, deadline=time.monotonic() + 0.5):
        pass


def test_exhausted_budget_in_headers_pauses_every_process(make_governor):
    learner, other = make_governor(), make_governor()

    learner.observe_headers({"x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "300ms"})

    assert 0.2 < other.effective_limits()["paused_for"] <= 0.3
    with pytest.raises(RateBudgetTimeout), other.slot(estimated_tokens=1, deadline=time.monotonic() + 0.1):
        pass
    started = time.monotonic()
    with other.slot(estimated_tokens=1):
        assert time.monotonic() - started >= 0.15


def test_a_full_window_of_a_limit_the_governor_paces_pauses_no_one(make_governor):
    # At full speed nearly every window ends at "remaining 0"; pausing for its reset (the time until
    # the whole window empties) idled everyone for a second every few seconds.
    configured, learner, other = make_governor(rpm=600), make_governor(), make_governor()

    configured.observe_headers({"x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "900ms"})
    learner.observe_headers(
        {
            "x-ratelimit-limit-requests": "600",
            "x-ratelimit-remaining-requests": "0",
            "x-ratelimit-reset-requests": "900ms",
        }
    )

    assert other.effective_limits()["paused_for"] == 0
    assert other.effective_limits()["rpm"] == 600


def test_a_pause_holds_everyone_and_is_never_shortened(make_governor):
    first, second = make_governor(), make_governor()

    first.pause(seconds=0.3)
    second.pause(seconds=0.05)

    started = time.monotonic()
    with second.slot(estimated_tokens=1):
        assert time.monotonic() - started >= 0.25


def test_get_governor_reads_the_settings(settings):
    settings.OPENAI_RATE_LIMIT_RPM = 0
    settings.OPENAI_RATE_LIMIT_TPM = 30000
    settings.OPENAI_MAX_CONCURRENT_REQUESTS = 4
    reset_shared_state_for_tests()

    governor = get_governor("provider-y")

    assert get_governor("provider-y") is governor
    limits = governor.effective_limits()
    assert (limits["rpm"], limits["tpm"], limits["max_concurrency"]) == (None, 30000, 4)
    assert limits["backend"] == ("redis" if redis_client() is not None else "memory")


# The worker skips django.setup() (it imports every app, openai included: seconds on a busy box)
# and hands the governor a client for the same Redis the Django cache uses.
WORKER = """
import json, os, sys, time
from redis import Redis
from llm.limits import RateBudgetTimeout, RateGovernor

client = Redis.from_url(os.environ["REDIS_URL"])
governor = RateGovernor(sys.argv[1], rpm=120, tpm=None, max_concurrency=10, redis=client)
print("ready", flush=True)
start_at, duration = (float(x) for x in sys.stdin.readline().split())
time.sleep(max(0.0, start_at - time.time()))
deadline = time.monotonic() + (start_at + duration - time.time())
stamps = []
while True:
    try:
        with governor.slot(estimated_tokens=1, deadline=deadline):
            stamps.append(time.time())
    except RateBudgetTimeout:
        break
print(json.dumps(stamps), flush=True)
"""


def test_two_processes_share_one_request_budget(needs_redis, settings):
    # Given two worker processes on one account at 120 RPM (2 per 1-second window)
    name = f"test-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "REDIS_URL": settings.REDIS_URL}
    workers = [
        subprocess.Popen(  # noqa: S603 - our own interpreter running our own code
            [sys.executable, "-c", WORKER, name],
            cwd=REPO_ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    try:
        for worker in workers:
            assert worker.stdout.readline().strip() == "ready"
        # When both take slots as fast as allowed for 3 seconds from the same instant
        start_at = time.time() + 0.1
        for worker in workers:
            worker.stdin.write(f"{start_at} 3.0\n")
            worker.stdin.flush()
        per_worker = [json.loads(worker.stdout.readline()) for worker in workers]
    finally:
        for worker in workers:
            worker.kill()
            worker.wait()

    # Then together they never exceed 2 in any window (50 ms of slack for stamping after the
    # limiter's own timestamp) and they use the budget, not a fraction of it (ideal: 6).
    stamps = sorted(t for worker_stamps in per_worker for t in worker_stamps)
    assert most_in_any_window(stamps, seconds=0.95) <= 2
    assert 5 <= len(stamps) <= 6
    assert all(start_at - 0.01 <= t < start_at + 3.0 for t in stamps)


def test_without_limits_a_slot_costs_one_round_trip_in_and_one_out(needs_redis, round_trips):
    governor = unlimited_governor(max_concurrency=2)
    with governor.slot(estimated_tokens=10):  # loads the script
        pass

    round_trips.clear()
    with governor.slot(estimated_tokens=10) as lease:
        assert len(round_trips) == 1
        lease.settle(actual_tokens=12)
        assert len(round_trips) == 1
    assert len(round_trips) == 2
    assert governor.effective_limits()["in_flight"] == 0


def fresh_gate() -> Gate:
    """A gate on a key no other test uses, open while it holds "closed" (as the breaker's is)."""
    return Gate(key=f"contentops:llm:test:{uuid.uuid4().hex[:8]}", open_value="closed")


def test_a_gate_admits_only_while_its_key_holds_the_open_value(needs_redis):
    client = redis_client()
    governor = unlimited_governor(max_concurrency=2)
    gate = fresh_gate()
    client.set(gate.key, "closed")
    with governor.slot(estimated_tokens=1, gate=gate):
        assert governor.effective_limits()["in_flight"] == 1

    client.set(gate.key, "open")
    governor.pause(seconds=5)
    started = time.monotonic()
    with pytest.raises(GateShut), governor.slot(estimated_tokens=1, gate=gate):
        pass
    # A shut gate answers at once, even while paused, and takes no slot.
    assert time.monotonic() - started < 0.5
    assert governor.effective_limits()["in_flight"] == 0
    client.delete(gate.key)
    with pytest.raises(GateShut), governor.slot(estimated_tokens=1, gate=gate):
        pass


def read_ahead(call: CallSlot) -> None:
    """What the cache read does on a miss: admit for the call in its own round trip."""
    assert cache_get(key=f"absent-{uuid.uuid4().hex}", call=call) is None


def test_a_slot_taken_with_the_cache_read_is_used_without_asking_again(needs_redis, round_trips):
    governor = unlimited_governor(max_concurrency=1)
    with CallSlot(governor, ahead=True) as call:
        read_ahead(call)
        assert governor.effective_limits()["in_flight"] == 1

        round_trips.clear()
        with call.attempt(estimated_tokens=1):
            assert round_trips == []  # no admission round trip of its own
        assert round_trips == ["ZREM"]
        assert governor.effective_limits()["in_flight"] == 0
        round_trips.clear()
    assert round_trips == []  # used and freed: nothing left for the call to free


def test_a_read_that_took_nothing_leaves_admission_to_the_attempt(needs_redis):
    governor = unlimited_governor(max_concurrency=1)
    with governor.slot(estimated_tokens=1), CallSlot(governor, ahead=True) as call:
        read_ahead(call)  # no slot free
        assert not call.holding
        late = time.monotonic() + 0.1
        with pytest.raises(RateBudgetTimeout), call.attempt(estimated_tokens=1, deadline=late):
            pass
    with CallSlot(governor, ahead=True) as call:
        with call.attempt(estimated_tokens=1):  # asks again, now there is room
            assert governor.effective_limits()["in_flight"] == 1
        assert governor.effective_limits()["in_flight"] == 0


def test_a_read_reads_the_gate_and_a_slot_never_used_is_freed_with_the_call(needs_redis):
    client = redis_client()
    governor = unlimited_governor(max_concurrency=2)
    gate = fresh_gate()
    client.set(gate.key, "open")
    with CallSlot(governor, gate=gate, ahead=True) as shut:
        read_ahead(shut)
        with pytest.raises(GateShut), shut.attempt(estimated_tokens=1, gate=gate):
            pass
        assert governor.effective_limits()["in_flight"] == 0

    client.set(gate.key, "closed")
    with CallSlot(governor, gate=gate, ahead=True) as unused:
        read_ahead(unused)
        assert governor.effective_limits()["in_flight"] == 1
        unused.release()
        unused.release()
        assert governor.effective_limits()["in_flight"] == 0
        read_ahead(unused)
        assert governor.effective_limits()["in_flight"] == 1
    assert governor.effective_limits()["in_flight"] == 0


def test_an_error_inside_an_attempt_frees_its_slot(needs_redis):
    governor = unlimited_governor(max_concurrency=1)

    def request() -> None:
        with CallSlot(governor, ahead=True) as call:
            read_ahead(call)
            with call.attempt(estimated_tokens=1):
                raise RuntimeError("in the request")

    with pytest.raises(RuntimeError, match="in the request"):
        request()
    assert governor.effective_limits()["in_flight"] == 0


def test_in_memory_a_read_takes_no_slot_ahead():
    governor = RateGovernor("memory-only", rpm=None, tpm=None, max_concurrency=1, redis=None)
    with CallSlot(governor, ahead=True) as call:
        read_ahead(call)
        assert not call.holding
        with call.attempt(estimated_tokens=1):
            assert governor.effective_limits()["in_flight"] == 1
    assert governor.effective_limits()["in_flight"] == 0


def test_scripts_riding_on_the_release_run_even_after_redis_forgot_its_scripts(needs_redis):
    client = redis_client()
    governor = unlimited_governor(max_concurrency=2)
    key = f"contentops:llm:test:{uuid.uuid4().hex[:8]}"
    script = Script(name="test", doc="", source="return redis.call('SET', KEYS[1], ARGV[1])")

    with governor.slot(estimated_tokens=1) as lease:
        client.script_flush()
        assert lease.run_on_release(client=client, script=script, keys=[key], args=["once"])
    assert client.get(key) == b"once"
    with governor.slot(estimated_tokens=1) as lease:  # known to Redis now: sent by hash
        assert lease.run_on_release(client=client, script=script, keys=[key], args=["twice"])

    assert client.get(key) == b"twice"
    assert governor.effective_limits()["in_flight"] == 0


def test_a_failing_script_on_the_release_is_logged_and_the_slot_still_freed(needs_redis, caplog):
    governor = unlimited_governor(max_concurrency=2)

    with governor.slot(estimated_tokens=1) as lease:
        script = Script(name="broken", doc="", source="return redis.call('NO_SUCH_COMMAND')")
        lease.run_on_release(client=redis_client(), script=script, keys=[], args=[])

    assert governor.effective_limits()["in_flight"] == 0
    assert "could not release a lease" in caplog.text


def test_a_tpm_limit_learned_while_a_request_is_in_flight_still_gets_its_tokens(make_governor):
    sender, learner = make_governor(), make_governor()

    with sender.slot(estimated_tokens=100) as lease:
        learner.observe_headers({"x-ratelimit-limit-tokens": "1000", "x-ratelimit-remaining-tokens": "1000"})
        lease.settle(actual_tokens=900)

    assert lease.charged_tokens == 900
    # 900 of the minute's 1000 tokens are spent: 200 more do not fit.
    with pytest.raises(RateBudgetTimeout), sender.slot(estimated_tokens=200, deadline=time.monotonic() + 0.2):
        pass
    with sender.slot(estimated_tokens=50, deadline=time.monotonic() + 0.2):
        pass


def test_a_pause_set_while_waiting_for_a_slot_is_waited_out(make_governor):
    governor, holder = make_governor(max_concurrency=1), make_governor(max_concurrency=1)
    held = holder.slot(estimated_tokens=1)
    held.__enter__()
    entered: list[float] = []

    def enter() -> None:
        with governor.slot(estimated_tokens=1, deadline=time.monotonic() + 3):
            entered.append(time.monotonic())

    waiter = threading.Thread(target=enter)
    waiter.start()
    time.sleep(0.05)  # the waiter is polling for the slot
    holder.pause(seconds=0.4)
    paused_at = time.monotonic()
    held.__exit__(None, None, None)
    waiter.join()

    assert entered
    assert entered[0] - paused_at >= 0.35


def test_the_layer_has_three_scripts_each_documented():
    assert len(SCRIPTS) <= 3
    for script in SCRIPTS:
        assert "KEYS" in script.doc, script.name
        assert "ARGV" in script.doc, script.name
    # No Lua outside llm/scripts.py (the simulator, a fake provider, has no Redis).
    for path in (REPO_ROOT / "llm").rglob("*.py"):
        if path.name != "scripts.py":
            source = path.read_text()
            assert "redis.call(" not in source, path
            assert "register_script" not in source, path


def test_a_request_the_provider_refused_leaves_the_shared_window(needs_redis):
    # The provider does not count a request it refused (429): neither may the shared window, or
    # every refusal would cost the whole account one request's share of the limit.
    governor = RateGovernor(f"test-{uuid.uuid4().hex[:8]}", rpm=60, tpm=None, max_concurrency=5)
    with governor.slot(estimated_tokens=1) as refused:
        refused.refund_request()
    with governor.slot(estimated_tokens=1, deadline=time.monotonic() + 0.5):
        pass  # at once: the window (one a second) holds only this one
    with pytest.raises(RateBudgetTimeout), governor.slot(estimated_tokens=1, deadline=time.monotonic() + 0.5):
        pass


def _next_place_in(governor: RateGovernor) -> float:
    """Seconds until the requests window has room again (as a refused admission reports it)."""
    with pytest.raises(RateBudgetTimeout) as refused, governor.slot(estimated_tokens=1, deadline=time.monotonic()):
        pass
    return refused.value.retry_after


def test_a_request_that_leaves_late_is_counted_from_when_it_left(needs_redis, settings):
    # The provider counts a request when it arrives. One admitted and then held up in its process
    # (descheduled, or waiting for the SDK client to be built) must stay in the shared window
    # until a window after it *left*, or the others fill the provider's window past its limit.
    # Given 60 RPM (1 a second) and a request admitted, then held up for 0.3 s before it leaves
    settings.LLM_PROVIDER, settings.OPENAI_API_KEY = "openai", "sk-test"
    settings.OPENAI_BASE_URL = "http://sim.invalid/v1"
    governor = RateGovernor(f"test-{uuid.uuid4().hex[:8]}", rpm=60, tpm=None, max_concurrency=5)
    with use_transport(httpx2.MockTransport(lambda request: httpx2.Response(200, json={"data": []}))):
        client = get_client(provider_config())
        with governor.slot(estimated_tokens=1):
            time.sleep(0.3)
            client.get("/models", cast_to=object)  # it leaves through the provider's client
    # Then the window frees a second (and the transit allowance) after it left: counted from its
    # admission, it would have left the window 0.3 s earlier (at most 1.025 - 0.3 s from now).
    assert _next_place_in(governor) > 0.9


def test_a_request_held_up_past_the_whole_window_is_counted_again_when_it_leaves(needs_redis):
    # Given 120 RPM (2 a second) and a request admitted, then held up for longer than the window
    name = f"test-{uuid.uuid4().hex[:8]}"
    late, other = (RateGovernor(name, rpm=120, tpm=None, max_concurrency=5) for _ in range(2))
    with late.slot(estimated_tokens=1) as held:
        time.sleep(1.1)

        def take_one() -> None:  # meanwhile its place left the window and another process took one
            with other.slot(estimated_tokens=1, deadline=time.monotonic() + 0.5):
                pass

        taker = threading.Thread(target=take_one)
        taker.start()
        taker.join()
        # When it finally leaves
        request_leaving()
        assert held._held
    # Then it counts again, from now: with the other one the window (2 a second) is full
    assert _next_place_in(other) > 0.5
