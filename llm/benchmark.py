"""The llm layer benchmark: bulk throughput under limits and faults, and the layer's own overhead.

Runs a small structured task of its own (a label and a sentence for a data field, the size of a
data dictionary call) through `run_many` against the configured provider, or against an in-process
simulator, and reports figures from the ledger.
"""

from __future__ import annotations

import dataclasses
import math
import statistics
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

import httpx2
import openai
from django.db.models import Count, Q, Sum
from django.test import override_settings
from django.utils import timezone
from pydantic import BaseModel, Field

from llm.models import LLMCall
from llm.providers import ProviderConfig, clients_reset, provider_config, use_transport
from llm.runtime import chat_request_fields, run, run_many
from llm.task import LLMTask, Message, Provenance


class FieldInput(BaseModel):
    field_path: str = Field(max_length=300)
    field_name: str = Field(max_length=120)
    data_type: str = Field(max_length=40)
    semantic_type: str | None = None
    sample_values: list[str] = Field(default_factory=list, max_length=10)


class FieldDescription(BaseModel):
    business_name: str = Field(description="A short human name for the field, Title Case, at most 60 characters.")
    description: str = Field(description="One sentence saying what the field holds, at most 300 characters.")


def _messages(field: FieldInput) -> list[Message]:
    samples = ", ".join(repr(v[:80]) for v in field.sample_values[:5]) or "none"
    return [
        {"role": "system", "content": "You write data dictionary entries. Be factual and concise."},
        {
            "role": "user",
            "content": (
                f"Field path: {field.field_path}\nField name: {field.field_name}\nData type: {field.data_type}\n"
                f"Semantic type: {field.semantic_type or 'unknown'}\nSample values: {samples}\n"
                "Give a business name and a one-sentence description."
            ),
        },
    ]


def _fallback(field: FieldInput) -> FieldDescription:
    name = field.field_name.replace("_", " ").title()[:60]
    return FieldDescription(business_name=name, description=f"{name}, stored as {field.data_type}.")


# The layer's own benchmark task (llm owns no domain task); not registered: nothing batches it.
BENCHMARK_TASK: LLMTask = LLMTask(
    name="llm_benchmark",
    version=1,
    input_model=FieldInput,
    output_model=FieldDescription,
    build_messages=_messages,
    fallback=_fallback,
    max_output_tokens=200,
    description="Benchmark: a label and a sentence for a data field.",
)


def _inputs(count: int, nonce: str) -> list[FieldInput]:
    return [
        FieldInput(
            field_path=f"bench_{nonce}.record_{i}.customer_email_{i}",
            field_name=f"customer_email_{i}",
            data_type="string",
            semantic_type="email_address",
            sample_values=[f"user{i}@example.com"],
        )
        for i in range(count)
    ]


