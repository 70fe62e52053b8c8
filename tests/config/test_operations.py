"""Operations: static files served by the app as deployed, /metrics for Prometheus (protected), and
structured logs carrying the request or task id."""

import json
import logging
import sys
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.templatetags.static import static
from django.test import Client
from django.urls import reverse

from config.logging import REQUEST_ID_HEADER, bind_task, formatter, unbind_task
from config.services import api_key_create
from llm.models import LLMCall
from tests.factories import make_call

pytestmark = pytest.mark.django_db

MANIFEST_STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}


# --- static files as deployed -------------------------------------------------------------------


def test_with_debug_off_the_admin_css_is_served_by_the_app_compressed_and_hashed(settings, tmp_path):
    settings.DEBUG = False
    settings.STATIC_ROOT = tmp_path / "static"
    settings.STORAGES = MANIFEST_STORAGES
    call_command("collectstatic", "--noinput", verbosity=0)
    client = Client()  # a new handler: whitenoise reads STATIC_ROOT when its middleware starts

    url = static("admin/css/base.css")
    ours = static("contentops/admin.css")
    response = client.get(url, HTTP_ACCEPT_ENCODING="gzip")
    page = client.get(reverse("admin:login"))

    assert url != "/static/admin/css/base.css"  # a content-hashed name, cacheable forever
    assert response.status_code == 200
    assert response.headers["Content-Encoding"] == "gzip"
    assert "immutable" in response.headers["Cache-Control"]
    assert client.get(ours).status_code == 200
    assert url in page.content.decode()  # the pages link the hashed names
    assert client.get("/static/admin/css/nope.css").status_code == 404


# --- /metrics -------------------------------------------------------------------------------------


def _metrics(client: Client, **headers) -> tuple[int, str]:
    response = client.get(reverse("metrics"), **headers)
    return response.status_code, response.content.decode()


def test_metrics_need_the_token_a_staff_session_or_a_staff_key(settings, staff_user, user, client):
    settings.METRICS_TOKEN = "scrape-secret"
    _, staff_key = api_key_create(name="ops", user=staff_user, scopes=["read", "staff"])
    _, plain_key = api_key_create(name="app", user=user, scopes=["read"])

    anonymous, body = _metrics(client)
    wrong, _ = _metrics(client, HTTP_AUTHORIZATION="Bearer nope")
    scraper, _ = _metrics(client, HTTP_AUTHORIZATION="Bearer scrape-secret")
    by_staff_key, _ = _metrics(Client(), HTTP_X_API_KEY=staff_key)
    by_plain_key, _ = _metrics(Client(), HTTP_X_API_KEY=plain_key)
    client.force_login(staff_user)
    by_session, _ = _metrics(client)

    assert anonymous == 401
    assert "METRICS_TOKEN" in json.loads(body)["error"]["message"]
    assert wrong == 401
    assert (scraper, by_staff_key, by_session) == (200, 200, 200)
    assert by_plain_key == 401


def test_metrics_count_calls_tokens_cost_batches_and_the_breaker(settings, client):
    settings.METRICS_TOKEN = "t"
    make_call(task="job_score", tokens_in=100, tokens_out=50, cost_usd=Decimal("0.5"))
    make_call(task="job_score", tokens_in=10, tokens_out=5, cost_usd=Decimal("0.25"))
    make_call(task="job_score", status=LLMCall.Status.FALLBACK, error_class="offline", tokens_in=0, cost_usd=0)

    status, body = _metrics(client, HTTP_AUTHORIZATION="Bearer t")

    assert status == 200
    assert 'contentops_llm_calls_total{mode="now",status="succeeded",task="job_score"} 2.0' in body
    assert 'contentops_llm_calls_total{mode="now",status="fallback",task="job_score"} 1.0' in body
    assert 'contentops_llm_tokens_total{kind="input",task="job_score"} 110.0' in body
    assert 'contentops_llm_cost_usd_total{task="job_score"} 0.75' in body
    assert 'contentops_llm_breaker_state{provider="' in body
    assert "contentops_llm_cache_hits_total" in body
    assert 'contentops_batch_items{state="in_flight"}' in body
    assert "contentops_llm_limiter_wait_seconds_bucket" in body
    assert "django_http_requests_latency_seconds_by_view_method" in body  # django-prometheus' own


