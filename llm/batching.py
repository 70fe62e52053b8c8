"""The llm side of the provider Batch API (DESIGN.md §1, mode 3), for any task.

- `LineBuilder` turns a task input into one JSONL request line: the same model, messages, strict
  response format and token cap that `llm.runtime` sends (what `chat.completions.parse` would).
- `read_result_line` + `interpret_result` turn one output/error line back into a validated output
  or a classified error, with the runtime's validation (finish reason, refusal, schema, checks).
- `batch_call_values` / `batch_calls_insert` write the ledger rows (mode "batch", discounted cost).
- The provider's files and batches endpoints (`batch_file_upload`, `remote_batch_create`, ...) —
  the `batches` app never imports the SDK; it calls these with a `ProviderConfig`.
- `fallback_result_line` is the offline provider's answer: a chat-completion-shaped line from the
  task's rule-based fallback, so offline batches run through the very same ingest.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, cast

import openai
import pydantic
from django.conf import settings
from django.db import connection
from django.utils import timezone
from pydantic import BaseModel
from pydantic_core import from_json

from config.errors import ServiceUnavailableError
from llm.errors import ErrorKind, LLMError, Usage, classify, redact, usage_from_body
from llm.ledger import CallRecord, llm_call_values
from llm.models import LLMCall
from llm.providers import ProviderConfig, get_client
from llm.runtime import chat_output, chat_request_fields
from llm.task import LLMTask

OPENAI_ENDPOINT = "/v1/chat/completions"
AZURE_ENDPOINT = "/chat/completions"
COMPLETION_WINDOW: Final = "24h"
MB = 1024 * 1024
DOWNLOAD_CHUNK = 1 * MB

# Batch-only error classes (the line never produced a call the runtime would classify).
CORRUPT_LINE = "corrupt_line"
EXPIRED = "expired"
TOKEN_LIMIT_EXCEEDED = "token_limit_exceeded"  # noqa: S105 - an error code, not a secret


@dataclass(frozen=True)
class BatchLimits:
    max_lines: int
    max_bytes: int


def batch_limits(config: ProviderConfig) -> BatchLimits:
    """Per input file: OpenAI 50,000 requests / 200 MB; Azure 100,000 requests / 200 MB."""
    if config.kind == "azure":
        return BatchLimits(max_lines=100_000, max_bytes=200 * MB)
    return BatchLimits(max_lines=50_000, max_bytes=200 * MB)


def batch_endpoint(config: ProviderConfig) -> str:
    """The endpoint lines and jobs name: Azure routes by deployment and has no /v1 prefix."""
    return AZURE_ENDPOINT if config.kind == "azure" else OPENAI_ENDPOINT


def _dumps(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


class LineBuilder:
    """Builds request lines for one task and provider; the constant part of the body is encoded once.

    A strict schema can be several kilobytes and is the same on every line, so encoding it once per
    batch instead of once per line is most of the build time saved.
    """

    def __init__(self, task: LLMTask, config: ProviderConfig) -> None:
        self.task = task
        body = chat_request_fields(config=config, task=task)
        url = batch_endpoint(config)
        self._head = b'","method":"POST","url":' + _dumps(url) + b',"body":{"messages":'
        self._tail = b"," + _dumps(body)[1:] + b"}\n"

    def line(self, custom_id: str, task_input: BaseModel) -> bytes:
        """One JSONL line (with its newline) for `task_input`."""
        messages = self.task.build_messages(task_input)
        return b'{"custom_id":' + _dumps(custom_id)[:-1] + self._head + _dumps(messages) + self._tail


@dataclass(frozen=True)
class ResultLine:
    """One line of an output or error file, decoded but not yet validated against the task."""

    custom_id: str | None
    status_code: int | None = None
    body: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    request_id: str = ""
    corrupt: str = ""  # why the line could not be read (then custom_id is a best-effort guess)


_CUSTOM_ID = re.compile(rb'"custom_id"\s*:\s*"((?:[^"\\]|\\.){1,200})"')


def read_result_line(raw: bytes) -> ResultLine | None:
    """Decode one line; None for blank lines. A garbled line still names its item when it can."""
    if not raw.strip():
        return None
    try:
        data = from_json(raw)  # pydantic-core's parser: a few times faster than json.loads here
    except ValueError:
        try:  # what it refuses (e.g. a lone surrogate escape), json.loads decides, with its message
            data = json.loads(raw)
        except ValueError as exc:  # JSONDecodeError, or UnicodeDecodeError for bytes that aren't UTF-8
            reason = exc.msg if isinstance(exc, json.JSONDecodeError) else exc
            return _corrupt(raw, f"unreadable output line ({reason})")
    if not isinstance(data, dict) or not isinstance(data.get("custom_id"), str) or not data["custom_id"]:
        return _corrupt(raw, "output line without a custom_id")
    response = data.get("response")
    if not isinstance(response, dict):
        response = {}
    body = response.get("body")
    status = response.get("status_code")
    error = data.get("error") if isinstance(data.get("error"), dict) else None
    return ResultLine(
        custom_id=data["custom_id"],
        status_code=status if isinstance(status, int) else None,
        body=body if isinstance(body, dict) else None,
        error=error,
        request_id=str(response.get("request_id") or "")[:100],
    )


def _corrupt(raw: bytes, reason: str) -> ResultLine:
    match = _CUSTOM_ID.search(raw)
    custom_id = None
    if match:
        try:
            custom_id = json.loads(b'"' + match.group(1) + b'"')
        except ValueError:
            custom_id = None
    return ResultLine(custom_id=custom_id, corrupt=reason)


@dataclass(frozen=True)
class LineOutcome:
    """A result line judged against its task: an output, or an error class with its reason."""

    output: BaseModel | None
    error_class: str = ""
    error_message: str = ""
    retryable: bool = False
    tokens_in: int = 0
    tokens_out: int = 0
    request_id: str = ""
    summary: str = ""
    tokens_cached: int = 0  # the start of the output's JSON, for listings

    @property
    def ok(self) -> bool:
        return self.output is not None


def _http_error(status: int, body: dict[str, Any] | None) -> tuple[str, bool]:
    """(error class, retryable) for a line the provider answered with an HTTP error; as llm.errors."""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        error = {}
    code = f"{error.get('code') or ''} {error.get('type') or ''}".lower()
    if status == 429:
        if "quota" in code or "billing" in code:
            return str(ErrorKind.QUOTA), False
        return str(ErrorKind.RATE_LIMIT), True
    if status in (401, 403):
        return str(ErrorKind.AUTH), False
    if status == 408:
        return str(ErrorKind.TIMEOUT), True
    if status == 409:
        return str(ErrorKind.CONFLICT), True
    if status >= 500:
        return str(ErrorKind.SERVER), True
    return str(ErrorKind.BAD_REQUEST), False


def _message_of(error: Any) -> str:
    if isinstance(error, dict):
        inner = error.get("error")
        if not isinstance(inner, dict):
            inner = error
        return redact(str(inner.get("message") or inner.get("code") or "error"))[:300]
    return "error"


def interpret_result(task: LLMTask, task_input: BaseModel, line: ResultLine) -> LineOutcome:
    """Validate a result line like `llm.runtime` validates a live answer; never raises for bad data."""
    if line.corrupt:
        return LineOutcome(None, CORRUPT_LINE, f"The provider's output line was corrupted: {line.corrupt}.")
    if line.error is not None and line.status_code is None:
        code = str(line.error.get("code") or "batch_error")[:40]
        retryable = code in ("batch_expired", "batch_cancelled") or "rate" in code or "server" in code
        return LineOutcome(
            None,
            EXPIRED if code == "batch_expired" else code,
            _message_of(line.error),
            retryable=retryable,
            request_id=line.request_id,
        )
    if line.status_code != 200 or line.body is None:
        status = line.status_code or 0
        kind, retryable = _http_error(status, line.body)
        message = f"HTTP {status}: {_message_of(line.body or line.error)}"
        return LineOutcome(None, kind, message, retryable=retryable, request_id=line.request_id)

    usage = usage_from_body(line.body) or Usage()
    tokens: dict[str, Any] = {
        "tokens_in": usage.tokens_in,
        "tokens_cached": usage.tokens_cached,
        "tokens_out": usage.tokens_out,
        "request_id": line.request_id,
    }
    try:
        output, _ = chat_output(line.body, task.output_model)
    except LLMError as exc:
        return LineOutcome(None, str(exc.kind), exc.message, **tokens)
    except pydantic.ValidationError as exc:
        return LineOutcome(None, str(ErrorKind.SCHEMA), f"Output does not match the schema: {str(exc)[:300]}", **tokens)
    content = line.body["choices"][0]["message"]["content"]  # there: chat_output read it
    problems = task.quality_problems(task_input, output)
    if problems:
        return LineOutcome(None, str(ErrorKind.QUALITY), "; ".join(problems)[:500], **tokens)
    return LineOutcome(output, summary=content[:300], **tokens)


# --- ledger ------------------------------------------------------------------------------------


def batch_call_values(
    *,
    task: LLMTask,
    provider: str,
    model: str,
    outcome: LineOutcome,
    subject: tuple[str, Any] | None,
    is_fallback: bool = False,
    user_id: int | None = None,
) -> dict[str, Any]:
    """The ledger row of one batch line (mode "batch": the discounted price), as field attnames and
    values: batch ingest writes hundreds of thousands, without a model instance each."""
    if outcome.ok:
        status = LLMCall.Status.FALLBACK if is_fallback else LLMCall.Status.SUCCEEDED
    else:
        status = LLMCall.Status.FAILED
    record = CallRecord(
        task=task.name,
        task_version=task.version,
        provider=provider,
        model=model,
        mode=LLMCall.Mode.BATCH,
        status=status,
        attempts=0 if is_fallback else 1,
        tokens_in=outcome.tokens_in,
        tokens_cached=outcome.tokens_cached,
        tokens_out=outcome.tokens_out,
        error_class=str(ErrorKind.OFFLINE) if is_fallback and outcome.ok else outcome.error_class,
        error_message="No LLM provider is configured." if is_fallback and outcome.ok else outcome.error_message,
        request_id=outcome.request_id,
        subject=subject,
        user_id=user_id,
    )
    return llm_call_values(record=record)


def batch_call_build(
    *,
    task: LLMTask,
    provider: str,
    model: str,
    outcome: LineOutcome,
    subject: tuple[str, Any] | None,
    is_fallback: bool = False,
    user_id: int | None = None,
) -> LLMCall:
    """An unsaved ledger row for one batch line (see `batch_call_values`)."""
    values = batch_call_values(
        task=task,
        provider=provider,
        model=model,
        outcome=outcome,
        subject=subject,
        is_fallback=is_fallback,
        user_id=user_id,
    )
    return LLMCall(**values)


def batch_calls_insert(*, rows: list[dict[str, Any]]) -> list[int]:
    """Insert ledger rows given as `batch_call_values`; their ids in order ([] when metrics are off).

    PostgreSQL: ids are drawn from the table's sequence and the rows loaded with COPY. bulk_create
    there sends one array per column, which psycopg escapes value by value in Python: about seven
    times the CPU, a sixth of a 50,000-line ingest. Other databases: bulk_create.
    """
    if not rows or not settings.OPENAI_METRICS_ENABLED:
        return []
    if connection.vendor != "postgresql":
        return [call.pk for call in LLMCall.objects.bulk_create([LLMCall(**row) for row in rows], batch_size=1000)]
    meta = LLMCall._meta
    now = timezone.now()
    # Every column, so the COPY needs no database default: a value the row lacks gets the field's own.
    fields = [field for field in meta.concrete_fields if field is not meta.pk]
    defaults = {field.attname: (now if field.attname == "created_at" else field.get_default()) for field in fields}
    quote = connection.ops.quote_name
    columns = ", ".join(quote(cast(str, field.column)) for field in [meta.pk, *fields])  # concrete: a column each
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [meta.db_table, meta.pk.column, len(rows)],
        )
        ids = [pk for (pk,) in cursor.fetchall()]
        with cursor.cursor.copy(f"COPY {quote(meta.db_table)} ({columns}) FROM STDIN") as copy:  # noqa: S608
            for pk, row in zip(ids, rows, strict=True):
                copy.write_row([pk, *(row.get(name, default) for name, default in defaults.items())])
    return ids


def batch_calls_save(*, rows: list[LLMCall]) -> list[LLMCall]:
    """Insert ledger rows built by `batch_call_build`, setting their ids; nothing when metrics are off."""
    now = timezone.now()
    fields = [field.attname for field in LLMCall._meta.concrete_fields if not field.primary_key]
    for row in rows:
        row.created_at = row.created_at or now  # auto_now_add, as save() would
    ids = batch_calls_insert(rows=[{name: getattr(row, name) for name in fields} for row in rows])
    if not ids:
        return []
    for pk, row in zip(ids, rows, strict=True):
        row.pk = pk
        row._state.adding, row._state.db = False, connection.alias
    return rows


# --- the offline provider --------------------------------------------------------------------


def fallback_result_line(*, task: LLMTask, custom_id: str, task_input: BaseModel) -> bytes:
    """An output line as a provider would write it, answered by the task's rule-based fallback."""
    content = task.fallback_output(task_input).model_dump_json()
    body = {
        "id": f"chatcmpl-local-{uuid.uuid4().hex[:20]}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": "rule-based",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content, "refusal": None},
                "finish_reason": "stop",
                "logprobs": None,
            }
        ],
        "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
        "system_fingerprint": "contentops-fallback",
    }
    line = {
        "id": f"batch_req_local_{uuid.uuid4().hex[:20]}",
        "custom_id": custom_id,
        "response": {"status_code": 200, "request_id": "", "body": body},
        "error": None,
    }
    return _dumps(line) + b"\n"


