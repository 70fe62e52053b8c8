"""The exact-match response cache: keys, hits/misses, LRU eviction, clearing, in memory and on Redis."""

import re
import threading
from datetime import timedelta

import pytest
import time_machine
from django.core.cache import cache
from django.utils import timezone

import llm.cache
from llm.cache import CacheStats, cache_clear, cache_get, cache_key, cache_set, cache_stats, cache_stats_reset
from llm.limits import CallSlot
from llm.redis import redis_client, reset_shared_state_for_tests
from tests.llm.factories import unlimited_governor

MESSAGES = [{"role": "system", "content": "Describe the field."}, {"role": "user", "content": "email"}]


@pytest.fixture(params=["memory", "redis"])
def backend(request, monkeypatch):
    """The index in process memory (even when values sit in Redis) or in Redis."""
    if request.param == "redis":
        request.getfixturevalue("needs_redis")
    else:
        monkeypatch.setattr(llm.cache, "redis_client", lambda: None)
    return request.param


def key_for(i: int = 0, **overrides) -> str:
    values = {
        "provider": "openai",
        "model": "gpt-4o-mini",
        "task_name": "field_description",
        "task_version": 1,
        "schema_hash": "abc123",
        "messages": [*MESSAGES, {"role": "user", "content": f"variant {i}"}],
    }
    values.update(overrides)
    return cache_key(**values)


def test_cache_key_is_canonical_and_covers_every_input():
    reordered = [{"content": m["content"], "role": m["role"]} for m in MESSAGES]
    base = key_for()

    assert re.fullmatch(r"[0-9a-f]{64}", base)
    assert cache_key(
        provider="openai", model="gpt-4o-mini", task_name="t", task_version=1, schema_hash="s", messages=MESSAGES
    ) == cache_key(
        provider="openai", model="gpt-4o-mini", task_name="t", task_version=1, schema_hash="s", messages=reordered
    )
    variants = {
        key_for(provider="azure"),
        key_for(model="gpt-4o"),
        key_for(task_name="other"),
        key_for(task_version=2),
        key_for(schema_hash="def456"),
        key_for(1),
    }
    assert base not in variants
    assert len(variants) == 6


def test_a_miss_then_a_hit_are_counted(backend):
    key = key_for()

    assert cache_get(key=key) is None
    cache_set(key=key, value={"output": {"description": "An email"}}, task_name="field_description")

    assert cache_get(key=key) == {"output": {"description": "An email"}}
    assert cache_stats() == CacheStats(hits=1, misses=1, evictions=0, size=1)


def test_beyond_max_size_the_least_recently_used_entries_are_evicted(backend, settings):
    settings.OPENAI_CACHE_MAX_SIZE = 3
    a, b, c, d, e = (key_for(i) for i in range(5))
    for key in (a, b, c):
        cache_set(key=key, value={"k": key}, task_name="t")

    cache_get(key=a)  # a is now the most recently used: b is the oldest
    cache_set(key=d, value={"k": d}, task_name="t")
    cache_set(key=e, value={"k": e}, task_name="t")

    assert cache_get(key=b) is None
    assert cache_get(key=c) is None
    assert [cache_get(key=key) is not None for key in (a, d, e)] == [True, True, True]
    stats = cache_stats()
    assert (stats.evictions, stats.size) == (2, 3)


def test_setting_an_existing_key_again_does_not_grow_the_cache(backend, settings):
    settings.OPENAI_CACHE_MAX_SIZE = 2
    key = key_for()

    for version in range(5):
        cache_set(key=key, value={"v": version}, task_name="t")

    assert cache_get(key=key) == {"v": 4}
    assert (cache_stats().size, cache_stats().evictions) == (1, 0)


