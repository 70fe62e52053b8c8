"""The llm layer: tasks run now, in bulk, or through a provider's Batch API (DESIGN.md §1, §4).

Domain apps use `llm.run`, `llm.run_many` and `llm.LLMTask`; only this package imports the SDK.
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
