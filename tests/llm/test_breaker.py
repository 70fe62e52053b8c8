"""The shared circuit breaker: opening, cool-down, the single half-open trial, across instances."""

import threading
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from llm.breaker import Breaker, get_breaker
from llm.redis import redis_client, reset_shared_state_for_tests
from tests.llm.factories import unlimited_governor

T0 = datetime(2030, 1, 1, 12, 0, 0, tzinfo=UTC)


@pytest.fixture(params=["memory", "redis"])
def storage(request):
    if request.param == "redis":
        request.getfixturevalue("needs_redis")
    return request.param


@pytest.fixture
def make_breaker(storage):
    """Breakers on one circuit name: each call is another "process" sharing the state."""
    name = f"test-{uuid.uuid4().hex[:8]}"

    def make(**kwargs) -> Breaker:
        kwargs = {"fail_max": 3, "reset_timeout": 60, **kwargs}
        return Breaker(name, storage=storage, **kwargs)

    return make


@pytest.fixture
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


def fail(breaker: Breaker, times: int) -> None:
    for _ in range(times):
        breaker.record_failure()


def test_opens_after_fail_max_consecutive_failures(make_breaker, clock):
    breaker = make_breaker()
    fail(breaker, 2)
    breaker.record_success()  # not consecutive any more
    fail(breaker, 2)

    assert (breaker.state, breaker.allow()) == ("closed", True)

    breaker.record_failure()

    assert breaker.state == "open"
    assert breaker.allow() is False
    assert breaker.opened_until == T0 + timedelta(seconds=60)


def test_no_request_during_the_cool_down_then_exactly_one_trial(make_breaker, clock):
    breaker = make_breaker()
    fail(breaker, 3)

    clock.shift(timedelta(seconds=59))
    assert breaker.allow() is False

    clock.shift(timedelta(seconds=1))
    assert breaker.allow() is True
    assert breaker.state == "half-open"
    assert breaker.allow() is False  # the trial is in flight: everyone else waits


def test_a_successful_trial_closes_the_circuit(make_breaker, clock):
    breaker = make_breaker()
    fail(breaker, 3)
    clock.shift(timedelta(seconds=60))
    assert breaker.allow() is True

    breaker.record_success()

    assert breaker.state == "closed"
    assert breaker.opened_until is None
    assert [breaker.allow() for _ in range(3)] == [True, True, True]
    fail(breaker, 2)
    assert breaker.state == "closed"  # the count started again


def test_a_failed_trial_reopens_for_a_new_cool_down(make_breaker, clock):
    breaker = make_breaker()
    fail(breaker, 3)
    clock.shift(timedelta(seconds=60))
    assert breaker.allow() is True

    breaker.record_failure()

    assert breaker.state == "open"
    assert breaker.opened_until == T0 + timedelta(seconds=120)
    assert breaker.allow() is False
    clock.shift(timedelta(seconds=60))
    assert breaker.allow() is True


def test_force_open_opens_at_once(make_breaker, clock):
    breaker = make_breaker()

    breaker.record_failure(force_open=True)

    assert breaker.state == "open"
    assert breaker.allow() is False


def test_late_failures_while_open_do_not_extend_the_cool_down(make_breaker, clock):
    breaker = make_breaker()
    fail(breaker, 3)
    clock.shift(timedelta(seconds=30))

    fail(breaker, 5)  # requests sent before the circuit opened

    assert breaker.opened_until == T0 + timedelta(seconds=60)


def test_an_abandoned_trial_expires_and_another_caller_may_try(make_breaker, clock):
    breaker = make_breaker(trial_timeout=0.05)
    fail(breaker, 3)
    clock.shift(timedelta(seconds=60))
    assert breaker.allow() is True  # ...and the caller crashes, never reporting back

    time.sleep(0.06)  # Redis expires the trial lease in real time
    clock.shift(timedelta(seconds=1))  # the memory lease reads the (frozen) wall clock

    assert breaker.allow() is True


def test_instances_with_the_same_name_share_state_and_the_single_trial(make_breaker, clock):
    first, second = make_breaker(), make_breaker()
    fail(first, 2)
    second.record_failure()

    assert (first.state, second.state) == ("open", "open")
    assert second.opened_until == T0 + timedelta(seconds=60)

    clock.shift(timedelta(seconds=60))
    results: list[bool] = []
    barrier = threading.Barrier(16)

    def ask(breaker: Breaker) -> None:
        barrier.wait()
        results.append(breaker.allow())

    threads = [threading.Thread(target=ask, args=(b,)) for b in [make_breaker() for _ in range(4)] * 4]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert results.count(True) == 1
    first.record_success()
    assert second.state == "closed"


def test_reset_closes_and_forgets_a_later_opening(make_breaker):
    breaker = make_breaker()
    with time_machine.travel(T0 + timedelta(days=365), tick=False):
        breaker.record_failure(force_open=True)

    breaker.reset()

    assert (breaker.state, breaker.failure_count, breaker.opened_until) == ("closed", 0, None)
    with time_machine.travel(T0, tick=False):
        breaker.record_failure(force_open=True)
        # Had the future opening survived the reset, the cool-down would end a year from now.
        assert breaker.opened_until == T0 + timedelta(seconds=60)


