"""/healthz names the failing part with a human message, as JSON, whatever is down: never a 500
HTML page, never an exception class name, host or secret."""

import threading
import time

import pytest
from django.db import OperationalError
from django.test import override_settings

from config import health
from llm.breaker import get_breaker
from llm.providers import provider_config

pytestmark = pytest.mark.django_db

# Nothing listens on port 1 of loopback: connections are refused at once.
DEAD_REDIS = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": "redis://:hunter2@127.0.0.1:1/0",
        "OPTIONS": {
            "CLIENT_CLASS": "django_redis.client.DefaultClient",
            "SOCKET_CONNECT_TIMEOUT": 0.5,
            "SOCKET_TIMEOUT": 0.5,
        },
    }
}
VENDOR_NAMES = ("ConnectionError", "ConnectionInterrupted", "OperationalError", "Traceback", "redis.exceptions")


def assert_clean(response, *secrets):
    assert response["Content-Type"] == "application/json"
    text = response.content.decode()
    for leaked in (*VENDOR_NAMES, *secrets):
        assert leaked not in text


def test_a_redis_outage_is_a_503_naming_the_cache_not_a_500(client, settings):
    settings.LLM_PROVIDER = "offline"

    with override_settings(CACHES=DEAD_REDIS):
        response = client.get("/healthz")

    assert response.status_code == 503
    body = response.json()
    assert body["failing"] == ["cache"]
    assert body["checks"]["cache"]["message"] == health.MESSAGES["cache"]
    assert "cache (The cache (Redis) is not reachable" in body["message"]
    assert body["checks"]["database"]["status"] == "ok"
    assert_clean(response, "hunter2", "127.0.0.1:1")


def test_a_redis_outage_with_a_provider_still_answers_json(client, sim):
    # The breaker's shared state lives in the same Redis: whatever it reads, the page stays JSON.
    with override_settings(CACHES=DEAD_REDIS):
        response = client.get("/healthz")

    assert response.status_code == 503
    assert "cache" in response.json()["failing"]
    assert_clean(response, "hunter2", "sk-canary")


def test_a_database_outage_is_a_503_naming_the_database(client, monkeypatch):
    class DeadConnection:
        vendor = "postgresql"

        def cursor(self):
            raise OperationalError(
                'connection to server at "db.internal" (10.0.0.5), port 5432 failed: '
                'password authentication failed for user "app" (password=hunter2)'
            )

        def close(self):
            pass

    monkeypatch.setattr(health, "connection", DeadConnection())

    response = client.get("/healthz")

    assert response.status_code == 503
    body = response.json()
    assert body["failing"] == ["database"]
    assert body["checks"]["database"]["message"] == health.MESSAGES["database"]
    assert_clean(response, "hunter2", "db.internal", "10.0.0.5")


def test_an_unreachable_broker_is_a_503_without_its_credentials(client, settings):
    settings.CELERY_BROKER_URL = "amqp://contentops:s3cret-broker@127.0.0.1:1//"

    response = client.get("/healthz")

    assert response.status_code == 503
    body = response.json()
    assert body["failing"] == ["broker"]
    assert body["checks"]["broker"]["message"] == health.MESSAGES["broker"]
    assert_clean(response, "s3cret-broker")


def test_an_open_provider_breaker_is_a_503_naming_the_provider(client, sim):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["checks"]["provider"]["breaker"] == "closed"

    get_breaker(provider_config().name).record_failure(force_open=True)
    response = client.get("/healthz")

    assert response.status_code == 503
    body = response.json()
    assert body["failing"] == ["provider"]
    assert "circuit breaker is open" in body["checks"]["provider"]["message"]
    assert_clean(response, "sk-canary")


def test_a_misconfigured_provider_is_named_without_details(client, settings):
    settings.LLM_PROVIDER = "no-such-provider"

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["failing"] == ["provider"]
    assert "misconfigured" in response.json()["checks"]["provider"]["message"]


def test_other_methods_get_json_too(client):
    response = client.post("/healthz")

    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"
    assert response["Allow"] == "GET, HEAD"


def test_a_hung_probe_is_reported_down_at_the_deadline_not_waited_for(client, settings, monkeypatch):
    settings.LLM_PROVIDER = "offline"
    settings.HEALTHZ_TIMEOUT_S = 0.3
    release = threading.Event()

    def hung_broker():
        release.wait(5)  # a broker that accepts the connection and never answers
        return {"status": "ok"}

    monkeypatch.setitem(health.CHECKS, "broker", hung_broker)
    started = time.monotonic()
    try:
        response = client.get("/healthz")
    finally:
        release.set()

    assert time.monotonic() - started < 2
    assert response.status_code == 503
    body = response.json()
    assert body["failing"] == ["broker"]
    assert "no answer within 0.3 s" in body["checks"]["broker"]["message"]
    assert list(body["checks"]) == list(health.CHECKS)  # every check named, in its usual order