# --- provider endpoints ------------------------------------------------------------------------


class BatchProviderError(ServiceUnavailableError):
    """A files/batches call to the provider failed; `retryable` says whether trying later can help."""

    code = "batch_provider_error"

    def __init__(self, message: str, *, kind: str, retryable: bool, provider_code: str = "") -> None:
        super().__init__(message, detail={"kind": kind, "retryable": retryable})
        self.kind = kind
        self.retryable = retryable
        self.provider_code = provider_code  # the provider's own error code, e.g. token_limit_exceeded


def _provider_code(exc: BaseException) -> str:
    body = getattr(exc, "body", None)
    error = body.get("error", body) if isinstance(body, dict) else None
    return str(error.get("code") or "") if isinstance(error, dict) else ""


@contextmanager
def _provider_errors(action: str) -> Iterator[None]:
    try:
        yield
    except (openai.OpenAIError, pydantic.ValidationError) as exc:
        classified = classify(exc)
        code = _provider_code(exc)
        raise BatchProviderError(
            f"{action} failed: {classified.message}",
            kind=str(classified.kind),
            # Azure answers a full enqueued-token quota this way: it clears as running batches finish.
            retryable=classified.retryable or code == TOKEN_LIMIT_EXCEEDED,
            provider_code=code,
        ) from exc


