"""The OpenAI-compatible simulator, driven through the real ``openai`` SDK (no Django, no database)."""

from __future__ import annotations

import datetime as dt
import enum
import json
import re
import threading
import time
import tracemalloc
import uuid
from collections import Counter
from typing import Annotated, Any, Literal

import httpx2
import openai
import pytest
from openai.lib._pydantic import to_strict_json_schema
from openai.types import Batch
from openai.types.chat import ChatCompletion
from openai.types.responses import Response
from pydantic import BaseModel, Field, ValidationError

from llm.simulator import Simulator, SimulatorConfig, fill, make_fault, serve, strict_schema_problems
from llm.simulator.limiter import RateLimiter, format_duration
from llm.simulator.text import estimate_tokens

MESSAGES = [{"role": "user", "content": "Summarize the product in one line please."}]
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


@pytest.fixture
def _clean_cache():
    """Override the project-wide autouse cache fixture: these tests never touch Django."""
    return


# --- models used for schema filling ------------------------------------------------------------


class Color(enum.StrEnum):
    RED = "red"
    BLUE = "blue"


class Address(BaseModel):
    street: str
    city: str = Field(min_length=2, max_length=40)
    postcode: Annotated[str, Field(pattern=r"^\d{3}-\d{4}$")]


class Person(BaseModel):
    name: str
    age: Annotated[int, Field(ge=18, le=99)]
    score: Annotated[float, Field(gt=0, lt=1)]
    active: bool
    address: Address
    tags: Annotated[list[str], Field(min_length=2, max_length=4)]


class Catalog(BaseModel):
    color: Color
    kind: Literal["shirt", "hat"]
    sizes: list[Literal["S", "M", "L"]]
    note: str | None
    rating: Annotated[int, Field(gt=0, lt=6, multiple_of=1)]
    code: Annotated[str, Field(min_length=30, max_length=35)]
    short: Annotated[str, Field(max_length=5)]
    released: dt.date
    updated_at: dt.datetime
    ident: uuid.UUID
    pair: tuple[int, str]
    either: int | str


class Tree(BaseModel):
    value: int
    children: list[Tree]


class Summary(BaseModel):
    title: str
    summary: str
    bullet_points: list[str]


SCHEMA_MODELS = [Address, Person, Catalog, Tree, Summary]


# --- helpers -----------------------------------------------------------------------------------


def make_client(sim: Simulator, **options: Any) -> openai.OpenAI:
    http = httpx2.Client(transport=sim.transport())
    return openai.OpenAI(api_key="sk-test", base_url="http://sim/v1", http_client=http, max_retries=0, **options)


def make_azure(sim: Simulator, deployment: str = "prod-4o") -> openai.AzureOpenAI:
    return openai.AzureOpenAI(
        azure_endpoint="https://example-resource.openai.azure.com",
        azure_deployment=deployment,
        api_version="2024-10-21",
        api_key="azure-key-123",
        http_client=httpx2.Client(transport=sim.transport()),
        max_retries=0,
    )


def batch_lines(count: int, *, url: str = "/v1/chat/completions", schema: type[BaseModel] | None = Summary) -> bytes:
    rows = []
    for index in range(count):
        body: dict[str, Any] = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": f"item {index}"}]}
        if url.endswith("/responses"):
            body = {"model": "gpt-4o-mini", "input": f"item {index}"}
        if schema is not None and not url.endswith("/responses"):
            strict = to_strict_json_schema(schema)
            body["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": schema.__name__, "schema": strict, "strict": True},
            }
        rows.append({"custom_id": f"row-{index}", "method": "POST", "url": url, "body": body})
    return b"".join(json.dumps(row).encode() + b"\n" for row in rows)


def run_batch(client: openai.OpenAI, payload: bytes, *, endpoint: str = "/v1/chat/completions", polls: int = 10):
    uploaded = client.files.create(file=("input.jsonl", payload), purpose="batch")
    batch = client.batches.create(input_file_id=uploaded.id, endpoint=endpoint, completion_window="24h")  # type: ignore[arg-type]
    statuses = [batch.status]
    for _ in range(polls):
        if batch.status in ("completed", "failed", "expired", "cancelled"):
            break
        batch = client.batches.retrieve(batch.id)
        statuses.append(batch.status)
    return batch, statuses


