"""Build ``/chat/completions`` and ``/responses`` answer bodies.

Contract: builders are pure functions of the request body, the chosen content
fault and a seed; they validate the request like OpenAI (raising
:class:`~llm.simulator.errors.SimError` 400) and return a :class:`Built` whose
``body`` validates against the SDK's ``ChatCompletion`` / ``Response`` models.
The same builders serve live calls and batch lines.
"""

from __future__ import annotations

import functools
import json
import time
import uuid
from dataclasses import dataclass
from typing import Any, Literal

from llm.simulator import text
from llm.simulator.errors import SimError, bad_request, missing_param
from llm.simulator.faults import Fault
from llm.simulator.schema_fill import SchemaFillError, fill, strict_schema_problems

REFUSAL_TEXT = "I'm sorry, but I can't assist with that request."
JSON_OBJECT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"result": {"type": "string"}},
    "required": ["result"],
    "additionalProperties": False,
}


@dataclass(frozen=True)
class OutputFormat:
    """Requested output shape: plain text, any JSON object, or a JSON schema."""

    kind: Literal["text", "json_object", "json_schema"] = "text"
    schema: dict[str, Any] | None = None
    name: str | None = None
    echo: dict[str, Any] | None = None


@dataclass(frozen=True)
class Prior:
    """What a stored response contributes to the next turn of a chain."""

    context_tokens: int
    japanese: bool


@dataclass
class Built:
    """A generated answer body plus its token accounting."""

    body: dict[str, Any]
    input_tokens: int
    output_tokens: int
    japanese: bool

    @property
    def total_tokens(self) -> int:
        """Input plus output tokens."""
        return self.input_tokens + self.output_tokens


def new_id(prefix: str) -> str:
    """Random OpenAI-looking identifier such as ``chatcmpl-3f2a...``."""
    return f"{prefix}{uuid.uuid4().hex[:24]}"


@functools.lru_cache(maxsize=64)
def _strict_problems(schema_json: str) -> tuple[str, ...]:
    """`strict_schema_problems`, once per distinct schema: a batch repeats one schema on every line."""
    return tuple(strict_schema_problems(json.loads(schema_json)))


def _parse_format(spec: Any, *, nested: bool, param: str, validate_strict: bool) -> OutputFormat:
    if spec is None:
        return OutputFormat()
    if not isinstance(spec, dict) or spec.get("type") not in ("text", "json_object", "json_schema"):
        raise bad_request(f"Invalid '{param}': expected an object with type text/json_object/json_schema.", param=param)
    if spec["type"] != "json_schema":
        return OutputFormat(kind=spec["type"], echo=spec)
    config = spec if nested else spec.get("json_schema")
    if not isinstance(config, dict):
        raise bad_request(f"Missing required parameter: '{param}.json_schema'.", param=f"{param}.json_schema")
    name, schema = config.get("name"), config.get("schema")
    if not isinstance(name, str) or not name:
        raise missing_param(f"{param}.name")
    if not isinstance(schema, dict):
        raise missing_param(f"{param}.schema")
    if config.get("strict") and validate_strict:
        problems = _strict_problems(json.dumps(schema, sort_keys=True))
        if problems:
            raise bad_request(
                f"Invalid schema for response_format '{name}': {problems[0]}",
                param=param,
                code="invalid_json_schema" if nested else None,
            )
    return OutputFormat(kind="json_schema", schema=schema, name=name, echo=spec)


def render_content(fmt: OutputFormat, seed: str, *, japanese: bool) -> str:
    """The model's "intended" answer for a format (valid JSON for JSON formats).

    An unsatisfiable schema is a 400 ``invalid_json_schema``, as OpenAI rejects it.
    """
    if fmt.kind == "json_schema" and fmt.schema is not None:
        try:
            return json.dumps(fill(fmt.schema, seed=seed, japanese=japanese), ensure_ascii=False)
        except SchemaFillError as exc:
            raise bad_request(
                f"Invalid schema for response format '{fmt.name}': {exc}", code="invalid_json_schema"
            ) from None
    if fmt.kind == "json_object":
        return json.dumps(fill(JSON_OBJECT_SCHEMA, seed=seed, japanese=japanese), ensure_ascii=False)
    return text.reply_text(seed, japanese=japanese)