@dataclass(frozen=True)
class RemoteBatch:
    """The provider's view of one batch job."""

    id: str
    status: str
    input_file_id: str
    output_file_id: str
    error_file_id: str
    total: int
    completed: int
    failed: int
    tokens_in: int
    tokens_out: int
    errors: tuple[tuple[str, str], ...]  # (code, message)

    @property
    def error_codes(self) -> set[str]:
        return {code for code, _ in self.errors}


def _remote(job: Any) -> RemoteBatch:
    counts = job.request_counts
    usage = getattr(job, "usage", None)
    errors = job.errors.data if job.errors is not None and job.errors.data else []
    return RemoteBatch(
        id=job.id,
        status=job.status,
        input_file_id=job.input_file_id or "",
        output_file_id=job.output_file_id or "",
        error_file_id=job.error_file_id or "",
        total=counts.total if counts else 0,
        completed=counts.completed if counts else 0,
        failed=counts.failed if counts else 0,
        tokens_in=getattr(usage, "input_tokens", 0) or 0,
        tokens_out=getattr(usage, "output_tokens", 0) or 0,
        errors=tuple((str(e.code or ""), redact(str(e.message or ""))[:300]) for e in errors),
    )


def batch_file_upload(*, config: ProviderConfig, path: Path, filename: str) -> str:
    """Upload a JSONL input file (streamed from disk) with purpose "batch"; returns its file id."""
    with _provider_errors("Uploading the batch input file"), path.open("rb") as stream:
        uploaded = get_client(config).files.create(file=(filename, stream, "application/jsonl"), purpose="batch")
    return uploaded.id


