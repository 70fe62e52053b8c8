"""Seed 001's Python surface over the llm layer, for callers that used its `AIDescriptionGenerator`.

A thin class: the work (cache, limits, retries, breaker, fallback, ledger) is the llm layer's, and
the names and return shapes are the seed's. The methods are synchronous (the seed's were
coroutines): call them from a worker thread or wrap them with `asgiref.sync.sync_to_async`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from catalog.datasets.llm import FIELD_DESCRIPTION, FieldInput
from llm.cache import cache_clear
from llm.metrics import get_metrics, metrics_reset
from llm.requests import run_for_request
from llm.runtime import run_many

SEED_FIELD_KEYS = ("field_path", "field_name", "data_type", "semantic_type", "sample_values")


def _field_input(values: Mapping[str, Any]) -> FieldInput:
    data: dict[str, Any] = {key: values.get(key) for key in SEED_FIELD_KEYS if values.get(key) is not None}
    data["sample_values"] = [str(v) for v in data.get("sample_values", [])][:10]
    return FieldInput(**data)


class AIDescriptionGenerator:
    """`generate_description(...)` → (description, business_name); `generate_batch(fields)` → a list
    of those; `get_metrics()`, `clear_cache()`, `reset_metrics()` as in the seed.

    `allow_fallback=False` makes a provider failure raise (429/503-mapped errors from
    `llm.requests`) instead of returning the flagged rule-based description.
    """

    def __init__(self, *, allow_fallback: bool = True, concurrency: int | None = None, user_id: int | None = None):
        self.allow_fallback = allow_fallback
        self.concurrency = concurrency
        self.user_id = user_id

    def generate_description(
        self,
        field_path: str,
        field_name: str,
        data_type: str,
        semantic_type: str | None = None,
        sample_values: Iterable[Any] | None = None,
    ) -> tuple[str, str]:
        field = _field_input(
            {
                "field_path": field_path,
                "field_name": field_name,
                "data_type": data_type,
                "semantic_type": semantic_type,
                "sample_values": list(sample_values or []),
            }
        )
        result = run_for_request(FIELD_DESCRIPTION, field, allow_fallback=self.allow_fallback, user_id=self.user_id)
        return result.output.description, result.output.business_name

    def generate_batch(self, fields: Iterable[Mapping[str, Any]]) -> list[tuple[str, str]]:
        """All fields concurrently under the shared limits (OPENAI_MAX_CONCURRENT_REQUESTS), in order."""
        inputs = [_field_input(values) for values in fields]
        outcomes = run_many(FIELD_DESCRIPTION, inputs, concurrency=self.concurrency, user_id=self.user_id)
        results = []
        for outcome in outcomes:
            output = outcome.result.output if outcome.result else FIELD_DESCRIPTION.fallback_output(outcome.task_input)
            results.append((output.description, output.business_name))
        return results

    def get_metrics(self) -> dict[str, Any]:
        """The llm layer's metrics since the last reset, with the seed's keys (every task counts)."""
        return get_metrics()

    def clear_cache(self) -> int:
        """Drop the cached field descriptions (other tasks keep theirs); how many were dropped."""
        return cache_clear(task_name=FIELD_DESCRIPTION.name)

    def reset_metrics(self) -> None:
        metrics_reset()