def _percentile(values: list[float], fraction: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def _fresh_base_url() -> str:
    """A base URL no earlier run used: breaker, limits and probe state are per provider host and
    shared through Redis, so a fresh simulator must not inherit a previous run's open circuit."""
    return f"http://sim-{uuid.uuid4().hex[:12]}.invalid/v1"


@contextmanager
def _simulated(sim_options: dict[str, Any] | None) -> Iterator[Any]:
    """Point the layer at a fresh in-process simulator (yielded) when options are given; else change nothing."""
    if sim_options is None:
        yield None
        return
    from llm.simulator import Simulator

    sim = Simulator(**sim_options)
    try:
        with (
            override_settings(LLM_PROVIDER="openai", OPENAI_API_KEY="sk-benchmark", OPENAI_BASE_URL=_fresh_base_url()),
            use_transport(sim.transport()),
        ):
            yield sim
    finally:
        sim.close()
        clients_reset()


def bulk_run(*, requests: int, concurrency: int) -> dict[str, Any]:
    """One bulk run of `requests` distinct inputs; figures from the ledger rows it wrote."""
    applied: Counter[str] = Counter()
    lock = threading.Lock()

    def count_apply(task_input: FieldInput, output: FieldDescription, provenance: Provenance) -> None:
        with lock:
            applied[task_input.field_path] += 1

    task: LLMTask = dataclasses.replace(BENCHMARK_TASK, name="benchmark_field_description", apply=count_apply)
    nonce = uuid.uuid4().hex[:8]
    since = timezone.now()
    started_at = time.monotonic()
    outcomes = run_many(task, _inputs(requests, nonce), concurrency=concurrency)
    wall_s = time.monotonic() - started_at

    rows = LLMCall.objects.filter(task=task.name, created_at__gte=since)
    totals = rows.aggregate(
        attempts=Sum("attempts"),
        rate_limited=Sum("rate_limit_errors"),
        succeeded_rows=Count("id", filter=Q(status=LLMCall.Status.SUCCEEDED)),
        cache_hits=Count("id", filter=Q(status=LLMCall.Status.CACHED)),
    )
    latencies = [float(ms) for ms in rows.filter(status=LLMCall.Status.SUCCEEDED).values_list("latency_ms", flat=True)]
    succeeded = sum(1 for o in outcomes if o.result is not None and not o.result.is_fallback)
    fallbacks = sum(1 for o in outcomes if o.result is not None and o.result.is_fallback)
    return {
        "requests": requests,
        "succeeded": succeeded,
        "failed": requests - succeeded - fallbacks,
        "fallbacks": fallbacks,
        "wall_s": round(wall_s, 3),
        "requests_per_s": round(requests / wall_s, 2) if wall_s else 0.0,
        "attempts": totals["attempts"] or 0,
        "rate_limited": totals["rate_limited"] or 0,
        "cache_hits": totals["cache_hits"],
        "ledger_succeeded_rows": totals["succeeded_rows"],
        "applied_twice": sum(1 for n in applied.values() if n > 1),
        "p50_ms": _percentile(latencies, 0.5),
        "p95_ms": _percentile(latencies, 0.95),
    }


def _timed(fn: Callable[[], Any], repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def overhead(*, samples: int = 200) -> dict[str, float | int]:
    """What the layer adds per call over a plain structured-output call, on one zero-latency transport.

    The baseline is what an application without the layer would do for the same answer: build the
    task's messages, send the same request body with the SDK (`chat.completions.create`, the
    task's strict `response_format`), and validate the answer against the output model. Paired
    samples (a baseline call, then a layer call, each on a fresh input) give the overhead's median
    and p95. The same body posted with plain httpx and read with `json` is timed too, as the floor
    any client pays (`raw_http_ms_per_call`, `overhead_vs_http_ms_median`). Then cache hits are
    timed, and one uncached call and one hit are counted: Redis round trips (commands and
    pipelines) and the distinct project functions a profile of the call sees (this project's code,
    the simulator standing in for the provider aside). Uses whatever cache/database is configured
    (so run it on PostgreSQL + Redis for the target).
    """
    task = BENCHMARK_TASK
    with _simulated({"seed": 7}) as sim:
        config: ProviderConfig = provider_config()
        raw_client = openai.OpenAI(
            api_key="sk-benchmark", http_client=httpx2.Client(transport=sim.transport()), max_retries=0
        )
        http_client = httpx2.Client(
            transport=sim.transport(), base_url=str(raw_client.base_url), headers={"Authorization": "Bearer sk-bench"}
        )
        nonce = uuid.uuid4().hex[:8]
        sdk_inputs = iter(_inputs(samples, "sdk" + nonce))
        http_inputs = iter(_inputs(samples, "http" + nonce))
        layer_inputs = _inputs(samples, "layer" + nonce)
        counted_inputs = iter(_inputs(_COUNTED_CALLS + 1, "counted" + nonce))
        layer_iter = iter(layer_inputs)

        def body(field: FieldInput) -> dict[str, Any]:
            # What the layer sends (llm/runtime.py `_request`).
            return {**chat_request_fields(config=config, task=task), "messages": task.build_messages(field)}

        def sdk_call() -> None:
            completion = raw_client.chat.completions.create(**cast("Any", body(next(sdk_inputs))))
            task.output_model.model_validate_json(completion.choices[0].message.content or "")

        def http_call() -> None:
            response = http_client.post("chat/completions", json=body(next(http_inputs)))
            response.raise_for_status()
            task.output_model.model_validate_json(response.json()["choices"][0]["message"]["content"])

        def layer_call() -> None:
            run(task, next(layer_iter), apply=False)

        # Warm every path (connection pools, imports, first queries) before timing.
        for warm in (sdk_call, http_call, layer_call):
            warm()
        # Interleaved triples: drift in machine load hits every side of each sample alike.
        sdk_ms, http_ms, layer_ms, diffs, http_diffs = [], [], [], [], []
        for _ in range(samples - 1):
            sdk_sample = _timed(sdk_call, 1)[0]
            http_sample = _timed(http_call, 1)[0]
            layer_sample = _timed(layer_call, 1)[0]
            sdk_ms.append(sdk_sample)
            http_ms.append(http_sample)
            layer_ms.append(layer_sample)
            diffs.append(layer_sample - sdk_sample)
            http_diffs.append(layer_sample - http_sample)
        hit_input = layer_inputs[1]
        cache_hit_ms = _timed(lambda: run(task, hit_input, apply=False), samples)
        with redis_round_trips() as trips:
            for _ in range(_COUNTED_CALLS):
                run(task, next(counted_inputs), apply=False)
        uncached_trips = len(trips) / _COUNTED_CALLS
        with redis_round_trips() as trips:
            run(task, hit_input, apply=False)
        hit_trips = len(trips)
        functions = _project_functions(lambda: run(task, next(counted_inputs), apply=False))
        raw_client.close()
        http_client.close()
    return {
        "raw_sdk_ms_per_call": round(statistics.median(sdk_ms), 3),
        "raw_http_ms_per_call": round(statistics.median(http_ms), 3),
        "layer_ms_per_call": round(statistics.median(layer_ms), 3),
        "overhead_ms_median": round(statistics.median(diffs), 3),
        "overhead_ms_p95": round(_percentile(diffs, 0.95), 3),
        "overhead_vs_http_ms_median": round(statistics.median(http_diffs), 3),
        "cache_hit_ms_median": round(statistics.median(cache_hit_ms), 3),
        "redis_round_trips_per_call": round(uncached_trips, 2),
        "redis_round_trips_per_cache_hit": hit_trips,
        "functions_per_call": functions,
    }


# Uncached calls whose Redis round trips are counted (their mean is reported).
_COUNTED_CALLS = 20


@contextmanager
def redis_round_trips() -> Iterator[list[str]]:
    """Count the Redis round trips made meanwhile: each command, script or pipeline is one."""
    import redis

    counted: list[str] = []
    command, pipeline_execute = redis.Redis.execute_command, redis.client.Pipeline.execute

    def counting_command(self: Any, *args: Any, **options: Any) -> Any:
        counted.append(str(args[0]))
        return command(self, *args, **options)

    def counting_pipeline(self: Any, *args: Any, **options: Any) -> Any:
        counted.append("PIPELINE")
        return pipeline_execute(self, *args, **options)

    redis.Redis.execute_command = counting_command  # type: ignore[method-assign]
    redis.client.Pipeline.execute = counting_pipeline  # type: ignore[method-assign]
    try:
        yield counted
    finally:
        redis.Redis.execute_command = command  # type: ignore[method-assign]
        redis.client.Pipeline.execute = pipeline_execute  # type: ignore[method-assign]


def _project_functions(call: Callable[[], Any]) -> int:
    """Distinct functions of this project (not the simulator faking the provider) one call runs."""
    import cProfile
    import pstats

    from django.conf import settings

    root = str(settings.BASE_DIR)
    simulator = str(Path(root) / "llm" / "simulator")
    profile = cProfile.Profile()
    profile.runcall(call)
    stats = cast("dict[tuple[str, int, str], Any]", pstats.Stats(profile).stats)  # type: ignore[attr-defined]
    return sum(1 for filename, _, _ in stats if filename.startswith(root) and not filename.startswith(simulator))


def benchmark_run(
    *,
    requests: int,
    concurrency: int,
    repeat: int = 1,
    sim_options: dict[str, Any] | None = None,
    measure_overhead: bool = True,
) -> dict[str, Any]:
    """`repeat` bulk runs (medians reported, every run kept) plus the overhead figures."""
    runs = []
    for _ in range(repeat):
        with _simulated(sim_options):
            runs.append(bulk_run(requests=requests, concurrency=concurrency))
    result: dict[str, Any] = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
    result["provider"] = "simulator" if sim_options is not None else provider_config().name
    result["concurrency"] = concurrency
    if measure_overhead:
        result.update(overhead())
    if repeat > 1:
        result["runs"] = runs
    return result


# --- many processes, one limit --------------------------------------------------------------------


def run_share(
    *, index: int, requests: int, concurrency: int, task_name: str, nonce: str, start: Any, queue: Any
) -> None:
    """One process's part of `processes_run` (llm/benchmark_process.py sets Django up first)."""
    task: LLMTask = dataclasses.replace(BENCHMARK_TASK, name=task_name)
    inputs = _inputs(requests, f"{nonce}p{index}")
    queue.put(("ready", index, None))
    start.wait()
    outcomes = run_many(task, inputs, concurrency=concurrency)
    succeeded = sum(1 for o in outcomes if o.result is not None and not o.result.is_fallback)
    queue.put(("done", index, {"requests": requests, "succeeded": succeeded}))


def processes_run(
    *,
    processes: int,
    requests: int,
    concurrency: int,
    rpm: int,
    latency_ms: int,
    kill_one_after: float | None = None,
    seed: int = 0,
) -> dict[str, Any]:
    """`processes` OS processes share one limit: a loopback simulator enforcing `rpm` (per second, as
    OpenAI does), each process running `run_many` on its share of `requests` with the limit configured
    (OPENAI_RATE_LIMIT_RPM) and the shared budget in Redis. Throughput is counted from the ledger
    between the start signal and the last success. With `kill_one_after`, process 0 is killed
    (SIGKILL) that many seconds in: its leases expire and the others take its share; the figures
    say how soon the per-second rate is back at 95 % of the limit.
    """
    import multiprocessing

    from llm.benchmark_process import process_main
    from llm.simulator import Simulator, SimulatorConfig, serve

    nonce = uuid.uuid4().hex[:8]
    task_name = f"benchmark_processes_{nonce}"
    shares = [requests // processes + (1 if i < requests % processes else 0) for i in range(processes)]
    limit_per_s = rpm / 60
    context = multiprocessing.get_context("spawn")
    start, queue = context.Event(), context.Queue()
    sim = Simulator(SimulatorConfig(seed=seed, latency_ms=latency_ms, rpm=rpm, rate_window_s=1.0))
    with sim, serve(sim) as base_url:
        env = {
            "OPENAI_API_KEY": "sk-benchmark",
            "OPENAI_BASE_URL": base_url,
            "OPENAI_RATE_LIMIT_RPM": str(rpm),
            "LLM_PROVIDER": "openai",
        }
        workers = [
            context.Process(
                target=process_main,
                args=(i, shares[i], concurrency, env, task_name, nonce, start, queue),
                name=f"llm-benchmark-{i}",
            )
            for i in range(processes)
        ]
        for worker in workers:
            worker.start()
        for _ in workers:  # every process has set Django up before the clock starts
            queue.get(timeout=180)
        since = timezone.now()
        started = time.monotonic()
        start.set()
        killed_at = None
        if kill_one_after is not None:
            time.sleep(kill_one_after)
            workers[0].kill()
            killed_at = time.monotonic() - started
        reports: dict[int, dict[str, int]] = {}
        alive = len(workers) - (1 if killed_at is not None else 0)
        while len(reports) < alive:
            kind, index, report = queue.get(timeout=600)
            if kind == "done":
                reports[index] = report
        for worker in workers:
            worker.join(timeout=30)
        stats = sim.stats
    rows = LLMCall.objects.filter(task=task_name, created_at__gte=since)
    totals = rows.aggregate(
        rate_limited=Sum("rate_limit_errors"),
        attempts=Sum("attempts"),
        succeeded=Count("id", filter=Q(status=LLMCall.Status.SUCCEEDED)),
    )
    done_at = sorted(
        (created - since).total_seconds()
        for created in rows.filter(status=LLMCall.Status.SUCCEEDED).values_list("created_at", flat=True)
    )
    wall_s = done_at[-1] if done_at else 0.0
    per_second = Counter(int(t) for t in done_at)
    result: dict[str, Any] = {
        "processes": processes,
        "requests": requests,
        "concurrency_per_process": concurrency,
        "limit_rpm": rpm,
        "sim_latency_ms": latency_ms,
        "succeeded": totals["succeeded"],
        "expected": sum(report["requests"] for report in reports.values()),
        "lost": sum(report["requests"] - report["succeeded"] for report in reports.values()),
        "attempts": totals["attempts"] or 0,
        "rate_limited_attempts": totals["rate_limited"] or 0,
        "sim_429": sum(counter.get("429", 0) for counter in stats.values()),
        "wall_s": round(wall_s, 2),
        "requests_per_s": round(len(done_at) / wall_s, 2) if wall_s else 0.0,
        "share_of_limit": round(len(done_at) / wall_s / limit_per_s, 3) if wall_s else 0.0,
    }
    if killed_at is not None:
        # Seconds after the kill until a whole second again completes >= 95 % of the limit.
        last = int(wall_s)
        recovered = next(
            (s - killed_at for s in range(math.ceil(killed_at), last) if per_second[s] >= 0.95 * limit_per_s), None
        )
        after = [t for t in done_at if t >= killed_at + (recovered or 0)]
        result.update(
            {
                "killed_after_s": round(killed_at, 2),
                "killed_process_requests": shares[0],
                "recovered_after_s": round(recovered, 2) if recovered is not None else None,
                "share_of_limit_after_recovery": round(
                    len(after) / (wall_s - killed_at - (recovered or 0)) / limit_per_s, 3
                )
                if after and wall_s > killed_at + (recovered or 0)
                else None,
                "per_second_after_kill": [per_second[s] for s in range(int(killed_at), last + 1)],
            }
        )
    clients_reset()
    return result
