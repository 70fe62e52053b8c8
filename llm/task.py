"""An LLM task: the declarative unit every domain app hands to the llm layer (DESIGN.md §1).

A task is data plus four functions: build messages from an input, a rule-based fallback, optional
quality checks, and an apply that writes an output to the database. Inputs and outputs are pydantic
models, so a batch can store an input as JSON and rebuild it later.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar

from openai.lib._pydantic import to_strict_json_schema
from pydantic import BaseModel

InT = TypeVar("InT", bound=BaseModel)
OutT = TypeVar("OutT", bound=BaseModel)
Message = dict[str, str]


@dataclass(frozen=True, kw_only=True)
class Provenance:
    """Where an output came from; domain apps store it next to what they apply."""

    task: str
    task_version: int
    provider: str
    model: str
    is_fallback: bool
    generated_at: datetime
    call_id: int | None = None
    fallback_reason: str = ""


@dataclass(frozen=True, kw_only=True)
class LLMTask(Generic[InT, OutT]):
    name: str
    version: int
    input_model: type[InT]
    output_model: type[OutT]
    build_messages: Callable[[InT], list[Message]]
    fallback: Callable[[InT], OutT]
    checks: Sequence[Callable[[InT, OutT], list[str]]] = ()
    apply: Callable[[InT, OutT, Provenance], None] | None = None
    # Bulk variant of `apply` (batch ingest applies thousands at once); falls back to `apply` per item.
    apply_many: Callable[[list[tuple[InT, OutT, Provenance]]], None] | None = None
    # Records that an input failed for good (e.g. a batch line out of retries), with the reason.
    fail: Callable[[InT, str], None] | None = None
    # ("app_label.model", pk) of the object an input is for: recorded on its ledger row.
    subject: Callable[[InT], tuple[str, Any] | None] | None = None
    # What the domain stored for each input (JSON, None where nothing): shown per item by batch results.
    stored_outputs: Callable[[Sequence[InT]], list[dict[str, Any] | None]] | None = None
    # Marks every stored result of this task for regeneration (a staff prompt-version bump, llm.revisions);
    # returns how many results it marked.
    mark_stale: Callable[[], int] | None = None
    max_output_tokens: int = 2000
    temperature: float | None = 0.2
    description: str = ""
    schema: dict[str, Any] = field(init=False, repr=False, compare=False)
    schema_hash: str = field(init=False, repr=False, compare=False)
    # The request's `response_format`, built once: what `chat.completions.parse(response_format=
    # output_model)` sends on every call (shared: never mutate it).
    response_format: dict[str, Any] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.name or "/" in self.name:
            raise ValueError(f"bad task name {self.name!r}")
        if self.version < 1:
            raise ValueError("task versions start at 1")
        # Computed once: the strict schema the provider sees is part of the cache key.
        schema = to_strict_json_schema(self.output_model)
        object.__setattr__(self, "schema", schema)
        digest = hashlib.sha256(json.dumps(schema, sort_keys=True).encode()).hexdigest()[:16]
        object.__setattr__(self, "schema_hash", digest)
        json_schema = {"schema": schema, "name": self.output_model.__name__, "strict": True}
        object.__setattr__(self, "response_format", {"type": "json_schema", "json_schema": json_schema})

    @property
    def label(self) -> str:
        return f"{self.name}@v{self.version}"

    def quality_problems(self, task_input: InT, output: OutT) -> list[str]:
        """Every quality check's complaints about an output (empty: the output is fine)."""
        problems: list[str] = []
        for check in self.checks:
            problems.extend(check(task_input, output))
        return problems

    def fallback_output(self, task_input: InT) -> OutT:
        """The rule-based answer, validated like a model's answer (a broken fallback is a bug)."""
        output = self.fallback(task_input)
        return self.output_model.model_validate(output.model_dump())


_registry: dict[str, LLMTask] = {}


def register(task: LLMTask) -> LLMTask:
    """Make a task findable by name (batches store the name and look the task up at ingest)."""
    existing = _registry.get(task.name)
    if existing is not None and existing is not task:
        raise ValueError(f"two tasks are named {task.name!r}")
    _registry[task.name] = task
    return task


def get_task(name: str) -> LLMTask:
    try:
        return _registry[name]
    except KeyError:
        raise KeyError(f"no LLM task named {name!r}; registered: {sorted(_registry)}") from None


def registered_tasks() -> dict[str, LLMTask]:
    return dict(_registry)
