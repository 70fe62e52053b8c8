"""The llm layer: tasks run now, in bulk, or through a provider's Batch API (DESIGN.md §1, §4).

Domain apps use `llm.run`, `llm.run_many` and `llm.LLMTask`; only this package imports the SDK.

Fallback is for a person who is waiting: by default a call the provider cannot serve answers the
task's flagged rule-based fallback. Background work (bulk runs, schedules) passes
`defer_when_unavailable=True` to `run` / `run_many`: such a call is then recorded as `deferred`,
nothing is applied, and the caller leaves the item pending (`run` raises
`llm.errors.LLMDeferredError`; `run_many` returns outcomes with `deferred=True`).

The hot path: one uncached `run(task, input)` on PostgreSQL + Redis, from the call to the ledger row
1. `runtime.run` → `runtime.execute` (no database): the task's messages, and the cache key (sha256
   of provider, model, task name and version, schema and messages).
2. `with resilience.call_slot(...) as call:` opens the call's `limits.CallSlot`, the one owner of
   its rate-governor slot from admission to release: it holds at most one slot at a time, and its
   exit frees whatever it still holds, however the call ends.
3. Cache read and admission, one Redis round trip: `cache.cache_get(key=..., call=call)` runs
   `ADMIT` (`scripts.py`, one of the layer's three Lua scripts). A hit returns the stored output
   (status `cached`, no slot taken; go to 6). On a miss, for a provider known to answer, the same
   script admits the first attempt, all or nothing: breaker closed, no pause, a concurrency lease
   free, room in the shared RPM window. The call now holds that slot.
4. `resilience.resilient_call(call=call)`: each attempt is `with call.attempt(...) as lease:` (the
   slot taken with the read, or a fresh `ADMIT`). Inside: `runtime._request` (the task's ready
   body posted through the SDK client by `providers.chat_completion_post`, the answer validated by
   `runtime.chat_output`; the HTTP client's request hook tells the slot when the request left, and
   one that left late is re-stamped in the RPM window, one more round trip for it alone), tokens
   settled, quality checked; an accepted answer queues the cache
   store (`CACHE_STORE`) and, only if the breaker had failures to forget, the breaker's writes on
   the lease. The block's end releases the slot, one Redis pipeline with what was queued on it.
   Then errors are classified: a retry backs off holding no slot and its attempt admits again;
   quota and auth errors open the breaker; a 429 pauses every process for its retry-after.
5. The `with` of step 2 ends: a slot taken with the read and never used (a caller that had to wait
   for the provider's probe, an error before the first attempt) is freed there.
6. `runtime.finish` → `ledger.llm_call_record`, after the release: one INSERT of the `LLMCall` row
   with every attempt's billed tokens (a hit's row too, with none), committed at once and never
   inside the caller's transaction; then the task's apply, which may store the row's id.
So an uncached call costs two Redis round trips and one query; a hit one and one. Rows are not
buffered: a buffer dies with its process (a killed worker; Celery's pool children exit without
`atexit`), and a domain row may already store the id of the call's row (see `ledger.py`). Without
Redis (or while it is away) the same steps run on process memory (`redis.py`). `python manage.py
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