# --- structured logs ------------------------------------------------------------------------------


def test_every_answer_carries_a_request_id_and_a_callers_plain_id_is_kept(client):
    mine = client.get(reverse("healthz"), HTTP_X_REQUEST_ID="trace-abc.123")
    forged = client.get(reverse("healthz"), HTTP_X_REQUEST_ID="x\ny injected")
    fresh = client.get(reverse("healthz"))

    assert mine.headers[REQUEST_ID_HEADER] == "trace-abc.123"
    assert forged.headers[REQUEST_ID_HEADER] != "x\ny injected"
    assert len(fresh.headers[REQUEST_ID_HEADER]) == 32


def _record(message: str, *args) -> logging.LogRecord:
    return logging.LogRecord("contentops.test", logging.WARNING, __file__, 1, message, args, None)


def test_json_logs_carry_the_request_id_bound_by_the_middleware(client, monkeypatch):
    seen = []
    json_formatter = formatter(json=True)

    def capture(request):
        seen.append(json.loads(json_formatter.format(_record("batch %s stuck", "b1"))))
        from django.http import HttpResponse

        return HttpResponse("ok")

    from config.logging import RequestIdMiddleware

    middleware = RequestIdMiddleware(capture)
    from django.test import RequestFactory

    response = middleware(RequestFactory().get("/x", HTTP_X_REQUEST_ID="req-1"))

    assert response[REQUEST_ID_HEADER] == "req-1"
    line = seen[0]
    assert line["event"] == "batch b1 stuck"
    assert (line["request_id"], line["path"]) == ("req-1", "/x")
    assert (line["level"], line["logger"]) == ("warning", "contentops.test")
    assert "timestamp" in line
    # After the request nothing stays bound to the next log line.
    assert "request_id" not in json.loads(json_formatter.format(_record("later")))


def test_task_logs_carry_the_celery_task_id_and_console_logs_stay_readable():
    bind_task(task_id="task-42", task_name="batches.batch_poll_due")
    try:
        as_json = json.loads(formatter(json=True).format(_record("polled")))
        as_text = formatter(json=False).format(_record("polled"))
    finally:
        unbind_task()

    assert (as_json["task_id"], as_json["task_name"]) == ("task-42", "batches.batch_poll_due")
    assert "polled" in as_text
    assert "task_id=task-42" in as_text
    assert not as_text.lstrip().startswith("{")


def test_console_logs_of_an_exception_show_the_traceback_without_the_frames_locals():
    def connect():
        url = "redis://:hunter2@10.0.0.7:6379/0"  # noqa: F841 - a local a rich traceback would print
        raise ConnectionError("refused")

    try:
        connect()
    except ConnectionError:
        record = logging.LogRecord(
            "contentops.health", logging.WARNING, __file__, 1, "probe failed", None, sys.exc_info()
        )

    as_text = formatter(json=False).format(record)

    assert "ConnectionError: refused" in as_text
    assert "in connect" in as_text
    assert "hunter2" not in as_text


def test_the_celery_signals_bind_the_task_id(settings):
    from config.celery import app

    seen = {}

    @app.task(name="tests.log_probe")
    def probe():
        seen["line"] = json.loads(formatter(json=True).format(_record("inside")))

    settings.CELERY_TASK_ALWAYS_EAGER = True
    app.conf.task_always_eager = True
    probe.apply(task_id="celery-id-1")

    assert seen["line"]["task_id"] == "celery-id-1"
    assert seen["line"]["task_name"] == "tests.log_probe"
