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
def round_trips(monkeypatch):
    """Counts the Redis round trips made in this thread (single commands, scripts, pipelines)."""
    import redis

    counted: list[str] = []
    command, pipeline_execute = redis.Redis.execute_command, redis.client.Pipeline.execute

    def counting_command(self, *args, **options):
        counted.append(str(args[0]))
        return command(self, *args, **options)

    def counting_pipeline(self, *args, **options):
        counted.append("PIPELINE")
        return pipeline_execute(self, *args, **options)

    monkeypatch.setattr(redis.Redis, "execute_command", counting_command)
    monkeypatch.setattr(redis.client.Pipeline, "execute", counting_pipeline)
    return counted
