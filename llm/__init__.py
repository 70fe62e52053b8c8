"""The llm layer: tasks run now, in bulk, or through a provider's Batch API (DESIGN.md §1, §4).

Domain apps use `llm.run`, `llm.run_many` and `llm.LLMTask`; only this package imports the SDK.

Fallback is for a person who is waiting: by default a call the provider cannot serve answers the
task's flagged rule-based fallback. Background work (bulk runs, schedules) passes
`defer_when_unavailable=True` to `run` / `run_many`: such a call is then recorded as `deferred`,
nothing is applied, and the caller leaves the item pending (`run` raises
`llm.errors.LLMDeferredError`; `run_many` returns outcomes with `deferred=True`).
"""

from typing import Any

__all__ = ["LLMTask", "Provenance", "run", "run_many", "register"]


def __getattr__(name: str) -> Any:
    # Lazy: importing the runtime needs Django's apps to be ready; `import llm` must not.
    if name in ("run", "run_many"):
        from llm import runtime

        return getattr(runtime, name)
    if name in ("LLMTask", "Provenance", "register"):
        from llm import task

        return getattr(task, name)
    raise AttributeError(name)
