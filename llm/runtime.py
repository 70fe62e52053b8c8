"""Running tasks: `run` (one call, now) and `run_many` (bulk, concurrent under shared limits).

Each call goes: cache → breaker → shared rate budget → provider (structured output) → quality
checks (one re-ask) → classified retries → fallback. Provider work happens in `execute` (no
database); `finish` writes the ledger row and applies the output. In bulk mode workers only
`execute` and the calling thread `finish`es, so database writes stay in one thread and one
transaction context, and an output is applied exactly once.

Fallback is for a person who is waiting. Background callers pass `defer_when_unavailable=True`:
an input that meets an unavailable provider (breaker open, quota or auth refused, an outage that
outlasted the retries, no room in the shared budget) is then *deferred* — a `deferred` ledger row,
no apply, `LLMDeferredError` from `run` and `ItemOutcome.deferred` from `run_many` — and the caller
leaves it pending for a later run. Output problems (refusal, truncation, invalid answers after the
re-ask) still fall back: retrying later would not change them. With no provider configured
(`offline`) every call falls back, deferred or not.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any, Generic

import pydantic
from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DatabaseError
from django.utils import timezone
from pydantic import BaseModel

from config.errors import DomainError
from llm.cache import cache_get, cache_key, cache_set
from llm.errors import (
    CONTENT_FILTER_MESSAGE,
    LENGTH_MESSAGE,
    Classified,
    ErrorKind,
    LLMDeferredError,
    LLMError,
    LLMRequestError,
    LLMUnavailableError,
    Usage,
    usage_from_body,
    with_usage,
)
from llm.ledger import CallRecord, ledger_connection_scope, llm_call_record
from llm.limits import CallSlot, SlotLease
from llm.models import LLMCall
from llm.providers import ProviderConfig, chat_completion_post, get_client, provider_config
from llm.resilience import Answer, call_slot, resilient_call
from llm.task import InT, LLMTask, Message, OutT, Provenance
from llm.usage import estimate_tokens

logger = logging.getLogger("contentops.llm")

ProgressCallback = Callable[[int, int], None]
# How many times bulk mode sends an item that ended in a transient error back to the queue.
BULK_REQUEUES = 1
# What a domain apply may raise for one bad item; anything else is a bug and propagates.
APPLY_ERRORS = (
    DatabaseError,
    DjangoValidationError,
    DomainError,
    LLMUnavailableError,
    LLMRequestError,
    ValueError,
    LookupError,
)


@dataclass
class Execution(Generic[InT, OutT]):
    """The outcome of the provider side of one call; `finish` turns it into a result."""

    task: LLMTask[InT, OutT]
    task_input: InT
    record: CallRecord
    output: OutT | None = None
    error: Classified | None = None
    started: float = field(default_factory=time.monotonic)


@dataclass(frozen=True)
class LLMResult(Generic[OutT]):
    output: OutT
    provenance: Provenance
    status: str
    error: Classified | None
    tokens_in: int
    tokens_out: int
    attempts: int

    @property
    def is_fallback(self) -> bool:
        return self.provenance.is_fallback

    @property
    def cached(self) -> bool:
        return self.status == LLMCall.Status.CACHED


@dataclass(frozen=True)
class ItemOutcome(Generic[InT, OutT]):
    """One input of a bulk run: its result, or why it has none (apply raised, or it was deferred)."""

    task_input: InT
    result: LLMResult[OutT] | None
    error: str = ""
    # The provider was unavailable and the run defers (`defer_when_unavailable`): leave it pending.
    deferred: bool = False

    @property
    def ok(self) -> bool:
        return self.result is not None


def _request(*, config: ProviderConfig, task: LLMTask, messages: list[Message]) -> Answer:
    """One structured-output chat call. Refusals and unparsed outputs raise; nothing partial returns.

    The body is the wire JSON already (the task's response format is built once), so it is posted as
    is, and the answer is read from the response body: what `chat.completions.parse` checks, in its
    order, without its per-call schema rebuild, request transform and typed response models.
    """
    body = {**chat_request_fields(config=config, task=task), "messages": messages, "stream": False}
    raw = chat_completion_post(config, body)
    try:
        data = raw.http_response.json()
    except ValueError:
        raise LLMError(ErrorKind.SCHEMA, "The provider's response is not JSON.") from None
    output, usage = chat_output(data, task.output_model)
    return Answer(
        output=output,
        tokens_in=usage.tokens_in,
        tokens_out=usage.tokens_out,
        tokens_cached=usage.tokens_cached,
        headers=raw.headers,
        request_id=raw.request_id or "",
    )


def chat_request_fields(*, config: ProviderConfig, task: LLMTask) -> dict[str, Any]:
    """A task's chat request body, its messages aside: what `chat.completions.parse(response_format=
    OutputModel)` sends (the response format built once per task). Shared by calls now and Batch API
    lines (llm/batching.py)."""
    fields: dict[str, Any] = {"model": config.wire_model, "response_format": task.response_format}
    # Local servers (LM Studio, Ollama, older vLLM) know only max_tokens.
    fields["max_tokens" if config.kind == "compatible" else "max_completion_tokens"] = task.max_output_tokens
    if task.temperature is not None:
        fields["temperature"] = task.temperature
    return fields


def chat_output(data: object, output_model: type[OutT]) -> tuple[OutT, Usage]:
    """The validated output and billed usage of a chat completion body (a dict); raises `LLMError`
    (refusal, truncation, content filter, no output) or pydantic's error, marked with the usage."""
    usage = usage_from_body(data) or Usage()
    choices = data.get("choices") if isinstance(data, dict) else None
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        raise LLMError(ErrorKind.SCHEMA, "The response has no choices.", usage=usage)
    choice = choices[0]
    message = choice.get("message")
    if not isinstance(message, dict):
        message = {}
    # The order of `openai.lib._parsing.parse_chat_completion`: finish reasons first, then content.
    if choice.get("finish_reason") == "length":
        raise LLMError(ErrorKind.LENGTH, LENGTH_MESSAGE, usage=usage)
    if choice.get("finish_reason") == "content_filter":
        raise LLMError(ErrorKind.CONTENT_FILTER, CONTENT_FILTER_MESSAGE, usage=usage)
    if message.get("refusal"):
        raise LLMError(ErrorKind.REFUSAL, f"The model refused: {str(message['refusal'])[:200]}", usage=usage)
    content = message.get("content")
    if not isinstance(content, str) or not content:
        raise LLMError(ErrorKind.SCHEMA, "The model returned no parsable output.", usage=usage)
    try:
        return output_model.model_validate_json(content), usage
    except pydantic.ValidationError as exc:  # invalid JSON or off-schema: billed all the same
        raise with_usage(exc, usage) from None


def _reask(messages: list[Message], *, problem: str, previous: BaseModel | None) -> list[Message]:
    followup = list(messages)
    if previous is not None:
        followup.append({"role": "assistant", "content": previous.model_dump_json()})
    followup.append(
        {
            "role": "user",
            "content": f"Your previous answer was not acceptable: {problem}\n"
            "Answer again, following the schema and fixing exactly these problems.",
        }
    )
    return followup


def execute(
    task: LLMTask[InT, OutT],
    task_input: InT,
    *,
    mode: str = LLMCall.Mode.NOW,
    config: ProviderConfig | None = None,
    user_id: int | None = None,
    use_cache: bool = True,
    deadline: float | None = None,
    wait_for_trial: bool = False,
) -> Execution[InT, OutT]:
    """The provider side of one call; never touches the database. Errors end up in `.error`.

    `wait_for_trial`: while the breaker half-opens, wait for its trial's outcome (bulk work) rather
    than answer "circuit open" at once (a person waiting gets the fallback without delay).
    """
    config = config or provider_config()
    record = CallRecord(
        task=task.name,
        task_version=task.version,
        provider=config.kind,
        model=config.model,
        mode=mode,
        subject=task.subject(task_input) if task.subject else None,
        user_id=user_id,
    )
    execution: Execution[InT, OutT] = Execution(task=task, task_input=task_input, record=record)
    if config.is_offline:
        execution.error = Classified(ErrorKind.OFFLINE, False, False, None, None, "No LLM provider is configured.")
        return execution

    messages = task.build_messages(task_input)
    # The call's one owner of its rate-governor slot: taken with the cache read (a miss on Redis),
    # used by the first attempt, and freed however the call ends.
    with call_slot(config=config) as call:
        if use_cache and settings.OPENAI_CACHE_ENABLED:
            record.cache_key = cache_key(
                provider=config.name,
                model=config.model,
                task_name=task.name,
                task_version=task.version,
                schema_hash=task.schema_hash,
                messages=messages,
            )
            hit = cache_get(key=record.cache_key, call=call)
            if hit is not None:
                execution.output = task.output_model.model_validate(hit["output"])
                record.status = LLMCall.Status.CACHED
                return execution
        return execute_again(
            execution, config=config, deadline=deadline, call=call, wait_for_trial=wait_for_trial, messages=messages
        )


def execute_again(
    execution: Execution[InT, OutT],
    *,
    config: ProviderConfig,
    deadline: float | None = None,
    call: CallSlot | None = None,
    wait_for_trial: bool = False,
    messages: list[Message] | None = None,
) -> Execution[InT, OutT]:
    """(Re)try the provider for an execution; attempts add up on the same ledger record.

    `call`: the call's `CallSlot` (the first attempt uses a slot its cache read took); the caller
    frees what it holds. `messages`: the task's messages for this input, when already built.
    """
    execution.error = None
    if messages is None:
        messages = execution.task.build_messages(execution.task_input)
    _call_with_retries(
        execution,
        config=config,
        messages=messages,
        deadline=deadline,
        call=call,
        wait_for_trial=wait_for_trial,
    )
    return execution


def _call_with_retries(
    execution: Execution,
    *,
    config: ProviderConfig,
    messages: list[Message],
    deadline: float | None,
    call: CallSlot | None,
    wait_for_trial: bool = False,
) -> None:
    task = execution.task
    conversation = {"messages": messages}

    def send() -> Answer:
        return _request(config=config, task=task, messages=conversation["messages"])

    def reask(problem: str, previous: Answer | None) -> None:
        previous_output = previous.output if previous is not None else None
        conversation["messages"] = _reask(conversation["messages"], problem=problem, previous=previous_output)

    def store(answer: Answer, lease: SlotLease) -> None:
        record = execution.record
        if record.cache_key and answer.output is not None:  # (an answer always has an output)
            cache_set(
                key=record.cache_key,
                value={"output": answer.output.model_dump(mode="json")},
                task_name=task.name,
                user_id=record.user_id,
                lease=lease,
            )

    answer, error = resilient_call(
        config=config,
        record=execution.record,
        estimate=estimate_tokens(messages, max_output_tokens=task.max_output_tokens),
        deadline=deadline,
        send=send,
        check=lambda answer: task.quality_problems(execution.task_input, answer.output),
        reask=reask,
        accept=store,
        label=task.label,
        call=call,
        wait_for_trial=wait_for_trial,
    )
    if answer is not None:
        execution.output = answer.output
    execution.error = error


def finish(
    execution: Execution[InT, OutT],
    *,
    apply: bool = True,
    allow_fallback: bool = True,
    defer_when_unavailable: bool = False,
) -> LLMResult[OutT]:
    """Record the call in the ledger and apply its output (the model's, or the flagged fallback).

    With `defer_when_unavailable`, a call the provider could not serve is recorded as deferred and
    raises LLMDeferredError instead: no fallback, nothing applied.
    """
    task, record = execution.task, execution.record
    record.latency_ms = int((time.monotonic() - execution.started) * 1000)
    output, error = execution.output, execution.error
    is_fallback = output is None
    if output is None:
        assert error is not None  # noqa: S101 - execute sets one of the two
        record.error_class, record.error_message = str(error.kind), error.message
        if defer_when_unavailable and error.provider_unavailable:
            record.status = LLMCall.Status.DEFERRED
            llm_call_record(record=record)
            raise LLMDeferredError(error.message, code=str(error.kind))
        if not allow_fallback:
            record.status = LLMCall.Status.FAILED
            llm_call_record(record=record)
            if error.retryable or error.opens_breaker or error.kind == ErrorKind.CIRCUIT_OPEN:
                raise LLMUnavailableError(error.message, code=str(error.kind))
            raise LLMRequestError(error.message, code=str(error.kind))
        record.status = LLMCall.Status.FALLBACK
        output = task.fallback_output(execution.task_input)
    call_id = llm_call_record(record=record)
    provenance = Provenance(
        task=task.name,
        task_version=task.version,
        provider=record.provider if not is_fallback else "fallback",
        model=record.model if not is_fallback else "rule-based",
        is_fallback=is_fallback,
        generated_at=timezone.now(),
        call_id=call_id,
        fallback_reason=str(error.kind) if is_fallback and error else "",
    )
    if apply and task.apply is not None:
        task.apply(execution.task_input, output, provenance)
    return LLMResult(
        output=output,
        provenance=provenance,
        status=record.status,
        error=error,
        tokens_in=record.tokens_in,
        tokens_out=record.tokens_out,
        attempts=record.attempts,
    )


def run(
    task: LLMTask[InT, OutT],
    task_input: InT,
    *,
    apply: bool = True,
    user_id: int | None = None,
    use_cache: bool = True,
    allow_fallback: bool = True,
    mode: str = LLMCall.Mode.NOW,
    defer_when_unavailable: bool = False,
) -> LLMResult[OutT]:
    """Run one task now: a result always comes back (flagged fallback) unless allow_fallback=False.

    Background callers pass `defer_when_unavailable=True`: when the provider cannot serve the call,
    LLMDeferredError is raised after a `deferred` ledger row, and nothing is applied. (No one is
    waiting then: while the breaker half-opens, the call waits for its trial's outcome.)
    """
    execution = execute(
        task, task_input, mode=mode, user_id=user_id, use_cache=use_cache, wait_for_trial=defer_when_unavailable
    )
    with ledger_connection_scope():
        return finish(
            execution, apply=apply, allow_fallback=allow_fallback, defer_when_unavailable=defer_when_unavailable
        )


def run_many(
    task: LLMTask[InT, OutT],
    inputs: Iterable[InT],
    *,
    concurrency: int | None = None,
    apply: bool = True,
    user_id: int | None = None,
    use_cache: bool = True,
    on_progress: ProgressCallback | None = None,
    defer_when_unavailable: bool = False,
) -> list[ItemOutcome[InT, OutT]]:
    """Run many inputs concurrently under the shared limits; one outcome per input, in input order.

    Provider calls run in worker threads; ledger rows and applies happen in this thread. With
    `defer_when_unavailable` (background work) an input the provider could not serve gets a
    deferred outcome (`ItemOutcome.deferred`, nothing applied) instead of the flagged fallback.
    While the breaker half-opens, items wait for its trial's outcome rather than fall back.
    """
    items = list(inputs)
    config = provider_config()
    workers = max(1, min(concurrency or config.max_concurrency, len(items) or 1))
    outcomes: list[ItemOutcome | None] = [None] * len(items)
    # (index, requeues so far, execution to retry — None for a first try)
    queue: deque[tuple[int, int, Execution | None]] = deque((i, 0, None) for i in range(len(items)))
    pending: dict[Future, tuple[int, int]] = {}
    done = 0
    if not config.is_offline:
        get_client(config)  # built before any thread holds a slot (a cold build takes ~80 ms)

    def work(index: int, execution: Execution | None) -> Execution:
        if execution is not None:
            return execute_again(execution, config=config, wait_for_trial=True)
        return execute(
            task,
            items[index],
            mode=LLMCall.Mode.BULK,
            config=config,
            user_id=user_id,
            use_cache=use_cache,
            wait_for_trial=True,
        )

    with (
        ledger_connection_scope(),
        ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"llm-{task.name}") as pool,
    ):
        while queue or pending:
            while queue and len(pending) < workers * 2:
                index, requeues, execution = queue.popleft()
                pending[pool.submit(work, index, execution)] = (index, requeues)
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                index, requeues = pending.pop(future)
                execution = future.result()
                if execution.error is not None and execution.error.retryable and requeues < BULK_REQUEUES:
                    # A transient failure goes to the back of the queue: by its turn the provider
                    # has usually recovered, and the rest of the run was not held up by it.
                    queue.append((index, requeues + 1, execution))
                    continue
                try:
                    result = finish(execution, apply=apply, defer_when_unavailable=defer_when_unavailable)
                    outcomes[index] = ItemOutcome(items[index], result)
                except LLMDeferredError as exc:
                    outcomes[index] = ItemOutcome(items[index], None, f"deferred ({exc.code}): {exc}"[:500], True)
                except APPLY_ERRORS as exc:  # one item's failed apply must not lose the others
                    logger.exception("LLM %s: item %d failed", task.label, index)
                    outcomes[index] = ItemOutcome(items[index], None, f"{type(exc).__name__}: {exc}"[:500])
                done += 1
                if on_progress is not None:
                    on_progress(done, len(items))
    return [outcome for outcome in outcomes if outcome is not None]