def read_jsonl(client: openai.OpenAI, file_id: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in client.files.content(file_id).text.splitlines() if line]


@pytest.fixture
def sim():
    with Simulator(SimulatorConfig(seed=7)) as simulator:
        yield simulator


@pytest.fixture
def client(sim: Simulator) -> openai.OpenAI:
    return make_client(sim)


# --- schema_fill -------------------------------------------------------------------------------


@pytest.mark.parametrize("model", SCHEMA_MODELS, ids=lambda m: m.__name__)
@pytest.mark.parametrize("strict", [False, True], ids=["pydantic", "openai-strict"])
@pytest.mark.parametrize("japanese", [False, True], ids=["en", "ja"])
def test_fill_validates_against_pydantic_models(model: type[BaseModel], strict: bool, japanese: bool):
    schema = to_strict_json_schema(model) if strict else model.model_json_schema()
    for seed in range(12):
        model.model_validate(fill(schema, seed=f"seed-{seed}", japanese=japanese))


def test_fill_is_deterministic_per_seed():
    schema = to_strict_json_schema(Person)
    assert fill(schema, seed="a") == fill(schema, seed="a")
    assert fill(schema, seed="a") != fill(schema, seed="b")


def test_fill_strings_mention_property_name_or_are_japanese():
    english = fill(to_strict_json_schema(Summary), seed="x")
    assert english["summary"].startswith("Simulated summary ")
    assert "bullet points" in english["bullet_points"][0]
    japanese = fill(to_strict_json_schema(Summary), seed="x", japanese=True)
    text = japanese["summary"]
    assert len(JAPANESE.findall(text)) > len(text) / 2


def test_fill_raw_schema_constraints():
    schema = {
        "type": "object",
        "properties": {
            "email": {"type": "string", "format": "email"},
            "site": {"type": "string", "format": "uri"},
            "ratio": {"type": "number", "exclusiveMinimum": 0.5, "exclusiveMaximum": 0.51},
            "even": {"type": "integer", "minimum": 3, "maximum": 9, "multipleOf": 2},
            "unique": {"type": "array", "items": {"enum": ["a", "b", "c"]}, "minItems": 3, "uniqueItems": True},
            "const": {"const": 42},
            "nothing": {"type": "null"},
            "nullable": {"type": ["string", "null"]},
        },
        "required": ["email", "site", "ratio", "even", "unique", "const", "nothing", "nullable"],
        "additionalProperties": False,
    }
    value = fill(schema, seed="constraints")
    assert re.fullmatch(r"[\w.-]+@example\.com", value["email"])
    assert value["site"].startswith("https://")
    assert 0.5 < value["ratio"] < 0.51
    assert value["even"] in (4, 6, 8)
    assert sorted(value["unique"]) == ["a", "b", "c"]
    assert value["const"] == 42
    assert value["nothing"] is None
    assert isinstance(value["nullable"], str)


def test_strict_schema_problems_match_openai_rules():
    assert strict_schema_problems(to_strict_json_schema(Person)) == []
    problems = strict_schema_problems(Catalog.model_json_schema())
    assert any("additionalProperties" in problem for problem in problems)


# --- chat completions ---------------------------------------------------------------------------


def test_chat_parse_returns_model_and_honest_usage(client: openai.OpenAI, sim: Simulator):
    completion = client.chat.completions.parse(model="gpt-4o-mini", messages=MESSAGES, response_format=Summary)
    message = completion.choices[0].message
    assert isinstance(message.parsed, Summary)
    assert completion.choices[0].finish_reason == "stop"
    assert completion.id.startswith("chatcmpl-")
    assert completion.system_fingerprint
    assert completion.usage is not None
    assert completion.usage.prompt_tokens == estimate_tokens(MESSAGES[0]["content"])
    assert completion.usage.completion_tokens == estimate_tokens(message.content or "")
    assert completion.usage.total_tokens == completion.usage.prompt_tokens + completion.usage.completion_tokens
    raw = client.chat.completions.with_raw_response.create(model="gpt-4o-mini", messages=MESSAGES)
    ChatCompletion.model_validate(json.loads(raw.text))
    assert raw.headers["x-request-id"].startswith("req_")
    assert sim.stats["chat.completions"]["ok"] == 2


