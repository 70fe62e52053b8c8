"""Multi-turn conversations over the Responses API (`previous_response_id` chains).

When a chain is gone (404: expired after 30 days, or never stored) the history is replayed in
full; when the backend has no Responses API at all (many OpenAI-compatible servers) the history
is replayed through chat completions. Token accounting stays honest: a chained turn is billed by
the provider for the whole prior context, and we record what the provider reports.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from django.core.cache import cache
from django.db import transaction
from pydantic import BaseModel

from llm.errors import PROVIDER_ERRORS, ErrorKind, LLMError, Usage, usage_from_body, with_usage
from llm.ledger import CallRecord, llm_call_record
from llm.models import Conversation, ConversationTurn, LLMCall
from llm.providers import ProviderConfig, get_client, provider_config
from llm.redis import REDIS_ERRORS, redis_available, redis_client, redis_failed
from llm.resilience import Answer, resilient_call
from llm.usage import estimate_tokens

ConversationFallback = Callable[[Conversation, str], "str | BaseModel"]
NO_RESPONSES_API_TTL = 3600


def _no_responses_key(config: ProviderConfig) -> str:
    return f"llm:no-responses-api:{config.name}"


def _no_responses_api(config: ProviderConfig) -> bool:
    """Known to lack the Responses API (remembered in the cache; while Redis is away, not known)."""
    if redis_client() is not None and not redis_available():
        return False
    try:
        return bool(cache.get(_no_responses_key(config)))
    except REDIS_ERRORS as exc:
        redis_failed(exc, where="reading whether the provider has the Responses API")
        return False


def _remember_no_responses_api(config: ProviderConfig) -> None:
    if redis_client() is not None and not redis_available():
        return
    try:
        cache.set(_no_responses_key(config), True, NO_RESPONSES_API_TTL)
    except REDIS_ERRORS as exc:
        redis_failed(exc, where="remembering the provider lacks the Responses API")


def conversation_start(
    *,
    title: str,
    instructions: str = "",
    subject: tuple[str, Any] | None = None,
    user_id: int | None = None,
) -> Conversation:
    """A new, empty conversation on the configured provider."""
    config = provider_config()
    fields: dict[str, Any] = {}
    if subject is not None:
        from django.contrib.contenttypes.models import ContentType

        app_label, model = subject[0].lower().split(".")
        fields = {
            "subject_type": ContentType.objects.get_by_natural_key(app_label, model),
            "subject_id": str(subject[1]),
        }
    return Conversation.objects.create(
        title=title[:200],
        instructions=instructions,
        provider=config.kind,
        model=config.model,
        user_id=user_id,
        **fields,
    )


def _history(conversation: Conversation) -> list[dict[str, str]]:
    items: list[dict[str, str]] = []
    for turn in conversation.turns.order_by("index").only("user_input", "output_text"):
        items.append({"role": "user", "content": turn.user_input})
        items.append({"role": "assistant", "content": turn.output_text})
    return items


def _send_responses(
    *,
    config: ProviderConfig,
    conversation: Conversation,
    items: list[dict[str, str]] | str,
    previous_response_id: str | None,
    output_model: type[BaseModel] | None,
    max_output_tokens: int,
) -> Answer:
    client = get_client(config)
    kwargs: dict[str, Any] = {
        "model": config.wire_model,
        "input": items,
        "store": True,
        "max_output_tokens": max_output_tokens,
    }
    # Instructions are not carried along a chain: send them every turn.
    if conversation.instructions:
        kwargs["instructions"] = conversation.instructions
    if previous_response_id:
        kwargs["previous_response_id"] = previous_response_id
    if output_model is not None:
        raw = client.responses.with_raw_response.parse(text_format=output_model, **kwargs)
    else:
        raw = client.responses.with_raw_response.create(**kwargs)
    response = _parse_billed(raw)
    usage = _usage(response.usage, "input_tokens", "input_tokens_details", "output_tokens")
    if response.status == "incomplete":
        reason = response.incomplete_details.reason if response.incomplete_details else "unknown"
        kind = ErrorKind.CONTENT_FILTER if reason == "content_filter" else ErrorKind.LENGTH
        raise LLMError(kind, f"The response is incomplete ({reason}).", usage=usage)
    for item in response.output:
        for part in getattr(item, "content", None) or []:
            if getattr(part, "type", "") == "refusal":
                raise LLMError(ErrorKind.REFUSAL, f"The model refused: {part.refusal[:200]}", usage=usage)
    parsed = getattr(response, "output_parsed", None) if output_model is not None else None
    if output_model is not None and parsed is None:
        raise LLMError(ErrorKind.SCHEMA, "The model returned no parsable output.", usage=usage)
    return Answer(
        output=parsed,
        text=parsed.model_dump_json() if parsed is not None else response.output_text,
        tokens_in=usage.tokens_in,
        tokens_cached=usage.tokens_cached,
        tokens_out=usage.tokens_out,
        headers=raw.headers,
        request_id=raw.request_id or "",
        response_id=response.id,
    )


def _parse_billed(raw: Any) -> Any:
    """`raw.parse()`; an output the SDK cannot parse (truncated, filtered, invalid) was billed all
    the same: the error carries the usage in the response body."""
    try:
        return raw.parse()
    except PROVIDER_ERRORS as exc:
        try:
            usage = usage_from_body(raw.http_response.json())
        except ValueError:
            usage = None
        raise with_usage(exc, usage) from None


def _usage(usage: Any, tokens_in: str, details: str, tokens_out: str) -> Usage:
    """The SDK's usage object (chat completion or response) as billed tokens."""
    if usage is None:
        return Usage()
    cached = getattr(getattr(usage, details, None), "cached_tokens", 0) or 0
    return Usage(
        tokens_in=getattr(usage, tokens_in, 0) or 0, tokens_cached=cached, tokens_out=getattr(usage, tokens_out, 0) or 0
    )


