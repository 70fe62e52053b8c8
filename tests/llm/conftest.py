"""Fixtures shared by the llm layer's tests (the root conftest already resets shared state)."""

import os

import pytest

from llm.redis import redis_client


@pytest.fixture
def needs_redis():
    """Skip without Redis on a laptop; in CI a missing Redis is a failure, never a silent skip."""
    if redis_client() is None:
        if os.environ.get("CI"):
            pytest.fail("CI must run the Redis tests: set REDIS_URL")
        pytest.skip("needs Redis: set REDIS_URL")


@pytest.fixture
def round_trips():
    """Counts the Redis round trips made meanwhile (single commands, scripts, pipelines)."""
    from llm.benchmark import redis_round_trips

    with redis_round_trips() as counted:
        yield counted
