"""Per-job lines, shared by everyone who gets the job: cached per (job facts, language, prompt
version) in the Django cache (Redis in production) for EMAIL_GENERATION_CACHE_TTL.

A chunk of emails asks for all its jobs at once: one `get_many`, then the misses are generated
together through JOB_LINE (LINES_PER_CALL jobs a call, in bulk) and stored with one `set_many`.
A rule-based line (offline, provider down, a failed check) is cached for minutes only, so the
next run asks the model again; it never replaces a model line (a model line is kept on a miss race).
`lines_cache_clear()` moves a generation counter: every old key is forgotten at once.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, cast

from django.conf import settings
from django.core.cache import cache

from emails.jobmail.llm import JOB_LINE, LINES_PER_CALL, JobFacts, JobLineInput, Language, fallback_line
from emails.jobmail.selectors import JobInfo
from llm.runtime import run_many

FALLBACK_TTL = 600
_GENERATION_KEY = "emails:jobline:generation"


@dataclass
class LineStats:
    """What one `job_lines_get` did."""

    lookups: int = 0
    hits: int = 0
    generated: int = 0
    fallbacks: int = 0
    llm_calls: int = 0
    tokens: int = 0
    tokens_by_job: dict[tuple[int, str], int] = field(default_factory=dict)


def _facts(job: JobInfo) -> dict[str, Any]:
    """JobFacts' fields for a job, as `JobFacts.model_dump()` gives them."""
    return {
        "job_id": job.id,
        "title": job.title,
        "company": job.company,
        "location": job.location,
        "remote": job.remote,
        "salary": job.salary,
        "skills": list(job.skills[:6]),
        "excerpt": job.excerpt[:200],
    }


def job_facts(job: JobInfo) -> JobFacts:
    return JobFacts.model_validate(_facts(job))


def _generation() -> int:
    value = cache.get(_GENERATION_KEY)
    if value is None:
        cache.add(_GENERATION_KEY, 1, None)
        value = cache.get(_GENERATION_KEY) or 1
    return int(value)


@lru_cache(maxsize=50_000)
def _key(job: JobInfo, language: str, generation: int) -> str:
    """The cache key of a job's line: its facts (an edited posting gets a new line), language, prompt
    version and the cache generation. Memoized: every chunk of a run asks for the same jobs."""
    blob = json.dumps(_facts(job), sort_keys=True, ensure_ascii=False)
    digest = hashlib.sha256(blob.encode()).hexdigest()[:20]
    return f"emails:jobline:{generation}:v{JOB_LINE.version}:{language}:{job.id}:{digest}"


def lines_cache_clear() -> int:
    """Forget every cached line (a new generation); returns the generation left behind."""
    old = _generation()
    try:
        cache.incr(_GENERATION_KEY)
    except ValueError:  # evicted meanwhile
        cache.set(_GENERATION_KEY, old + 1, None)
    return old


def job_lines_get(
    *,
    wanted: Iterable[tuple[JobInfo, str]],
    mock: bool = False,
    concurrency: int | None = None,
    user_id: int | None = None,
) -> tuple[dict[tuple[int, str], tuple[str, bool]], LineStats]:
    """(job id, language) → (line, is_fallback) for every wanted pair; misses are generated.

    In mock mode nothing is sent to a provider or cached: every line is the rule-based one.
    """
    pairs = {(job.id, language): job for job, language in wanted}
    stats = LineStats(lookups=len(pairs))
    if mock:
        return {pair: (fallback_line(job_facts(job), pair[1]), True) for pair, job in pairs.items()}, stats
    generation = _generation()
    keys = {pair: _key(job, pair[1], generation) for pair, job in pairs.items()}
    found = cache.get_many(list(keys.values()))
    lines: dict[tuple[int, str], tuple[str, bool]] = {}
    missing: dict[str, list[tuple[int, str]]] = {"en": [], "ja": []}
    for pair, key in keys.items():
        value = found.get(key)
        if isinstance(value, dict) and isinstance(value.get("line"), str):
            lines[pair] = (value["line"], bool(value.get("fallback")))
            stats.hits += 1
        else:
            missing[pair[1]].append(pair)
    facts = {pair: job_facts(pairs[pair]) for todo in missing.values() for pair in todo}  # the misses only
    inputs = []
    for language, todo in missing.items():
        for start in range(0, len(todo), LINES_PER_CALL):
            chunk = todo[start : start + LINES_PER_CALL]
            task_input = JobLineInput(language=cast(Language, language), jobs=[facts[pair] for pair in chunk])
            inputs.append((chunk, task_input))
    if not inputs:
        return lines, stats
    # The layer's response cache is skipped: each job's line is cached here, per job (a packed
    # call's prompt would rarely repeat), and email_cache_clear() must really start cold.
    outcomes = run_many(
        JOB_LINE, [task_input for _, task_input in inputs], concurrency=concurrency, user_id=user_id, use_cache=False
    )
    fresh: dict[str, dict] = {}
    fallback_fresh: dict[str, dict] = {}
    for (chunk, task_input), outcome in zip(inputs, outcomes, strict=True):
        result = outcome.result
        stats.llm_calls += int(result is not None and result.attempts > 0)
        tokens = (result.tokens_in + result.tokens_out) if result is not None else 0
        stats.tokens += tokens
        for position, pair in enumerate(chunk):
            is_fallback = result is None or result.is_fallback
            if result is not None and not result.is_fallback:
                line = result.output.lines[position].strip()
            else:
                line = fallback_line(facts[pair], task_input.language)
            lines[pair] = (line, is_fallback)
            stats.generated += 1
            stats.fallbacks += int(is_fallback)
            stats.tokens_by_job[pair] = tokens // len(chunk)
            (fallback_fresh if is_fallback else fresh)[keys[pair]] = {"line": line, "fallback": is_fallback}
    if fresh:
        cache.set_many(fresh, settings.EMAIL_GENERATION_CACHE_TTL)
    for key, value in fallback_fresh.items():
        cache.add(key, value, FALLBACK_TTL)  # never over a model line another run just stored
    return lines, stats
