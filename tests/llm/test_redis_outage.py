"""Redis can vanish (DESIGN.md §4): calls still complete with the model's answers, on process memory.

Each test runs the layer against a redis-server of its own on a spare loopback port, stops it
mid-test and starts it again, so the shared Redis the other tests use is never touched.
"""

import logging
import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator

import httpx2
import pytest
import redis
from django.core.cache import cache

from llm.breaker import get_breaker
from llm.cache import cache_stats
from llm.limits import get_governor
from llm.metrics import get_metrics
from llm.models import LLMCall
from llm.providers import provider_config, use_transport
from llm.redis import redis_available, redis_client, redis_outage_stats, reset_shared_state_for_tests
from llm.runtime import run, run_many
from tests.llm.tasks import ECHO, echo_input

pytestmark = pytest.mark.django_db

UNREACHABLE = "Redis is unreachable"
BACK = "Redis answers again"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class RedisServer:
    """A throwaway redis-server (no persistence) that a test can stop and start again on one port."""

    def __init__(self) -> None:
        self.port = _free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(  # noqa: S603 - a fixed argv: the redis-server binary found on PATH
            [shutil.which("redis-server"), "--port", str(self.port), "--bind", "127.0.0.1"]
            + ["--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis(port=self.port, socket_connect_timeout=0.2)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                return
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.02)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


@pytest.fixture
def own_redis(settings) -> Iterator[RedisServer]:
    """The Django cache (and so the llm layer's shared state) on a redis-server of this test's own."""
    if shutil.which("redis-server") is None:
        if os.environ.get("CI"):
            pytest.fail("CI must run the Redis outage tests: install redis-server")
        pytest.skip("needs the redis-server binary")
    server = RedisServer()
    server.start()
    original = settings.CACHES
    settings.CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": server.url,
            "KEY_PREFIX": "outage-test",
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.5, "SOCKET_TIMEOUT": 0.5},
        }
    }
    settings.LLM_REDIS_RETRY_SECONDS = 0.2
    reset_shared_state_for_tests()  # breakers and governors are built again on this Redis
    try:
        yield server
    finally:
        if server.process is None:
            server.start()  # what tears down after this fixture clears the cache it points at
        settings.CACHES = original
        reset_shared_state_for_tests()
        server.stop()


def _until_redis_is_used_again() -> None:
    """Wait for the layer's background re-check (every LLM_REDIS_RETRY_SECONDS, 0.2 s here) to find Redis."""
    deadline = time.monotonic() + 5
    while not redis_available():
        assert time.monotonic() < deadline, "Redis is back but the llm layer does not use it again"
        time.sleep(0.05)


def _unreachable_warnings(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno == logging.WARNING and UNREACHABLE in r.getMessage()]


def test_calls_complete_with_model_answers_while_redis_is_down_and_shared_state_returns(sim, own_redis, caplog):
    # Given a warmed-up layer on Redis
    caplog.set_level(logging.INFO, logger="contentops.llm")
    assert run(ECHO, echo_input(0), apply=False).status == LLMCall.Status.SUCCEEDED
    assert cache_stats().size == 1

    # When Redis goes away
    own_redis.stop()
    one = run(ECHO, echo_input(1), apply=False)
    again = run(ECHO, echo_input(1), apply=False)  # no cache to hit: asks the model again
    outcomes = run_many(ECHO, [echo_input(i) for i in range(2, 10)], apply=False, concurrency=4)

    # Then every call got the model's answer, none a fallback, and nothing was lost
    assert [one.status, again.status] == [LLMCall.Status.SUCCEEDED, LLMCall.Status.SUCCEEDED]
    assert not one.is_fallback
    assert one.provenance.model == "gpt-4o-mini"
    assert all(o.ok and not o.result.is_fallback for o in outcomes), [o.error for o in outcomes]
    assert LLMCall.objects.filter(status=LLMCall.Status.SUCCEEDED).count() == 11
    assert sum(sim.stats["chat.completions"].values()) == 11
    # a warning, once, not one per call; and counted, in the metrics too
    assert len(_unreachable_warnings(caplog)) == 1
    stats = redis_outage_stats()
    assert not stats.available
    assert stats.errors >= 1
    metrics = get_metrics()
    # the background re-check may count one more failed ping between the two reads
    assert metrics["redis_available"] is False
    assert metrics["redis_errors"] >= stats.errors
    # the shared primitives run on process memory meanwhile
    name = provider_config().name
    assert (get_breaker(name).backend, get_governor(name).backend) == ("memory", "memory")

    # When Redis is back, after the re-check interval
    own_redis.start()
    _until_redis_is_used_again()
    first = run(ECHO, echo_input(20), apply=False)
    second = run(ECHO, echo_input(20), apply=False)

    # Then the shared state is used again: the answer was cached in Redis and read back from it
    assert redis_available()
    assert redis_outage_stats().available
    assert (first.status, second.status) == (LLMCall.Status.SUCCEEDED, LLMCall.Status.CACHED)
    assert cache_stats().hits == 1
    assert (get_breaker(name).backend, get_governor(name).backend) == ("redis", "redis")
    assert any(BACK in r.getMessage() for r in caplog.records)


