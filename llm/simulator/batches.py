"""``/batches`` lifecycle: validation, polling state machine, line processing.

Contract:
    * ``create`` validates the input file line by line (JSON, ``custom_id``
      unique, ``method`` POST, ``url`` == endpoint, ``body`` object); problems
      make the batch ``failed`` when it leaves ``validating``.  On Azure routes
      the endpoint and every line's ``url`` must be exactly ``/chat/completions``
      and every line's ``model`` the same deployment (a known one, when the
      simulator lists its deployments).
    * Each ``retrieve`` counts as one poll; after ``batch_polls_per_stage``
      polls a stage advances: validating -> in_progress -> finalizing ->
      completed (0 polls per stage: straight to the end state).
    * Lines are answered when leaving ``in_progress`` by streaming the input
      file, writing output/error JSONL files with bounded memory (shuffling
      within chunks of ``batch_shuffle_chunk`` lines).  Shuffles, per-line
      errors and content faults come from ``Random(seed, creation order)``.
Thread-safe: one lock for the registry, one per batch.
"""

from __future__ import annotations

import builtins
import json
import math
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from pydantic_core import from_json

from llm.simulator.completions import Built, new_id
from llm.simulator.config import SimulatorConfig
from llm.simulator.errors import SimError, bad_request, invalid_value, missing_param, not_found, server_error
from llm.simulator.faults import Fault, pick_content_fault
from llm.simulator.files import FileStore
from llm.simulator.paths import normalize_endpoint

LineRenderer = Callable[[str, dict[str, Any], Fault], Built]
SUPPORTED_ENDPOINTS = ("/chat/completions", "/responses")
AZURE_BATCH_ENDPOINT = "/chat/completions"  # Azure's dated API: no /v1 prefix, chat completions only
TERMINAL = frozenset({"completed", "failed", "expired", "cancelled"})
MAX_REPORTED_ERRORS = 100
DUPLICATE_MESSAGE = (
    "The custom_id for this request is a duplicate of another request. "
    "The custom_id parameter must be unique for each request in a batch."
)
EXPIRED_ERROR = {
    "code": "batch_expired",
    "message": "This request could not be executed before the completion window expired.",
}


@dataclass
class BatchJob:
    """Server-side state of one batch."""

    id: str
    input_file_id: str
    endpoint: str
    kind: str
    completion_window: str
    metadata: dict[str, str] | None
    created_at: int
    sequence: int = 0
    status: str = "validating"
    model: str | None = None
    total: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    polls: int = 0
    times: dict[str, int] = field(default_factory=dict)
    output_file_id: str | None = None
    error_file_id: str | None = None
    completed: int = 0
    failed: int = 0
    usage: dict[str, Any] | None = None
    cancel_from: str | None = None
    processed: bool = False
    azure: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def to_json(self) -> dict[str, Any]:
        """The SDK ``Batch`` shape."""
        show_files = self.status in TERMINAL
        return {
            "id": self.id,
            "object": "batch",
            "endpoint": self.endpoint,
            "errors": {"object": "list", "data": self.errors} if self.errors else None,
            "input_file_id": self.input_file_id,
            "completion_window": self.completion_window,
            "status": self.status,
            "output_file_id": self.output_file_id if show_files else None,
            "error_file_id": self.error_file_id if show_files else None,
            "created_at": self.created_at,
            "expires_at": self.created_at + 24 * 3600,
            **{f"{stage}_at": self.times.get(stage) for stage in _STAMPS},
            "request_counts": {"total": self.total, "completed": self.completed, "failed": self.failed},
            "metadata": self.metadata,
            "model": self.model,
            "usage": self.usage,
        }


_STAMPS = ("in_progress", "finalizing", "completed", "failed", "expired", "cancelling", "cancelled")


