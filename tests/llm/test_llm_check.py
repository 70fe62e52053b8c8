"""`manage.py llm_check [--json]`: what the settings select (never a key) and one tiny call."""

from __future__ import annotations

import json
import socket
from io import StringIO

import httpx2
import pytest
from django.core.management import CommandError, call_command

from llm.breaker import get_breaker
from llm.models import LLMCall
from llm.providers import provider_config, use_transport
from llm.simulator import Simulator
from tests.conftest import CANARY_KEY

pytestmark = pytest.mark.django_db

AZURE_KEY = "azure-check-key-0123456789abcdef"
DEPLOYMENT = "prod-4o-mini"


def check(*args: str) -> tuple[str, CommandError | None]:
    out = StringIO()
    try:
        call_command("llm_check", *args, stdout=out)
    except CommandError as exc:
        return out.getvalue(), exc
    return out.getvalue(), None


@pytest.fixture
def azure_settings(settings):
    settings.LLM_PROVIDER = ""
    settings.OPENAI_BASE_URL = ""
    settings.OPENAI_API_KEY = ""
    settings.AZURE_OPENAI_ENDPOINT = "https://contoso.openai.azure.com"
    settings.AZURE_OPENAI_API_KEY = AZURE_KEY
    settings.AZURE_OPENAI_DEPLOYMENT_NAME = DEPLOYMENT
    settings.OPENAI_CONNECTION_TIMEOUT = 2.0
    settings.OPENAI_REQUEST_TIMEOUT = 2.0
    return settings


@pytest.fixture
def azure_sim(azure_settings):
    simulator = Simulator(seed=4, require_api_key=AZURE_KEY, azure_deployments=(DEPLOYMENT,))
    with use_transport(simulator.transport()):
        yield simulator
    simulator.close()


def test_offline_says_so_and_makes_no_call(settings):
    settings.LLM_PROVIDER, settings.OPENAI_API_KEY, settings.AZURE_OPENAI_ENDPOINT = "", "", ""

    out, error = check()
    as_json, json_error = check("--json")

    assert error is None
    assert json_error is None
    assert "offline" in out
    assert "no call made" in out
    report = json.loads(as_json)
    assert (report["provider"], report["called"], report["ok"]) == ("offline", False, True)
    assert not LLMCall.objects.exists()


def test_azure_reports_endpoint_deployment_and_latency_without_the_key(azure_sim, azure_settings):
    out, error = check()

    assert error is None, out
    assert "Provider:    azure" in out
    assert "Endpoint:    https://contoso.openai.azure.com" in out
    assert f"Deployment:  {DEPLOYMENT}" in out
    assert f"API version: {azure_settings.AZURE_OPENAI_API_VERSION}" in out
    assert "OK, answered in" in out
    assert AZURE_KEY not in out
    # One tiny call to the deployment, recorded in the ledger (the provider bills it)
    (call,) = azure_sim.calls
    assert call.path == f"/openai/deployments/{DEPLOYMENT}/chat/completions"
    assert call.json["max_completion_tokens"] <= 16
    row = LLMCall.objects.get()
    assert (row.task, row.status, row.provider) == ("llm_check", "succeeded", "azure")
    assert row.tokens_in > 0


def test_json_output_has_the_same_facts(azure_sim):
    out, error = check("--json")

    assert error is None
    report = json.loads(out)
    assert report["provider"] == "azure"
    assert report["deployment"] == DEPLOYMENT
    assert report["endpoint"] == "https://contoso.openai.azure.com"
    assert (report["called"], report["ok"], report["error"]) == (True, True, "")
    assert isinstance(report["latency_ms"], int)
    assert AZURE_KEY not in out


def test_the_check_ignores_an_open_breaker(azure_sim):
    # The check says what the provider answers now, even while the runtime has stopped calling it.
    get_breaker(provider_config().name).record_failure(force_open=True)

    _, error = check()

    assert error is None
    assert len(azure_sim.calls) == 1


def test_a_bad_key_is_authentication_failed_and_exits_non_zero(sim, settings):
    settings.OPENAI_API_KEY = "sk-wrong-0123456789abcdefWRONGKEY"

    out, error = check()

    assert error is not None
    assert error.returncode == 1
    assert "authentication failed" in str(error)
    assert "authentication failed" in out
    assert "Endpoint:    https://api.openai.com/v1" in out
    for secret in (settings.OPENAI_API_KEY, CANARY_KEY, "sk-w****", "WRONGKEY"):
        assert secret not in out
        assert secret not in str(error)
    row = LLMCall.objects.get()
    assert (row.status, row.error_class) == ("failed", "auth")
    assert "WRONGKEY" not in row.error_message


def test_a_wrong_deployment_is_deployment_not_found(azure_sim, azure_settings):
    azure_settings.AZURE_OPENAI_DEPLOYMENT_NAME = "no-such-deployment"

    out, error = check("--json")

    assert error is not None
    report = json.loads(out)
    assert report["ok"] is False
    assert report["error"].startswith("deployment not found: 'no-such-deployment'")
    assert report["error_kind"] == "not_found"


def test_a_bad_azure_key_is_authentication_failed(azure_sim, azure_settings):
    azure_settings.AZURE_OPENAI_API_KEY = "azure-not-the-key-0000"

    _, error = check()

    assert error is not None
    assert "authentication failed" in str(error)


def test_a_refused_connection_is_cannot_reach_the_endpoint(azure_settings):
    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    azure_settings.AZURE_OPENAI_ENDPOINT = f"http://127.0.0.1:{port}/"

    with use_transport(httpx2.HTTPTransport()):
        out, error = check()

    assert error is not None
    assert f"cannot reach http://127.0.0.1:{port}" in str(error)
    assert f"cannot reach http://127.0.0.1:{port}" in out
    assert LLMCall.objects.get().error_class == "connection"


def test_a_misconfigured_provider_fails_without_a_call(azure_settings):
    azure_settings.AZURE_OPENAI_DEPLOYMENT_NAME = ""

    out, error = check("--json")

    assert error is not None
    assert "AZURE_OPENAI_DEPLOYMENT_NAME" in str(error)
    assert json.loads(out)["called"] is False
    assert not LLMCall.objects.exists()


def test_the_loopback_simulator_serves_azure_to_a_real_socket(azure_settings):
    from llm.simulator import serve

    simulator = Simulator(seed=5, require_api_key=AZURE_KEY, azure_deployments=(DEPLOYMENT,))
    with serve(simulator) as base_url, use_transport(httpx2.HTTPTransport()):
        azure_settings.AZURE_OPENAI_ENDPOINT = base_url.removesuffix("/v1")
        out, error = check()
    simulator.close()

    assert error is None, out
    (call,) = simulator.calls
    assert call.path == f"/openai/deployments/{DEPLOYMENT}/chat/completions"
    assert call.query["api-version"] == azure_settings.AZURE_OPENAI_API_VERSION
