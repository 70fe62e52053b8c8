import pytest

from config import health


@pytest.mark.django_db
def test_healthz_reports_every_dependency(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "cache", "broker", "provider"}
    assert all(check["status"] == "ok" for check in body["checks"].values())


@pytest.mark.django_db
def test_healthz_is_503_when_the_cache_is_down(client, monkeypatch):
    def broken_cache():
        raise ConnectionError("redis://:hunter2@10.0.0.1 refused")

    monkeypatch.setitem(health.CHECKS, "cache", broken_cache)

    response = client.get("/healthz")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error"
    assert body["failing"] == ["cache"]
    assert body["checks"]["cache"] == {
        "status": "error",
        "message": health.MESSAGES["cache"],
        "latency_ms": body["checks"]["cache"]["latency_ms"],
    }
    assert "hunter2" not in response.content.decode()
    assert "ConnectionError" not in response.content.decode()  # a human message, not the exception's class
    assert body["checks"]["database"]["status"] == "ok"


@pytest.mark.django_db
def test_healthz_is_503_when_the_broker_is_unreachable(client, settings):
    # Nothing listens on port 1 of loopback: the connection is refused at once.
    settings.CELERY_BROKER_URL = "amqp://guest:guest@127.0.0.1:1//"

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["checks"]["broker"]["status"] == "error"