class BatchManager:
    """Registry and state machine of batches."""

    def __init__(self, config: SimulatorConfig, files: FileStore, render: LineRenderer) -> None:
        self.config = config
        self.files = files
        self.render = render
        self._jobs: dict[str, BatchJob] = {}
        self._lock = threading.Lock()
        self._token_limit_failures = config.batch_create_token_limit_exceeded
        self._created = 0

    # -- API -------------------------------------------------------------
    def create(self, body: Any, *, azure: bool = False) -> dict[str, Any]:
        """``POST /batches``: register and validate; returns the ``validating`` batch."""
        if not isinstance(body, dict):
            raise bad_request("We could not parse the JSON body of your request.")
        for name in ("input_file_id", "endpoint", "completion_window"):
            if not isinstance(body.get(name), str):
                raise missing_param(name)
        kind = normalize_endpoint(body["endpoint"])
        if kind not in SUPPORTED_ENDPOINTS or (azure and body["endpoint"] != AZURE_BATCH_ENDPOINT):
            raise invalid_value("endpoint", f"{body['endpoint']!r} is not supported.")
        if body["completion_window"] != "24h":
            raise invalid_value("completion_window", "only '24h' is supported.")
        try:
            stored = self.files.get(body["input_file_id"])
        except SimError as exc:
            raise invalid_value("input_file_id", f"file {body['input_file_id']!r} does not exist.") from exc
        if stored.purpose != "batch":
            raise bad_request("Invalid 'input_file_id': the file must have purpose 'batch'.", param="input_file_id")
        job = BatchJob(
            id=new_id("batch_"),
            input_file_id=stored.id,
            endpoint=body["endpoint"],
            kind=kind,
            completion_window="24h",
            metadata=body.get("metadata"),
            created_at=int(time.time()),
            azure=azure,
        )
        self._validate(job)
        with self._lock:
            self._created += 1
            job.sequence = self._created
            if self._token_limit_failures > 0:
                self._token_limit_failures -= 1
                job.errors = [_token_limit_error(job.model)]
            self._jobs[job.id] = job
        return job.to_json()

    def retrieve(self, batch_id: str) -> dict[str, Any]:
        """``GET /batches/{id}``: one poll; may advance the state machine."""
        job = self._get(batch_id)
        with job.lock:
            if job.status not in TERMINAL:
                job.polls += 1
                if job.polls >= self.config.batch_polls_per_stage:
                    job.polls = 0
                    self._advance(job)
                    while self.config.batch_polls_per_stage == 0 and job.status not in TERMINAL:
                        self._advance(job)
            return job.to_json()

    def cancel(self, batch_id: str) -> dict[str, Any]:
        """``POST /batches/{id}/cancel``: -> ``cancelling`` (``cancelled`` on next poll)."""
        job = self._get(batch_id)
        with job.lock:
            if job.status in TERMINAL or job.status == "cancelling":
                raise bad_request(f"Cannot cancel a batch with status '{job.status}'.")
            job.cancel_from = job.status
            job.status = "cancelling"
            job.polls = 0
            job.times["cancelling"] = int(time.time())
            return job.to_json()

    def list(self, limit: int = 20, after: str | None = None) -> dict[str, Any]:
        """``GET /batches``: newest first, cursor pagination by ``after``."""
        with self._lock:
            jobs = sorted(self._jobs.values(), key=lambda j: (j.created_at, j.id), reverse=True)
        if after is not None:
            ids = [j.id for j in jobs]
            jobs = jobs[ids.index(after) + 1 :] if after in ids else []
        page = jobs[: max(1, min(limit, 100))]
        data = [j.to_json() for j in page]
        return {
            "object": "list",
            "data": data,
            "first_id": data[0]["id"] if data else None,
            "last_id": data[-1]["id"] if data else None,
            "has_more": len(jobs) > len(page),
        }

    def _get(self, batch_id: str) -> BatchJob:
        with self._lock:
            job = self._jobs.get(batch_id)
        if job is None:
            raise not_found(f"No batch found with id '{batch_id}'.", param="batch_id")
        return job

    # -- state machine ---------------------------------------------------
    def _advance(self, job: BatchJob) -> None:
        now = int(time.time())
        if job.status == "validating":
            if job.errors:
                job.status, job.times["failed"] = "failed", now
            else:
                job.status, job.times["in_progress"] = "in_progress", now
        elif job.status == "in_progress":
            if self.config.batch_expire:
                self._process(job, math.floor(job.total * self.config.batch_expire_fraction), expire_rest=True)
                job.status, job.times["expired"] = "expired", now
            else:
                self._process(job, job.total, expire_rest=False)
                job.status, job.times["finalizing"] = "finalizing", now
        elif job.status == "finalizing":
            job.status, job.times["completed"] = "completed", now
        elif job.status == "cancelling":
            if not job.processed:
                share = self.config.batch_cancel_fraction if job.cancel_from == "in_progress" else 0.0
                self._process(job, math.floor(job.total * share), expire_rest=False)
            job.status, job.times["cancelled"] = "cancelled", now

    def _validate(self, job: BatchJob) -> None:
        seen: set[str] = set()
        problems: list[dict[str, Any]] = []

        def report(line: int, code: str, message: str, param: str | None = None) -> None:
            if len(problems) < MAX_REPORTED_ERRORS:
                problems.append({"code": code, "message": message, "param": param, "line": line})

        for number, raw in enumerate(self.files.iter_lines(job.input_file_id), start=1):
            if not raw.strip():
                continue
            job.total += 1
            try:
                item = _loads(raw)
            except ValueError:
                report(number, "invalid_json_line", "This line is not parseable as valid JSON.")
                continue
            if not isinstance(item, dict):
                report(number, "invalid_json_line", "Each line must be a JSON object.")
                continue
            custom_id = item.get("custom_id")
            if not isinstance(custom_id, str) or not custom_id:
                report(number, "missing_required_parameter", "Missing required parameter: 'custom_id'.", "custom_id")
            elif custom_id in seen:
                report(number, "duplicate_custom_id", DUPLICATE_MESSAGE, "custom_id")
            else:
                seen.add(custom_id)
            if item.get("method") != "POST":
                report(number, "invalid_method", "The method for this request must be 'POST'.", "method")
            url = item.get("url")
            if not isinstance(url, str) or normalize_endpoint(url) != job.kind or (job.azure and url != job.endpoint):
                message = f"The url for this request does not match the batch endpoint '{job.endpoint}'."
                report(number, "invalid_url", message, "url")
            body = item.get("body")
            if not isinstance(body, dict):
                report(number, "missing_required_parameter", "Missing required parameter: 'body'.", "body")
                continue
            if job.azure:
                self._check_deployment(job, body.get("model"), number, report)
            if job.model is None and isinstance(body.get("model"), str):
                job.model = body["model"]
        if job.total == 0:
            problems.append({"code": "empty_file", "message": "The input file is empty.", "param": None, "line": None})
        job.errors = problems
        if problems:
            job.total = 0

    def _check_deployment(self, job: BatchJob, model: Any, number: int, report: Callable[..., None]) -> None:
        """Azure: a line's model is the batch deployment's name, the same on every line."""
        known = self.config.azure_deployments
        if not isinstance(model, str) or not model:
            report(number, "missing_required_parameter", "Missing required parameter: 'model'.", "body.model")
        elif known is not None and model not in known:
            report(number, "model_not_found", f"The deployment '{model}' does not exist.", "body.model")
        elif job.model is not None and model != job.model:
            message = f"All requests in a batch must use the same deployment; expected '{job.model}'."
            report(number, "model_mismatch", message, "body.model")

    # -- line processing -------------------------------------------------
    def _process(self, job: BatchJob, answer_count: int, *, expire_rest: bool) -> None:
        """Answer the first ``answer_count`` lines; the rest expire or are skipped."""
        job.processed = True
        rng = random.Random(f"{self.config.seed}:batch:{job.sequence}")  # reproducible per creation order
        usage = {"input_tokens": 0, "output_tokens": 0}
        with (
            self.files.writer(f"{job.id}_output.jsonl", "batch_output") as (out, out_holder),
            self.files.writer(f"{job.id}_error.jsonl", "batch_output") as (err, err_holder),
        ):
            chunk: list[bytes] = []
            index = 0
            for raw in self.files.iter_lines(job.input_file_id):
                if not raw.strip():
                    continue
                item = _loads(raw)
                index += 1
                if index > answer_count:
                    if expire_rest:
                        _write(err, _line(item["custom_id"], None, EXPIRED_ERROR))
                        job.failed += 1
                    continue
                ok, line = self._answer(job, item, rng, usage)
                if ok:
                    job.completed += 1
                    chunk.append(line)
                    if len(chunk) >= self.config.batch_shuffle_chunk:
                        self._flush(out, chunk, rng)
                else:
                    job.failed += 1
                    err.write(line)
            self._flush(out, chunk, rng)
        job.output_file_id = self._keep_if_nonempty(out_holder[0].id, job.completed)
        job.error_file_id = self._keep_if_nonempty(err_holder[0].id, job.failed)
        total = usage["input_tokens"] + usage["output_tokens"]
        job.usage = {
            "input_tokens": usage["input_tokens"],
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": usage["output_tokens"],
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": total,
        }

    def _answer(
        self, job: BatchJob, item: dict[str, Any], rng: random.Random, usage: dict[str, int]
    ) -> tuple[bool, bytes]:
        custom_id = item["custom_id"]
        if rng.random() < self.config.batch_line_error_rate:
            return False, _dump(_line(custom_id, server_error(500), None))
        fault = pick_content_fault(self.config, rng)
        try:
            built = self.render(job.kind, item["body"], fault)
        except SimError as exc:
            return False, _dump(_line(custom_id, exc, None))
        usage["input_tokens"] += built.input_tokens
        usage["output_tokens"] += built.output_tokens
        response = {"status_code": 200, "request_id": new_id("req_"), "body": built.body}
        return True, _dump({"id": new_id("batch_req_"), "custom_id": custom_id, "response": response, "error": None})

    def _flush(self, out: BinaryIO, chunk: builtins.list[bytes], rng: random.Random) -> None:
        if self.config.batch_shuffle:
            rng.shuffle(chunk)
        out.writelines(chunk)
        chunk.clear()

    def _keep_if_nonempty(self, file_id: str, count: int) -> str | None:
        if count:
            return file_id
        self.files.delete(file_id)
        return None


def _line(custom_id: str, error: SimError | None, plain_error: dict[str, Any] | None) -> dict[str, Any]:
    response = None
    if error is not None:
        response = {"status_code": error.status, "request_id": new_id("req_"), "body": error.body()}
    return {"id": new_id("batch_req_"), "custom_id": custom_id, "response": response, "error": plain_error}


def _loads(raw: bytes) -> Any:
    """`json.loads`, through pydantic-core's parser first: several times faster on request lines of
    kilobytes (a 350,000-line upload is read twice); what it refuses (a lone surrogate escape)
    goes to json.loads, which decides."""
    try:
        return from_json(raw)
    except ValueError:
        return json.loads(raw)


def _dump(obj: dict[str, Any]) -> bytes:
    return json.dumps(obj, ensure_ascii=False).encode() + b"\n"


def _write(stream: BinaryIO, obj: dict[str, Any]) -> None:
    stream.write(_dump(obj))


def _token_limit_error(model: str | None) -> dict[str, Any]:
    return {
        "code": "token_limit_exceeded",
        "message": f"Enqueued token limit reached for {model or 'the model'} in model deployment. "
        "Please try again once some in_progress batches have been completed.",
        "param": None,
        "line": None,
    }