def test_chat_plain_text_and_japanese(client: openai.OpenAI):
    english = client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    assert english.choices[0].message.content
    ja = client.chat.completions.parse(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "商品を要約してください"}], response_format=Summary
    )
    parsed = ja.choices[0].message.parsed
    assert parsed is not None
    assert JAPANESE.search(parsed.summary)


def test_chat_is_deterministic_for_same_request(sim: Simulator, client: openai.OpenAI):
    first = client.chat.completions.parse(model="gpt-4o-mini", messages=MESSAGES, response_format=Summary)
    second = client.chat.completions.parse(model="gpt-4o-mini", messages=MESSAGES, response_format=Summary)
    assert first.choices[0].message.parsed == second.choices[0].message.parsed


def test_chat_rejects_non_strict_schema_like_openai(client: openai.OpenAI):
    loose = {"type": "json_schema", "json_schema": {"name": "C", "schema": Catalog.model_json_schema(), "strict": True}}
    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, response_format=loose)  # type: ignore[arg-type]
    assert "additionalProperties" in info.value.message


def test_chat_max_tokens_cut_is_honest(client: openai.OpenAI):
    with pytest.raises(openai.LengthFinishReasonError):
        client.chat.completions.parse(
            model="gpt-4o-mini", messages=MESSAGES, response_format=Summary, max_completion_tokens=3
        )


# --- scripted faults ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "exception", "status"),
    [
        ("429", openai.RateLimitError, 429),
        ("5xx", openai.InternalServerError, 500),
        ("502", openai.InternalServerError, 502),
        ("503", openai.InternalServerError, 503),
        ("401", openai.AuthenticationError, 401),
        ("400", openai.BadRequestError, 400),
        ("insufficient_quota", openai.RateLimitError, 429),
    ],
)
def test_scripted_http_faults_map_to_sdk_exceptions(sim, client, fault, exception, status):
    sim.script(fault)
    with pytest.raises(exception) as info:
        client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    assert info.value.status_code == status
    assert client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES).choices  # script consumed


def test_rate_limit_fault_carries_retry_after(sim: Simulator, client: openai.OpenAI):
    sim.script(("429", {"retry_after_ms": 50}), "insufficient_quota")
    with pytest.raises(openai.RateLimitError) as limited:
        client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    assert limited.value.response.headers["retry-after-ms"] == "50"
    assert limited.value.response.headers["retry-after"] == "1"
    assert limited.value.code == "rate_limit_exceeded"
    assert limited.value.type == "requests"
    with pytest.raises(openai.RateLimitError) as quota:
        client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    assert quota.value.code == "insufficient_quota"
    assert quota.value.type == "insufficient_quota"
    assert "retry-after-ms" not in quota.value.response.headers


def test_hang_raises_sdk_timeout(sim: Simulator, client: openai.OpenAI):
    sim.script("hang")
    started = time.monotonic()
    with pytest.raises(openai.APITimeoutError):
        client.with_options(timeout=0.05).chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    assert 0.04 < time.monotonic() - started < 2
    assert sim.stats["chat.completions"]["hang"] == 1


def test_content_faults_under_parse(sim: Simulator, client: openai.OpenAI):
    sim.script("truncate", "content_filter", "refusal", "invalid_json")
    with pytest.raises(openai.LengthFinishReasonError) as truncated:
        client.chat.completions.parse(model="gpt-4o-mini", messages=MESSAGES, response_format=Summary)
    cut = truncated.value.completion.choices[0].message.content
    assert cut
    with pytest.raises(json.JSONDecodeError):
        json.loads(cut)
    with pytest.raises(openai.ContentFilterFinishReasonError):
        client.chat.completions.parse(model="gpt-4o-mini", messages=MESSAGES, response_format=Summary)
    refused = client.chat.completions.parse(model="gpt-4o-mini", messages=MESSAGES, response_format=Summary)
    assert refused.choices[0].message.refusal
    assert refused.choices[0].message.parsed is None
    assert refused.choices[0].message.content is None
    with pytest.raises(ValidationError):
        client.chat.completions.parse(model="gpt-4o-mini", messages=MESSAGES, response_format=Summary)
    assert sim.pending_faults == 0
    assert sim.stats["chat.completions"] == Counter(
        {"truncate": 1, "content_filter": 1, "refusal": 1, "invalid_json": 1}
    )