def _apply_content_fault(content: str, fault: Fault, max_tokens: int | None) -> tuple[str | None, str, str | None]:
    """Return ``(content, finish_reason, refusal)`` after a content fault and max-token cut."""
    if fault.kind == "refusal":
        return None, "stop", REFUSAL_TEXT
    if fault.kind == "content_filter":
        return None, "content_filter", None
    finish = "stop"
    if fault.kind == "invalid_json":
        content = f"```json\n{content}\n```\nLet me know if you need anything else!"
    elif fault.kind == "truncate":
        content = text.cut_text(content, max(1, text.estimate_tokens(content) // 2))
        finish = "length"
    if max_tokens is not None and text.estimate_tokens(content) > max_tokens:
        content = text.cut_text(content, max_tokens)
        finish = "length"
    return content, finish, None


def _require_model(body: dict[str, Any], model: str | None) -> str:
    chosen = model or body.get("model")
    if not isinstance(chosen, str) or not chosen:
        raise bad_request("you must provide a model parameter")
    return chosen


def _reject_stream(body: dict[str, Any]) -> None:
    if body.get("stream"):
        raise bad_request("The simulator does not support streaming.", param="stream", code="unsupported_value")


def _int_or_none(body: dict[str, Any], *names: str) -> int | None:
    for name in names:
        value = body.get(name)
        if value is not None:
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise bad_request(f"Invalid '{name}': expected a positive integer.", param=name)
            return value
    return None


def build_chat(body: Any, *, model: str | None, fault: Fault, base_seed: int, validate_strict: bool = True) -> Built:
    """Answer a ``POST /chat/completions`` body (``model`` overrides, e.g. Azure deployment)."""
    if not isinstance(body, dict):
        raise bad_request("We could not parse the JSON body of your request.")
    model = _require_model(body, model)
    messages = body.get("messages")
    if messages is None:
        raise missing_param("messages")
    if not isinstance(messages, list) or not messages:
        raise bad_request(
            "Invalid 'messages': empty array. Expected an array with minimum length 1.",
            param="messages",
            code="empty_array",
        )
    _reject_stream(body)
    fmt = _parse_format(
        body.get("response_format"), nested=False, param="response_format", validate_strict=validate_strict
    )
    n = _int_or_none(body, "n") or 1
    max_tokens = _int_or_none(body, "max_completion_tokens", "max_tokens")
    prompt_parts = text.collect_text(messages)
    japanese = text.has_japanese(prompt_parts)
    seed = text.seed_for(base_seed, "chat", model, messages, fmt.schema)
    choices: list[dict[str, Any]] = []
    completion_tokens = 0
    for index in range(n):
        intended = render_content(fmt, f"{seed}:{index}", japanese=japanese)
        content, finish, refusal = _apply_content_fault(intended, fault, max_tokens)
        completion_tokens += text.estimate_tokens(content or refusal or "")
        message: dict[str, Any] = {"role": "assistant", "content": content, "refusal": refusal, "annotations": []}
        choices.append({"index": index, "message": message, "logprobs": None, "finish_reason": finish})
    prompt_tokens = max(1, text.count_tokens(prompt_parts))
    payload = {
        "id": new_id("chatcmpl-"),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": choices,
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "completion_tokens_details": {
                "reasoning_tokens": 0,
                "audio_tokens": 0,
                "accepted_prediction_tokens": 0,
                "rejected_prediction_tokens": 0,
            },
        },
        "service_tier": "default",
        "system_fingerprint": f"fp_sim{base_seed % 10_000:04d}",
    }
    return Built(payload, prompt_tokens, completion_tokens, japanese)


def estimate_chat_prompt(body: Any) -> int:
    """Prompt-token estimate used for TPM admission (before generating)."""
    if not isinstance(body, dict):
        return 0
    return text.count_tokens(text.collect_text(body.get("messages") or []))


def responses_input_parts(body: dict[str, Any]) -> list[str]:
    """Texts of ``instructions`` and ``input`` of a responses request."""
    parts: list[str] = []
    if isinstance(body.get("instructions"), str):
        parts.append(body["instructions"])
    parts.extend(text.collect_text(body.get("input") or []))
    return parts


def build_response(
    body: Any,
    *,
    fault: Fault,
    base_seed: int,
    prior: Prior | None,
    validate_strict: bool = True,
    response_id: str | None = None,
) -> Built:
    """Answer a ``POST /responses`` body; ``prior`` is the resolved previous turn.

    ``input_tokens`` honestly include the whole prior chain context.
    """
    if not isinstance(body, dict):
        raise bad_request("We could not parse the JSON body of your request.")
    model = _require_model(body, None)
    raw_input = body.get("input")
    if raw_input is None or not isinstance(raw_input, str | list):
        raise missing_param("input")
    _reject_stream(body)
    text_config = body.get("text")
    if not isinstance(text_config, dict):
        text_config = {}
    fmt = _parse_format(text_config.get("format"), nested=True, param="text.format", validate_strict=validate_strict)
    max_tokens = _int_or_none(body, "max_output_tokens")
    parts = responses_input_parts(body)
    japanese = text.has_japanese(parts) or bool(prior and prior.japanese)
    seed = text.seed_for(base_seed, "responses", model, body.get("previous_response_id"), parts, fmt.schema)
    intended = render_content(fmt, seed, japanese=japanese)
    content, finish, refusal = _apply_content_fault(intended, fault, max_tokens)
    status, incomplete = "completed", None
    if finish == "content_filter":
        status, incomplete = "incomplete", {"reason": "content_filter"}
    elif finish == "length":
        status, incomplete = "incomplete", {"reason": "max_output_tokens"}
    output: list[dict[str, Any]] = []
    if refusal is not None:
        output.append(_message([{"type": "refusal", "refusal": refusal}], "completed"))
    elif content is not None:
        part = {"type": "output_text", "text": content, "annotations": [], "logprobs": []}
        output.append(_message([part], status))
    input_tokens = max(1, text.count_tokens(parts)) + (prior.context_tokens if prior else 0)
    output_tokens = text.estimate_tokens(content or refusal or "")
    now = time.time()
    payload: dict[str, Any] = {
        "id": response_id or new_id("resp_"),
        "object": "response",
        "created_at": int(now),
        "status": status,
        "completed_at": int(now) if status == "completed" else None,
        "error": None,
        "incomplete_details": incomplete,
        "instructions": body.get("instructions"),
        "max_output_tokens": max_tokens,
        "metadata": body.get("metadata") or {},
        "model": model,
        "output": output,
        "parallel_tool_calls": True,
        "previous_response_id": body.get("previous_response_id"),
        "reasoning": {"effort": None, "summary": None},
        "service_tier": "default",
        "store": body.get("store", True) is not False,
        "temperature": body.get("temperature", 1.0),
        "text": {"format": fmt.echo or {"type": "text"}, "verbosity": "medium"},
        "tool_choice": "auto",
        "tools": [],
        "top_p": body.get("top_p", 1.0),
        "truncation": "disabled",
        "usage": {
            "input_tokens": input_tokens,
            "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
            "output_tokens": output_tokens,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": input_tokens + output_tokens,
        },
        "user": None,
    }
    return Built(payload, input_tokens, output_tokens, japanese)


def _message(content: list[dict[str, Any]], status: str) -> dict[str, Any]:
    return {"id": new_id("msg_"), "type": "message", "role": "assistant", "status": status, "content": content}


def chain_prior(built: Built) -> Prior:
    """What this response contributes to a later ``previous_response_id`` turn."""
    return Prior(context_tokens=built.total_tokens, japanese=built.japanese)


__all__ = [
    "Built",
    "OutputFormat",
    "Prior",
    "SimError",
    "build_chat",
    "build_response",
    "chain_prior",
    "estimate_chat_prompt",
    "new_id",
    "render_content",
]
