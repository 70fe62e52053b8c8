"""Provider selection and the wire shape of Azure and OpenAI-compatible calls."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from catalog.datasets.llm import FIELD_DESCRIPTION
from llm.providers import provider_config, use_transport
from llm.runtime import run
from llm.simulator import Simulator
from tests.llm.factories import field_input

pytestmark = pytest.mark.django_db


@pytest.fixture
def bare_sim():
    simulator = Simulator(seed=3)
    with use_transport(simulator.transport()):
        yield simulator
    simulator.close()


def test_no_key_means_offline(settings):
    settings.LLM_PROVIDER, settings.OPENAI_API_KEY, settings.OPENAI_BASE_URL = "", "", ""
    settings.AZURE_OPENAI_ENDPOINT = ""

    assert provider_config().kind == "offline"


def test_provider_is_chosen_from_settings(settings):
    settings.LLM_PROVIDER = ""
    settings.OPENAI_API_KEY = "sk-x"
    assert provider_config().kind == "openai"
    settings.OPENAI_BASE_URL = "http://127.0.0.1:1234/v1"
    assert provider_config().kind == "compatible"
    settings.AZURE_OPENAI_ENDPOINT, settings.AZURE_OPENAI_API_KEY = "https://r.openai.azure.com", "az"
    settings.AZURE_OPENAI_DEPLOYMENT_NAME = "mini"
    assert provider_config().kind == "azure"


def test_unknown_provider_is_refused(settings):
    settings.LLM_PROVIDER = "bard"

    with pytest.raises(ImproperlyConfigured):
        provider_config()


def test_api_key_is_not_in_the_config_repr(settings):
    settings.LLM_PROVIDER, settings.OPENAI_API_KEY = "openai", "sk-very-secret-value"

    assert "sk-very-secret-value" not in repr(provider_config())


def test_azure_calls_use_deployment_urls_api_version_and_api_key_header(settings, bare_sim):
    settings.LLM_PROVIDER = "azure"
    settings.AZURE_OPENAI_ENDPOINT = "https://contoso.openai.azure.com"
    settings.AZURE_OPENAI_API_KEY = "azure-key-123"
    settings.AZURE_OPENAI_DEPLOYMENT_NAME = "mini-prod"
    settings.AZURE_OPENAI_API_VERSION = "2024-10-21"

    result = run(FIELD_DESCRIPTION, field_input(1))

    assert not result.is_fallback
    call = bare_sim.calls[-1]
    assert call.path == "/openai/deployments/mini-prod/chat/completions"
    assert call.query["api-version"] == "2024-10-21"
    assert call.headers["api-key"] == "azure-key-123"
    assert "authorization" not in {k.lower() for k in call.headers}
    assert call.json["model"] == "mini-prod"


def test_compatible_servers_get_base_url_and_max_tokens(settings, bare_sim):
    settings.LLM_PROVIDER = ""
    settings.OPENAI_API_KEY = ""
    settings.OPENAI_BASE_URL = "http://127.0.0.1:1234/v1"
    settings.OPENAI_MODEL = "qwen2.5-7b-instruct"

    result = run(FIELD_DESCRIPTION, field_input(1))

    assert not result.is_fallback
    call = bare_sim.calls[-1]
    assert call.path == "/v1/chat/completions"
    assert call.json["max_tokens"] == FIELD_DESCRIPTION.max_output_tokens
    assert call.json["response_format"]["type"] == "json_schema"
    assert call.json["model"] == "qwen2.5-7b-instruct"