def test_fault_specs_are_validated(sim: Simulator):
    with pytest.raises(ValueError, match="unknown fault"):
        sim.script("teapot")
    with pytest.raises(ValueError, match="unknown fault options"):
        sim.script(("429", {"retry_after": 1}))
    assert make_fault("504").status == 504


def test_random_faults_are_seeded():
    def outcomes(seed: int) -> list[str]:
        with Simulator(SimulatorConfig(seed=seed, fail_5xx=0.3, refusal=0.3)) as simulator:
            http = httpx2.Client(transport=simulator.transport())
            results = []
            for _ in range(30):
                response = http.post("http://sim/v1/chat/completions", json={"model": "m", "messages": MESSAGES})
                refusal = response.status_code == 200 and response.json()["choices"][0]["message"]["refusal"]
                results.append("refusal" if refusal else str(response.status_code))
            return results

    first = outcomes(3)
    assert first == outcomes(3)
    assert {"refusal", "200"} <= set(first)
    assert {"500", "502", "503"} & set(first)


def test_api_key_required():
    with Simulator(require_api_key="sk-good") as simulator:
        with pytest.raises(openai.AuthenticationError) as info:
            make_client(simulator).models.list()
        assert info.value.code == "invalid_api_key"
        good = openai.OpenAI(
            api_key="sk-good", base_url="http://sim/v1", http_client=httpx2.Client(transport=simulator.transport())
        )
        assert [m.id for m in good.models.list()][0] == "gpt-4o-mini"


# --- limiter -------------------------------------------------------------------------------------


def test_rpm_limiter_returns_429_with_accurate_retry_after():
    with Simulator(rpm=3, tpm=100_000) as simulator:
        client = make_client(simulator)
        remaining = []
        for _ in range(3):
            raw = client.chat.completions.with_raw_response.create(model="gpt-4o-mini", messages=MESSAGES)
            remaining.append(int(raw.headers["x-ratelimit-remaining-requests"]))
            assert raw.headers["x-ratelimit-limit-tokens"] == "100000"
            assert raw.headers["x-ratelimit-reset-requests"].endswith("s")
        assert remaining == [2, 1, 0]
        with pytest.raises(openai.RateLimitError) as info:
            client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
        retry_ms = int(info.value.response.headers["retry-after-ms"])
        assert 58_000 <= retry_ms <= 60_000
        assert info.value.type == "requests"
        assert "Limit 3" in info.value.message


def test_tpm_limiter_and_sliding_window():
    now = [1000.0]
    limiter = RateLimiter(None, 100, clock=lambda: now[0])
    limiter.acquire(60)
    now[0] += 10
    limiter.acquire(30)
    with pytest.raises(Exception) as info:  # noqa: PT011 - checking the exact type below
        limiter.acquire(20)
    assert type(info.value).__name__ == "RateLimited"
    assert info.value.kind == "tokens"
    assert info.value.retry_after_s == pytest.approx(50.0)
    now[0] += 50
    limiter.acquire(20)
    assert format_duration(0.02) == "20ms"
    assert format_duration(90) == "1m30s"


def test_tpm_limit_through_sdk():
    with Simulator(tpm=40) as simulator:
        client = make_client(simulator)
        client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
        with pytest.raises(openai.RateLimitError) as info:
            client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
        assert info.value.type == "tokens"


