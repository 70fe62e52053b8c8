"""The llm layer: tasks run now, in bulk, or through a provider's Batch API (DESIGN.md §1, §4).

Domain apps use `llm.run`, `llm.run_many` and `llm.LLMTask`; only this package imports the SDK.

Fallback is for a person who is waiting: by default a call the provider cannot serve answers the
task's flagged rule-based fallback. Background work (bulk runs, schedules) passes
`defer_when_unavailable=True` to `run` / `run_many`: such a call is then recorded as `deferred`,
nothing is applied, and the caller leaves the item pending (`run` raises
`llm.errors.LLMDeferredError`; `run_many` returns outcomes with `deferred=True`).

The hot path: one uncached `run(task, input)` on PostgreSQL + Redis, from the call to the ledger row
1. `runtime.execute` builds the task's messages and the cache key (sha256 of provider, model, task
   name and version, schema and messages).
2. Cache read and admission, one Redis round trip: `cache.cache_get` runs `ADMIT`
   (`scripts.py`, one of the layer's three Lua scripts). A hit returns the stored output (status
   `cached`; go to 5). A miss also admits the request, all or nothing: breaker closed, no pause, a
   concurrency lease free, room in the shared RPM window (`limits.Admission`, asked for by
   `resilience.early_admission` once the provider is known to answer; else the attempt admits).
3. `resilience.resilient_call` → `_attempt`: `with governor.slot(...)` owns the slot until its
   `finally` releases it, whatever happens. Inside: `runtime._request` (a structured-output
   chat call: the task's ready body posted through the SDK client by `providers.chat_completion_post`,
   the answer validated by `runtime.chat_output`), tokens settled, errors classified. A retry backs
   off holding no slot, then admits again.
   Quota and auth errors open the breaker; a 429 pauses every process for its retry-after.
4. Release, one Redis pipeline: the lease goes, and with it the cache store (`CACHE_STORE`) and,
   only if the breaker had failures to forget, the breaker's writes.
5. `runtime.finish` → `ledger.llm_call_record`: one INSERT of the `LLMCall` row with every attempt's
   billed tokens, committed at once and never inside the caller's transaction; then the task's apply.
So an uncached call costs two Redis round trips and one query; a hit one and one. Without Redis (or
while it is away) the same steps run on process memory (`redis.py`). `python manage.py
llm_benchmark --simulator --json` measures the overhead, round trips and functions per call.
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