def test_get_breaker_uses_the_settings_and_is_cached(settings, clock):
    settings.OPENAI_CIRCUIT_FAILURE_THRESHOLD = 2
    settings.OPENAI_CIRCUIT_RESET_TIMEOUT = 10
    reset_shared_state_for_tests()  # forget breakers built with the previous settings

    breaker = get_breaker("provider-x")

    assert get_breaker("provider-x") is breaker
    assert (breaker.fail_max, breaker.reset_timeout) == (2, 10)
    assert breaker.backend == ("redis" if redis_client() is not None else "memory")
    fail(breaker, 2)
    assert breaker.opened_until == T0 + timedelta(seconds=10)
    breaker.reset()
    assert get_breaker("provider-x").state == "closed"


def test_on_redis_a_success_is_one_round_trip_and_writes_only_what_needs_resetting(needs_redis, round_trips):
    breaker = Breaker(f"test-{uuid.uuid4().hex[:8]}", storage="redis", fail_max=3, reset_timeout=60)
    client = redis_client()
    counter_key = f"contentops:llm:breaker:{breaker.name}:pybreaker:fail_counter"
    breaker.record_success()  # loads the script

    round_trips.clear()
    breaker.record_success()
    assert len(round_trips) == 1
    # Nothing to reset, so nothing written: a SET would have dropped this marker TTL.
    client.expire(counter_key, 100)
    breaker.record_success()
    assert client.ttl(counter_key) > 0

    breaker.record_failure()
    breaker.record_success()
    assert (breaker.state, breaker.failure_count) == ("closed", 0)
    assert client.ttl(counter_key) == -1  # this time it was written


def test_on_redis_a_success_after_the_state_was_lost_reinitialises_a_closed_circuit(needs_redis):
    breaker = Breaker(f"test-{uuid.uuid4().hex[:8]}", storage="redis", fail_max=3, reset_timeout=60)
    fail(breaker, 2)
    reset_shared_state_for_tests()  # e.g. Redis restarted without persistence

    breaker.record_success()

    client = redis_client()
    namespace = f"contentops:llm:breaker:{breaker.name}:pybreaker"
    assert client.get(f"{namespace}:state") == b"closed"
    assert client.get(f"{namespace}:fail_counter") == b"0"
    fail(breaker, 2)
    assert (breaker.state, breaker.failure_count) == ("closed", 2)


def test_a_successful_trial_frees_the_trial_for_the_next_opening(make_breaker, clock):
    first, second = make_breaker(), make_breaker()
    fail(first, 3)
    clock.shift(timedelta(seconds=60))
    assert first.allow() is True

    first.record_success()
    fail(second, 3)
    clock.shift(timedelta(seconds=60))

    # Had the success left the first trial's lease behind, nobody could try again until it expired.
    assert second.allow() is True


@pytest.mark.parametrize("fails_first", [0, 2])
def test_a_success_recorded_with_a_slot_lease_lands_when_the_slot_is_released(make_breaker, storage, fails_first):
    from llm.limits import RateGovernor

    breaker, other = make_breaker(), make_breaker()
    fail(breaker, fails_first)
    governor = RateGovernor(
        f"test-{uuid.uuid4().hex[:8]}",
        rpm=None,
        tpm=None,
        max_concurrency=1,
        redis="auto" if storage == "redis" else None,
    )

    with governor.slot(estimated_tokens=1) as lease:
        breaker.record_success(lease=lease)
        if storage == "redis":
            assert other.failure_count == fails_first  # not yet: it goes out with the release

    assert (other.state, other.failure_count) == ("closed", 0)
    fail(other, 2)
    assert other.state == "closed"  # the count started again


def test_a_success_after_the_slot_was_released_is_recorded_at_once(make_breaker):
    breaker = make_breaker()
    fail(breaker, 2)
    governor = unlimited_governor(max_concurrency=1)
    with governor.slot(estimated_tokens=1) as lease:
        pass

    breaker.record_success(lease=lease)

    assert breaker.failure_count == 0


def test_a_breaker_made_in_another_thread_still_rides_on_the_release(needs_redis, round_trips):
    made: list[Breaker] = []  # django-redis hands each thread its own client (on one connection pool)
    maker = threading.Thread(
        target=lambda: made.append(Breaker(f"test-{uuid.uuid4().hex[:8]}", fail_max=3, reset_timeout=60))
    )
    maker.start()
    maker.join()
    breaker = made[0]
    fail(breaker, 2)
    governor = unlimited_governor(max_concurrency=1)

    with governor.slot(estimated_tokens=1) as lease:
        round_trips.clear()
        breaker.record_success(lease=lease)
        assert round_trips == []
    assert round_trips == ["PIPELINE"]
    assert breaker.failure_count == 0


def test_a_success_admitted_through_a_closed_circuit_without_failures_writes_nothing(needs_redis, round_trips):
    breaker = Breaker(f"test-{uuid.uuid4().hex[:8]}", storage="redis", fail_max=3, reset_timeout=60)
    breaker.record_success()  # the state key exists, closed
    governor = unlimited_governor(max_concurrency=1)

    with governor.slot(estimated_tokens=1, gate=breaker.closed_gate) as lease:
        round_trips.clear()
        breaker.record_success(lease=lease)
    assert round_trips == ["ZREM"]  # the release alone: nothing of the breaker's rode on it

    fail(breaker, 2)
    with governor.slot(estimated_tokens=1, gate=breaker.closed_gate) as lease:
        breaker.record_success(lease=lease)
    assert breaker.failure_count == 0  # failures seen at admission: forgotten on the release