def test_threads_share_the_limiter():
    with Simulator(rpm=50) as simulator:
        http = httpx2.Client(transport=simulator.transport())
        codes: list[int] = []
        lock = threading.Lock()

        def worker() -> None:
            for _ in range(10):
                status = http.post(
                    "http://sim/v1/chat/completions", json={"model": "m", "messages": MESSAGES}
                ).status_code
                with lock:
                    codes.append(status)

        threads = [threading.Thread(target=worker) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert Counter(codes) == Counter({200: 50, 429: 30})
        assert simulator.stats["chat.completions"] == Counter({"ok": 50, "429": 30})


def test_latency_is_applied():
    with Simulator(latency_ms=60) as simulator:
        started = time.monotonic()
        make_client(simulator).chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
        assert time.monotonic() - started >= 0.06


# --- responses -----------------------------------------------------------------------------------


def test_responses_parse_and_chain_accounting(sim: Simulator, client: openai.OpenAI):
    first = client.responses.parse(model="gpt-4o-mini", input="Describe the hat.", text_format=Summary)
    assert isinstance(first.output_parsed, Summary)
    assert first.status == "completed"
    raw = client.responses.with_raw_response.create(
        model="gpt-4o-mini", input=[{"role": "user", "content": "And the shirt?"}], previous_response_id=first.id
    )
    Response.model_validate(json.loads(raw.text))
    second = raw.parse()
    assert first.usage is not None
    assert second.usage is not None
    assert second.usage.input_tokens == first.usage.total_tokens + estimate_tokens("And the shirt?")
    third = client.responses.create(model="gpt-4o-mini", input="More.", previous_response_id=second.id)
    assert third.usage is not None
    assert third.usage.input_tokens == second.usage.total_tokens + estimate_tokens("More.")
    assert client.responses.retrieve(third.id).id == third.id

    sim.forget_responses()
    with pytest.raises(openai.NotFoundError) as info:
        client.responses.create(model="gpt-4o-mini", input="Again", previous_response_id=third.id)
    assert info.value.code == "previous_response_not_found"


def test_responses_store_false_cannot_be_chained(client: openai.OpenAI):
    unstored = client.responses.create(model="gpt-4o-mini", input="hi", store=False)
    with pytest.raises(openai.NotFoundError):
        client.responses.create(model="gpt-4o-mini", input="again", previous_response_id=unstored.id)


def test_responses_faults(sim: Simulator, client: openai.OpenAI):
    sim.script("refusal", "truncate", "503")
    refused = client.responses.parse(model="gpt-4o-mini", input="x", text_format=Summary)
    assert refused.output_parsed is None
    assert refused.output[0].content[0].type == "refusal"  # type: ignore[union-attr]
    cut = client.responses.create(model="gpt-4o-mini", input="x", text={"format": {"type": "json_object"}})
    assert cut.status == "incomplete"
    assert cut.incomplete_details is not None
    assert cut.incomplete_details.reason == "max_output_tokens"
    with pytest.raises(openai.InternalServerError):
        client.responses.create(model="gpt-4o-mini", input="x")


def test_responses_api_can_be_disabled():
    with Simulator(responses_api=False) as simulator:
        client = make_client(simulator)
        with pytest.raises(openai.NotFoundError):
            client.responses.create(model="gpt-4o-mini", input="hi")


# --- Azure / routing / observability -----------------------------------------------------------


def test_azure_deployment_urls_and_api_key_header(sim: Simulator):
    azure = make_azure(sim, deployment="prod-4o")
    completion = azure.chat.completions.parse(model="gpt-4o-mini", messages=MESSAGES, response_format=Summary)
    assert completion.model == "prod-4o"
    assert isinstance(completion.choices[0].message.parsed, Summary)
    call = sim.calls[-1]
    assert call.path == "/openai/deployments/prod-4o/chat/completions"
    assert call.query["api-version"] == "2024-10-21"
    assert call.headers["api-key"] == "azure-key-123"
    assert call.json["messages"] == MESSAGES
    assert call.status == 200


def test_azure_paths_need_api_version_but_v1_does_not(sim: Simulator):
    http = httpx2.Client(transport=sim.transport())
    body = {"model": "m", "messages": MESSAGES}
    assert http.post("http://sim/openai/deployments/d/chat/completions", json=body).status_code == 404
    assert http.post("http://sim/openai/deployments/d/chat/completions?api-version=bogus", json=body).status_code == 400
    assert http.post("http://sim/openai/v1/chat/completions", json=body).status_code == 200
    assert http.post("http://sim/elsewhere/chat/completions", json=body).status_code == 404
    v1 = openai.OpenAI(api_key="k", base_url="http://sim/openai/v1", http_client=http, max_retries=0)
    assert v1.responses.create(model="gpt-4o-mini", input="hi").output_text


def test_calls_stats_and_reset(sim: Simulator, client: openai.OpenAI):
    client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    client.models.list()
    assert [call.endpoint for call in sim.calls] == ["chat.completions", "models"]
    assert sim.calls[0].method == "POST"
    assert sim.calls[0].headers["authorization"] == "Bearer sk-test"
    sim.script("429")
    sim.reset()
    assert not sim.calls
    assert sim.stats == {}
    assert sim.pending_faults == 0


# --- files and batches ---------------------------------------------------------------------------


def test_files_roundtrip(client: openai.OpenAI):
    uploaded = client.files.create(file=("notes.jsonl", b'{"a": 1}\n{"a": 2}\n'), purpose="batch")
    assert uploaded.bytes == 18
    assert client.files.retrieve(uploaded.id).filename == "notes.jsonl"
    assert client.files.content(uploaded.id).content == b'{"a": 1}\n{"a": 2}\n'
    assert client.files.delete(uploaded.id).deleted
    with pytest.raises(openai.NotFoundError):
        client.files.retrieve(uploaded.id)


def test_batch_lifecycle_through_sdk(sim: Simulator, client: openai.OpenAI):
    batch, statuses = run_batch(client, batch_lines(12))
    assert statuses == ["validating", "in_progress", "finalizing", "completed"]
    Batch.model_validate(batch.model_dump())
    assert batch.request_counts is not None
    assert (batch.request_counts.total, batch.request_counts.completed, batch.request_counts.failed) == (12, 12, 0)
    assert batch.in_progress_at
    assert batch.finalizing_at
    assert batch.completed_at
    assert batch.error_file_id is None
    assert batch.output_file_id is not None
    rows = read_jsonl(client, batch.output_file_id)
    assert sorted(row["custom_id"] for row in rows) == sorted(f"row-{i}" for i in range(12))
    input_tokens = 0
    for row in rows:
        assert row["error"] is None
        assert row["response"]["status_code"] == 200
        completion = ChatCompletion.model_validate(row["response"]["body"])
        Summary.model_validate_json(completion.choices[0].message.content or "")
        input_tokens += completion.usage.prompt_tokens if completion.usage else 0
    assert batch.usage is not None
    assert batch.usage.input_tokens == input_tokens
    assert client.files.retrieve(batch.output_file_id).purpose == "batch_output"


def test_batch_polls_per_stage_and_responses_endpoint():
    with Simulator(batch_polls_per_stage=2) as simulator:
        client = make_client(simulator)
        batch, statuses = run_batch(client, batch_lines(3, url="/v1/responses"), endpoint="/v1/responses")
        assert statuses == [
            "validating",
            "validating",
            "in_progress",
            "in_progress",
            "finalizing",
            "finalizing",
            "completed",
        ]
        for row in read_jsonl(client, batch.output_file_id or ""):
            assert Response.model_validate(row["response"]["body"]).output_text


def test_batch_validation_failures(client: openai.OpenAI):
    good = batch_lines(2, schema=None).splitlines()
    lines = [
        good[0],
        b"{not json",
        good[0],  # duplicate custom_id
        json.dumps({"custom_id": "x", "method": "POST", "url": "/v1/embeddings", "body": {}}).encode(),
        good[1],
    ]
    batch, statuses = run_batch(client, b"\n".join(lines) + b"\n")
    assert statuses == ["validating", "failed"]
    assert batch.errors is not None
    assert batch.errors.data is not None
    by_line = {error.line: error.code for error in batch.errors.data}
    assert by_line == {2: "invalid_json_line", 3: "duplicate_custom_id", 4: "invalid_url"}
    assert batch.output_file_id is None
    assert batch.failed_at


def test_batch_expired_has_partial_output_and_error_file():
    with Simulator(batch_expire=True, batch_expire_fraction=0.5) as simulator:
        client = make_client(simulator)
        batch, statuses = run_batch(client, batch_lines(10, schema=None))
        assert statuses[-1] == "expired"
        assert batch.expired_at
        assert batch.request_counts is not None
        assert (batch.request_counts.completed, batch.request_counts.failed) == (5, 5)
        outputs = read_jsonl(client, batch.output_file_id or "")
        errors = read_jsonl(client, batch.error_file_id or "")
        assert len(outputs) == 5
        assert {row["error"]["code"] for row in errors} == {"batch_expired"}
        assert {row["custom_id"] for row in outputs} | {row["custom_id"] for row in errors} == {
            f"row-{i}" for i in range(10)
        }


def test_batch_line_errors_go_to_error_file():
    with Simulator(batch_line_error_rate=0.3, seed=5) as simulator:
        client = make_client(simulator)
        batch, _ = run_batch(client, batch_lines(40, schema=None))
        assert batch.status == "completed"
        counts = batch.request_counts
        assert counts is not None
        assert counts.failed > 0
        assert counts.completed + counts.failed == 40
        errors = read_jsonl(client, batch.error_file_id or "")
        assert len(errors) == counts.failed
        assert {row["response"]["status_code"] for row in errors} == {500}
        assert errors[0]["response"]["body"]["error"]["type"] == "server_error"


def test_batch_cancel_keeps_partial_output(client: openai.OpenAI):
    uploaded = client.files.create(file=("in.jsonl", batch_lines(10, schema=None)), purpose="batch")
    batch = client.batches.create(input_file_id=uploaded.id, endpoint="/v1/chat/completions", completion_window="24h")
    assert client.batches.retrieve(batch.id).status == "in_progress"
    cancelling = client.batches.cancel(batch.id)
    assert cancelling.status == "cancelling"
    assert cancelling.cancelling_at
    cancelled = client.batches.retrieve(batch.id)
    assert cancelled.status == "cancelled"
    assert cancelled.cancelled_at
    assert cancelled.request_counts is not None
    assert cancelled.request_counts.completed == 5
    assert len(read_jsonl(client, cancelled.output_file_id or "")) == 5
    with pytest.raises(openai.BadRequestError):
        client.batches.cancel(batch.id)


@pytest.mark.parametrize("shuffle", [True, False])
def test_batch_output_order(shuffle: bool):
    def output_order() -> list[str]:
        with Simulator(batch_shuffle=shuffle, batch_shuffle_chunk=16) as simulator:
            client = make_client(simulator)
            batch, _ = run_batch(client, batch_lines(40, schema=None))
            return [row["custom_id"] for row in read_jsonl(client, batch.output_file_id or "")]

    order = output_order()
    expected = [f"row-{i}" for i in range(40)]
    assert sorted(order) == sorted(expected)
    assert (order != expected) is shuffle
    assert output_order() == order  # seeded: same config, same order
    assert set(order[:16]) == set(expected[:16])  # shuffled within bounded chunks


def test_batch_token_limit_exceeded_then_ok():
    with Simulator(batch_create_token_limit_exceeded=1) as simulator:
        client = make_client(simulator)
        failed, _ = run_batch(client, batch_lines(2, schema=None))
        assert failed.status == "failed"
        assert failed.errors is not None
        assert failed.errors.data is not None
        assert failed.errors.data[0].code == "token_limit_exceeded"
        ok, _ = run_batch(client, batch_lines(2, schema=None))
        assert ok.status == "completed"


def test_batch_list_paginates(client: openai.OpenAI):
    uploaded = client.files.create(file=("in.jsonl", batch_lines(1, schema=None)), purpose="batch")
    created = {
        client.batches.create(input_file_id=uploaded.id, endpoint="/v1/chat/completions", completion_window="24h").id
        for _ in range(3)
    }
    page = client.batches.list(limit=2)
    assert len(page.data) == 2
    assert page.has_more
    assert {batch.id for batch in client.batches.list(limit=2)} == created  # auto-pagination


def test_batch_processing_memory_is_bounded(tmp_path):
    padding = "x" * 3000
    rows = (
        json.dumps(
            {
                "custom_id": f"r{i}",
                "method": "POST",
                "url": "/v1/chat/completions",
                "body": {"model": "m", "messages": [{"role": "user", "content": f"{i} {padding}"}]},
            }
        )
        for i in range(1200)
    )
    with Simulator(files_dir=str(tmp_path), batch_shuffle_chunk=200) as simulator:
        with simulator.files.writer("big.jsonl", "batch") as (stream, holder):
            for row in rows:
                stream.write(row.encode() + b"\n")
        size = holder[0].bytes
        created = simulator.batches.create(
            {"input_file_id": holder[0].id, "endpoint": "/v1/chat/completions", "completion_window": "24h"}
        )
        tracemalloc.start()
        try:
            for _ in range(3):
                final = simulator.batches.retrieve(created["id"])
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert final["status"] == "completed"
        assert final["request_counts"]["completed"] == 1200
        assert size > 3_500_000
        assert peak < size / 8


# --- real socket ---------------------------------------------------------------------------------


def test_serve_over_loopback_socket():
    with Simulator(hang_seconds=0.3) as simulator, serve(simulator) as base_url:
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/v1", base_url)
        client = openai.OpenAI(api_key="sk-socket", base_url=base_url, max_retries=0)
        parsed = client.chat.completions.parse(model="gpt-4o-mini", messages=MESSAGES, response_format=Summary)
        assert isinstance(parsed.choices[0].message.parsed, Summary)
        uploaded = client.files.create(file=("in.jsonl", batch_lines(3)), purpose="batch")
        assert client.files.content(uploaded.id).content == batch_lines(3)
        simulator.script("429")
        with pytest.raises(openai.RateLimitError) as info:
            client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
        assert info.value.response.headers["retry-after-ms"] == "1000"
        simulator.script("hang")
        with pytest.raises(openai.APITimeoutError):
            client.with_options(timeout=0.1).chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
        assert simulator.calls[-1].headers["authorization"] == "Bearer sk-socket"


def test_serve_refuses_non_loopback_hosts(sim: Simulator):
    with pytest.raises(ValueError, match="loopback"), serve(sim, host="0.0.0.0"):  # noqa: S104 - the point of the test
        pass


def test_bad_requests_are_openai_shaped(sim: Simulator):
    http = httpx2.Client(transport=sim.transport())
    broken = http.post("http://sim/v1/chat/completions", content=b"{nope", headers={"content-type": "application/json"})
    assert broken.status_code == 400
    assert set(broken.json()["error"]) == {"message", "type", "param", "code"}
    assert http.post("http://sim/v1/chat/completions", json={"model": "m"}).json()["error"]["param"] == "messages"
    endless = {
        "type": "object",
        "properties": {"me": {"$ref": "#"}},
        "required": ["me"],
        "additionalProperties": False,
    }
    response_format = {"type": "json_schema", "json_schema": {"name": "Endless", "schema": endless, "strict": True}}
    body = {"model": "m", "messages": MESSAGES, "response_format": response_format}
    unsatisfiable = http.post("http://sim/v1/chat/completions", json=body)
    assert unsatisfiable.status_code == 400
    assert unsatisfiable.json()["error"]["code"] == "invalid_json_schema"


def test_upload_without_purpose_is_rejected_and_leaves_nothing(sim: Simulator):
    http = httpx2.Client(transport=sim.transport())
    response = http.post("http://sim/v1/files", files={"file": ("a.jsonl", b"{}\n")})
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "purpose"
    assert len(sim.files) == 0


def test_socket_accepts_chunked_multipart_upload(sim: Simulator):
    boundary = "simboundary42"
    payload = b"".join(json.dumps({"n": i}).encode() + b"\n" for i in range(5000))
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nbatch\r\n'.encode(),
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="c.jsonl"\r\n\r\n'.encode(),
        payload[:7000],
        payload[7000:],
        f"\r\n--{boundary}--\r\n".encode(),
    ]
    with serve(sim) as base_url, httpx2.Client() as http:
        response = http.post(
            f"{base_url}/files",
            content=iter(parts),
            headers={"content-type": f"multipart/form-data; boundary={boundary}"},
        )
        assert response.status_code == 200, response.text
        file_id = response.json()["id"]
        assert response.json()["bytes"] == len(payload)
        assert http.get(f"{base_url}/files/{file_id}/content").content == payload