def remote_batch_create(*, config: ProviderConfig, input_file_id: str, metadata: dict[str, str]) -> RemoteBatch:
    with _provider_errors("Creating the batch job"):
        job = get_client(config).batches.create(
            input_file_id=input_file_id,
            endpoint=batch_endpoint(config),  # type: ignore[arg-type]  # Azure's has no /v1
            completion_window=COMPLETION_WINDOW,
            metadata=metadata,
        )
    return _remote(job)


def remote_batch_retrieve(*, config: ProviderConfig, job_id: str) -> RemoteBatch:
    with _provider_errors("Polling the batch job"):
        return _remote(get_client(config).batches.retrieve(job_id))


def remote_batch_cancel(*, config: ProviderConfig, job_id: str) -> RemoteBatch:
    with _provider_errors("Cancelling the batch job"):
        return _remote(get_client(config).batches.cancel(job_id))


def batch_file_download(*, config: ProviderConfig, file_id: str, destination: Path) -> int:
    """Stream a provider file to `destination` (written to a temporary name, then renamed); bytes."""
    partial = destination.with_name(destination.name + ".part")
    size = 0
    with (
        _provider_errors("Downloading a batch result file"),
        get_client(config).files.with_streaming_response.content(file_id) as response,
        partial.open("wb") as out,
    ):
        for chunk in response.iter_bytes(DOWNLOAD_CHUNK):
            out.write(chunk)
            size += len(chunk)
    partial.replace(destination)
    return size