def _send_chat(
    *,
    config: ProviderConfig,
    conversation: Conversation,
    items: list[dict[str, str]],
    output_model: type[BaseModel] | None,
    max_output_tokens: int,
) -> Answer:
    client = get_client(config)
    messages = ([{"role": "system", "content": conversation.instructions}] if conversation.instructions else []) + items
    token_arg = "max_tokens" if config.kind == "compatible" else "max_completion_tokens"
    kwargs: dict[str, Any] = {"model": config.wire_model, "messages": messages, token_arg: max_output_tokens}
    if output_model is not None:
        raw = client.chat.completions.with_raw_response.parse(response_format=output_model, **kwargs)
    else:
        raw = client.chat.completions.with_raw_response.create(**kwargs)
    completion = _parse_billed(raw)
    usage = _usage(completion.usage, "prompt_tokens", "prompt_tokens_details", "completion_tokens")
    choice = completion.choices[0]
    if choice.finish_reason == "length":
        raise LLMError(ErrorKind.LENGTH, "The output was cut off at the token limit.", usage=usage)
    if choice.message.refusal:
        raise LLMError(ErrorKind.REFUSAL, f"The model refused: {choice.message.refusal[:200]}", usage=usage)
    parsed = getattr(choice.message, "parsed", None) if output_model is not None else None
    if output_model is not None and parsed is None:
        raise LLMError(ErrorKind.SCHEMA, "The model returned no parsable output.", usage=usage)
    return Answer(
        output=parsed,
        text=parsed.model_dump_json() if parsed is not None else (choice.message.content or ""),
        tokens_in=usage.tokens_in,
        tokens_cached=usage.tokens_cached,
        tokens_out=usage.tokens_out,
        headers=raw.headers,
        request_id=raw.request_id or "",
    )


