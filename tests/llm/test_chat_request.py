"""The structured chat call posts a ready body and reads the answer from the response body itself."""

import httpx2
import openai
import pydantic
import pytest

from catalog.datasets.llm import FIELD_DESCRIPTION, FieldDescription
from llm.errors import ErrorKind, LLMError, Usage, billed_usage
from llm.models import LLMCall
from llm.providers import provider_config, use_transport
from llm.runtime import chat_output, run
from llm.simulator import Simulator
from tests.llm.factories import field_input

pytestmark = pytest.mark.django_db

USAGE = {"prompt_tokens": 40, "completion_tokens": 7, "prompt_tokens_details": {"cached_tokens": 8}}
BILLED = Usage(tokens_in=40, tokens_cached=8, tokens_out=7)
GOOD = '{"business_name": "Email", "description": "The contact email."}'


def test_the_request_body_is_exactly_what_the_sdks_parse_sends(sim):
    task_input = field_input(3)
    run(FIELD_DESCRIPTION, task_input, use_cache=False)
    (ours,) = [c.json for c in sim.calls if c.endpoint == "chat.completions"]

    reference = Simulator(seed=1)
    client = openai.OpenAI(
        api_key="sk-reference", http_client=httpx2.Client(transport=reference.transport()), max_retries=0
    )
    client.chat.completions.parse(
        model=provider_config().wire_model,
        messages=FIELD_DESCRIPTION.build_messages(task_input),  # type: ignore[arg-type]
        response_format=FieldDescription,
        temperature=FIELD_DESCRIPTION.temperature,
        max_completion_tokens=FIELD_DESCRIPTION.max_output_tokens,
    )
    reference.close()

    assert ours == reference.calls[-1].json
    assert ours["response_format"]["json_schema"]["strict"] is True


def test_a_valid_answer_comes_back_validated_with_its_usage():
    body = {"choices": [{"finish_reason": "stop", "message": {"content": GOOD}}], "usage": USAGE}

    output, usage = chat_output(body, FieldDescription)

    assert output == FieldDescription(business_name="Email", description="The contact email.")
    assert usage == BILLED


@pytest.mark.parametrize(
    ("choice", "kind"),
    [
        ({"finish_reason": "length", "message": {"content": GOOD[:20]}}, ErrorKind.LENGTH),
        ({"finish_reason": "content_filter", "message": {"content": None}}, ErrorKind.CONTENT_FILTER),
        ({"finish_reason": "stop", "message": {"content": None, "refusal": "I can't."}}, ErrorKind.REFUSAL),
        ({"finish_reason": "stop", "message": {"content": ""}}, ErrorKind.SCHEMA),
        ({"finish_reason": "stop", "message": None}, ErrorKind.SCHEMA),
        (None, ErrorKind.SCHEMA),
    ],
)
def test_an_unusable_answer_raises_its_kind_with_the_billed_usage(choice, kind):
    body = {"choices": [choice] if choice is not None else [], "usage": USAGE}

    with pytest.raises(LLMError) as raised:
        chat_output(body, FieldDescription)

    assert raised.value.kind == kind
    assert billed_usage(raised.value) == BILLED


@pytest.mark.parametrize("content", ['{"business_name": "Email"', '{"business_name": "Email"}'])
def test_invalid_json_or_an_off_schema_answer_raises_pydantics_error_with_the_usage(content):
    body = {"choices": [{"finish_reason": "stop", "message": {"content": content}}], "usage": USAGE}

    with pytest.raises(pydantic.ValidationError) as raised:
        chat_output(body, FieldDescription)

    assert billed_usage(raised.value) == BILLED


def test_a_response_that_is_not_json_is_a_schema_failure(openai_settings):
    html = httpx2.MockTransport(lambda request: httpx2.Response(200, text="<html>gateway</html>"))

    with use_transport(html):
        result = run(FIELD_DESCRIPTION, field_input(4), use_cache=False)

    row = LLMCall.objects.get()
    assert result.is_fallback
    assert (row.status, row.error_class) == ("fallback", "schema")