def test_redis_is_looked_at_again_at_most_every_few_seconds(sim, own_redis, settings, monkeypatch):
    own_redis.stop()
    settings.LLM_REDIS_RETRY_SECONDS = 60
    run(ECHO, echo_input(0), apply=False)
    assert not redis_available()
    tried: list[str] = []
    original = redis.Redis.execute_command

    def counting(self, *args, **options):
        tried.append(str(args[0]))
        return original(self, *args, **options)

    monkeypatch.setattr(redis.Redis, "execute_command", counting)

    results = [run(ECHO, echo_input(i), apply=False) for i in range(1, 6)]

    assert all(r.status == LLMCall.Status.SUCCEEDED for r in results)
    assert tried == []  # within the re-check interval nobody waits on a Redis that is not there


def test_a_process_that_starts_while_redis_is_down_serves_calls(sim, own_redis):
    own_redis.stop()
    reset_shared_state_for_tests()  # as in a worker started during the outage: nothing built yet

    results = [run(ECHO, echo_input(i), apply=False) for i in range(3)]

    assert [r.status for r in results] == [LLMCall.Status.SUCCEEDED] * 3
    assert not redis_available()


def test_the_breaker_falls_back_to_process_memory_while_redis_is_down(sim, own_redis):
    own_redis.stop()
    sim.script("insufficient_quota")

    refused = run(ECHO, echo_input(0), apply=False)
    after = run(ECHO, echo_input(1), apply=False)

    # the quota error opened the (process-memory) circuit: the next call never reached the provider
    assert (refused.is_fallback, refused.error.kind) == (True, "insufficient_quota")
    assert (after.is_fallback, after.error.kind) == (True, "circuit_open")
    assert sum(sim.stats["chat.completions"].values()) == 1
    assert get_breaker(provider_config().name).state == "open"

    # and once Redis is back the shared circuit (never opened there) decides again
    own_redis.start()
    _until_redis_is_used_again()
    assert get_breaker(provider_config().name).state == "closed"


def test_limits_take_a_conservative_per_process_share_while_redis_is_down(own_redis, settings):
    from llm.providers import clients_reset
    from llm.simulator import Simulator
    from tests.conftest import CANARY_KEY

    settings.LLM_PROVIDER = "openai"
    settings.OPENAI_API_KEY = CANARY_KEY
    settings.OPENAI_BASE_URL = ""
    settings.OPENAI_MAX_CONCURRENT_REQUESTS = 8
    settings.LLM_REDIS_DOWN_PROCESS_SHARE = 4
    reset_shared_state_for_tests()
    simulator = Simulator(seed=3, latency_ms=40)
    in_flight, peak, lock = [0], [0], threading.Lock()

    def handle(request: httpx2.Request) -> httpx2.Response:
        with lock:
            in_flight[0] += 1
            peak[0] = max(peak[0], in_flight[0])
        try:
            return simulator.handle(request)
        finally:
            with lock:
                in_flight[0] -= 1

    try:
        with use_transport(httpx2.MockTransport(handle)):
            run(ECHO, echo_input(0), apply=False)  # the provider is known to answer
            own_redis.stop()
            outcomes = run_many(ECHO, [echo_input(i) for i in range(1, 13)], apply=False, concurrency=8)
            limits = get_governor(provider_config().name).effective_limits()
    finally:
        simulator.close()
        clients_reset()

    assert all(o.ok and not o.result.is_fallback for o in outcomes)
    assert peak[0] <= 2  # 8 concurrent requests across all processes: 2 for this one while it cannot see them
    assert (limits["backend"], limits["max_concurrency"]) == ("memory", 2)


def test_metrics_answer_while_redis_is_down(own_redis):
    own_redis.stop()

    metrics = get_metrics()

    assert metrics["redis_available"] is False
    assert metrics["redis_errors"] >= 1
    assert metrics["cache_hits"] == 0  # the shared counters are in Redis: not known meanwhile


def test_the_raw_client_and_the_django_cache_point_at_the_test_server(own_redis):
    # A guard for the tests above: they must exercise this server, not the shared Redis.
    assert redis_client().connection_pool.connection_kwargs["port"] == own_redis.port
    cache.set("probe", 1)
    assert redis.Redis(port=own_redis.port).keys("*probe*")