def conversation_reply(
    *,
    conversation: Conversation,
    message: str,
    fallback: ConversationFallback,
    output_model: type[BaseModel] | None = None,
    task_name: str = "conversation",
    max_output_tokens: int = 1500,
) -> ConversationTurn:
    """Send `message`, store the turn and return it; chains when it can, replays when it must."""
    config = provider_config()
    record = CallRecord(
        task=task_name,
        task_version=1,
        provider=config.kind,
        model=config.model,
        mode=LLMCall.Mode.CONVERSATION,
        subject=(f"{conversation.subject_type.app_label}.{conversation.subject_type.model}", conversation.subject_id)
        if conversation.subject_type is not None
        else None,
        user_id=conversation.user_id,
    )
    started = time.monotonic()
    history = _history(conversation)
    previous_id = conversation.last_response_id or None
    replayed = False
    answer, error = None, None

    if config.is_offline:
        record.error_class, record.error_message = ErrorKind.OFFLINE, "No LLM provider is configured."
    else:
        estimate = estimate_tokens([*history, {"content": message}], max_output_tokens=max_output_tokens)
        common: dict[str, Any] = {"output_model": output_model, "max_output_tokens": max_output_tokens}

        def call(send: Callable[[], Answer]) -> tuple[Answer | None, Any]:
            return resilient_call(
                config=config, record=record, estimate=estimate, deadline=None, send=send, label=task_name
            )

        responses_ok = not _no_responses_api(config)
        if responses_ok and previous_id:
            answer, error = call(
                lambda: _send_responses(
                    config=config, conversation=conversation, items=message, previous_response_id=previous_id, **common
                )
            )
            if error is not None and error.kind == ErrorKind.NOT_FOUND:
                replayed = True  # the chain is gone: replay the whole history below
        if responses_ok and answer is None and (not previous_id or replayed):
            items = [*history, {"role": "user", "content": message}]
            answer, error = call(
                lambda: _send_responses(
                    config=config, conversation=conversation, items=items, previous_response_id=None, **common
                )
            )
            replayed = replayed or bool(history)
            if error is not None and error.kind == ErrorKind.NOT_FOUND:
                _remember_no_responses_api(config)
                responses_ok = False
        if not responses_ok and answer is None:
            items = [*history, {"role": "user", "content": message}]
            answer, error = call(lambda: _send_chat(config=config, conversation=conversation, items=items, **common))
            replayed = bool(history)
        if error is not None:
            record.error_class, record.error_message = str(error.kind), error.message

    if answer is None:
        record.status = LLMCall.Status.FALLBACK
        produced = fallback(conversation, message)
        output_json = produced.model_dump(mode="json") if isinstance(produced, BaseModel) else None
        output_text = produced.model_dump_json() if isinstance(produced, BaseModel) else str(produced)
    else:
        output_json = answer.output.model_dump(mode="json") if answer.output is not None else None
        output_text = answer.text
    record.latency_ms = int((time.monotonic() - started) * 1000)

    # The call is billed whatever happens to the turn: its row commits first, on its own.
    call_id = llm_call_record(record=record)
    with transaction.atomic():
        locked = Conversation.objects.select_for_update().get(pk=conversation.pk)
        turn = ConversationTurn.objects.create(
            conversation=locked,
            index=locked.turns.count(),
            user_input=message,
            output_text=output_text,
            output_json=output_json,
            response_id=answer.response_id if answer else "",
            previous_response_id="" if replayed else (previous_id or ""),
            replayed=replayed,
            is_fallback=answer is None,
            tokens_in=record.tokens_in,
            tokens_out=record.tokens_out,
            call_id=call_id,
        )
        # A chain continues only from a stored response; chat replays have none.
        locked.last_response_id = answer.response_id if answer and answer.response_id else ""
        locked.save(update_fields=["last_response_id", "updated_at"])
    conversation.last_response_id = locked.last_response_id
    return turn