def test_concurrent_writers_never_overfill_the_index(backend, settings):
    settings.OPENAI_CACHE_MAX_SIZE = 20
    keys = [key_for(i) for i in range(200)]

    def write(chunk: list[str]) -> None:
        for key in chunk:
            cache_set(key=key, value={"k": key}, task_name="t")

    threads = [threading.Thread(target=write, args=(keys[i::8],)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    stats = cache_stats()
    assert stats.size == 20
    assert stats.evictions == 180


def test_entries_past_their_ttl_leave_the_index_without_counting_as_evictions(backend, settings):
    settings.OPENAI_CACHE_TTL = 60
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        cache_set(key=key_for(), value={"v": 1}, task_name="t")
        assert cache_stats().size == 1

        traveller.shift(timedelta(seconds=61))

        assert cache_stats() == CacheStats(hits=0, misses=0, evictions=0, size=0)


def test_values_carry_the_configured_ttl(needs_redis, settings):
    settings.OPENAI_CACHE_TTL = 120
    key = key_for()

    cache_set(key=key, value={"v": 1}, task_name="t")

    assert 110 < cache.ttl(f"llm:resp:{key}") <= 120


def test_clear_one_task_one_user_or_everything(backend):
    cache_set(key=key_for(1), value={"v": 1}, task_name="field_description", user_id=7)
    cache_set(key=key_for(2), value={"v": 2}, task_name="field_description", user_id=8)
    cache_set(key=key_for(3), value={"v": 3}, task_name="job_email", user_id=7)
    cache_set(key=key_for(4), value={"v": 4}, task_name="job_email")

    assert cache_clear(task_name="field_description", user_id=8) == 1
    assert cache_get(key=key_for(2)) is None

    assert cache_clear(user_id=7) == 2
    assert cache_get(key=key_for(1)) is None
    assert cache_get(key=key_for(3)) is None
    assert cache_get(key=key_for(4)) == {"v": 4}

    assert cache_clear(task_name="field_description") == 0
    assert cache_clear() == 1
    assert cache_get(key=key_for(4)) is None
    assert cache_stats().size == 0


def test_stats_reset_zeroes_the_counters_but_keeps_the_entries(backend):
    key = key_for()
    cache_set(key=key, value={"v": 1}, task_name="t")
    cache_get(key=key)
    cache_get(key=key_for(9))

    cache_stats_reset()

    assert cache_stats() == CacheStats(hits=0, misses=0, evictions=0, size=1)
    assert cache_get(key=key) == {"v": 1}


def test_a_disabled_cache_neither_stores_nor_counts(backend, settings):
    settings.OPENAI_CACHE_ENABLED = False
    key = key_for()

    cache_set(key=key, value={"v": 1}, task_name="t")

    assert cache_get(key=key) is None
    assert cache_stats() == CacheStats(hits=0, misses=0, evictions=0, size=0)


def test_the_redis_index_is_namespaced_and_shared(needs_redis):
    client = redis_client()
    cache_set(key=key_for(), value={"v": 1}, task_name="t", user_id=3)

    keys = {k.decode() for k in client.scan_iter(match="contentops:llm:cache:*")}
    assert {"contentops:llm:cache:lru", "contentops:llm:cache:task:t", "contentops:llm:cache:user:3"} <= keys

    # Another process sees the same index: here, the raw sorted set every process reads.
    assert client.zcard("contentops:llm:cache:lru") == 1
    reset_shared_state_for_tests()
    assert not list(client.scan_iter(match="contentops:llm:*"))


def test_on_redis_a_hit_a_miss_and_a_store_are_one_round_trip_each(needs_redis, round_trips):
    warm = key_for(99)  # loads the scripts
    cache_get(key=warm)
    cache_set(key=warm, value={"v": 0}, task_name="t")
    key = key_for()

    round_trips.clear()
    assert cache_get(key=key) is None
    assert len(round_trips) == 1
    cache_set(key=key, value={"v": 1}, task_name="t", user_id=5)
    assert len(round_trips) == 2
    assert cache_get(key=key) == {"v": 1}
    assert len(round_trips) == 3
    assert cache_stats() == CacheStats(hits=1, misses=2, evictions=0, size=2)


def test_a_read_for_a_call_takes_a_slot_on_a_miss_only_and_the_call_frees_it(needs_redis, round_trips):
    governor = unlimited_governor(max_concurrency=1)
    with CallSlot(governor, ahead=True) as warm:
        cache_get(key=key_for(99), call=warm)  # loads the script
    key = key_for()

    round_trips.clear()
    with CallSlot(governor, ahead=True) as miss:
        assert cache_get(key=key, call=miss) is None
        assert len(round_trips) == 1
        assert miss.holding
        assert governor.effective_limits()["in_flight"] == 1
        with miss.attempt(estimated_tokens=1):  # the request after the miss, in the slot the read took
            cache_set(key=key, value={"v": 1}, task_name="t")
        assert not miss.holding
    assert governor.effective_limits()["in_flight"] == 0

    with CallSlot(governor, ahead=True) as unused:
        assert cache_get(key=key_for(7), call=unused) is None
    assert governor.effective_limits()["in_flight"] == 0  # a slot never used is freed with the call

    with CallSlot(governor, ahead=True) as hit:
        round_trips.clear()
        assert cache_get(key=key, call=hit) == {"v": 1}
        assert len(round_trips) == 1
        assert not hit.holding
    assert governor.effective_limits()["in_flight"] == 0
    assert cache_stats() == CacheStats(hits=1, misses=3, evictions=0, size=1)


def test_values_live_in_the_django_cache_and_leave_it_when_evicted_or_cleared(backend, settings):
    settings.OPENAI_CACHE_MAX_SIZE = 2
    a, b, c = (key_for(i) for i in range(3))
    for key in (a, b):
        cache_set(key=key, value={"k": key}, task_name="t", user_id=1)

    assert cache.get(f"llm:resp:{a}") == {"k": a}  # any process can read it the Django way
    cache_set(key=c, value={"k": c}, task_name="t")

    assert cache.get(f"llm:resp:{a}") is None  # evicted: the value went with the index entry
    assert cache.get(f"llm:resp:{b}") == {"k": b}
    assert cache_clear(user_id=1) == 1
    assert cache.get(f"llm:resp:{b}") is None
    assert cache.get(f"llm:resp:{c}") == {"k": c}
    assert cache_clear() == 1
    assert cache.get(f"llm:resp:{c}") is None


def test_a_value_gone_from_the_cache_is_a_miss_and_leaves_the_index(backend):
    key = key_for()
    cache_set(key=key, value={"v": 1}, task_name="t")

    cache.delete(f"llm:resp:{key}")  # e.g. the Django cache evicted it under memory pressure

    assert cache_get(key=key) is None
    assert cache_stats() == CacheStats(hits=0, misses=1, evictions=0, size=0)


def reversed_key(key: str, key_prefix: str, version: int) -> str:
    """A KEY_FUNCTION under which a value's key is not the entries' common prefix + the entry key."""
    return f"{key[::-1]}:{version}:{key_prefix}"


def test_values_are_deleted_under_any_cache_key_function(needs_redis, settings):
    caches_setting = {"default": {**settings.CACHES["default"], "KEY_FUNCTION": reversed_key}}
    settings.CACHES = caches_setting
    settings.OPENAI_CACHE_MAX_SIZE = 1
    a, b = key_for(1), key_for(2)

    cache_set(key=a, value={"v": 1}, task_name="t")
    assert redis_client().exists(reversed_key(f"llm:resp:{a}", cache.key_prefix, cache.version))
    cache_set(key=b, value={"v": 2}, task_name="t")

    assert cache.get(f"llm:resp:{a}") is None
    assert cache_get(key=b) == {"v": 2}
    assert cache_clear() == 1
    assert cache.get(f"llm:resp:{b}") is None
