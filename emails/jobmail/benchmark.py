"""The job email benchmark: synthetic people, jobs, scores and engagement in the database, then
`emails_generate_batch` for all of them against the in-process simulator (latency, concurrency).

Prints wall time, LLM calls, tokens per email (the per-person JOB_EMAIL call; and with the shared
job lines amortized over the emails), the cache hit rate and peak RSS. The simulator runs as the
`openai` provider with the unpriced model "benchmark-sim", in-process (its CPU shares our GIL) or,
with `server=True`, in its own process on a loopback port like a real provider. Synthetic rows are
deleted at the end.
"""

from __future__ import annotations

import os
import random
import resource
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from catalog.models import JobListing
from emails.jobmail.services import email_cache_clear, emails_generate_batch
from emails.models import Email
from llm.providers import clients_reset
from profiles.matching.benchmark import CITIES, ROLES, SKILLS, simulated_provider
from profiles.matching.llm.job_score import SCORE_VERSION
from profiles.models import JobScore, UserProfile

# The simulator answers in Japanese whenever a prompt contains Japanese, so Japanese job titles would
# make every English email fail its "write in English" check (a real model follows the instruction).
ENGLISH_ROLES = [role for role in ROLES if role.isascii()]
ENGLISH_CITIES = [city for city in CITIES if city.isascii()]
UNUSABLE = "!"  # Django's marker for "no password": these people never log in


def _skills(rng: random.Random, low: int, high: int) -> list[str]:
    picks = rng.choices(SKILLS, weights=[1.0 / (1 + i * 0.15) for i in range(len(SKILLS))], k=rng.randint(low, high))
    return list(dict.fromkeys(picks))


def _create(rng: random.Random, *, tag: str, people: int, jobs: int, scores_per_person: int) -> list[int]:
    now = timezone.now()
    listings = []
    for n in range(jobs):
        city = rng.choice(ENGLISH_CITIES)
        listings.append(
            JobListing(
                guid=f"{tag}-job-{n}",
                title=f"{rng.choice(ENGLISH_ROLES)} {n}",
                company=f"Company {rng.randint(1, 500)}",
                location=city,
                remote=city.startswith("Remote"),
                salary_min=4_000_000,
                salary_max=6_000_000,
                salary_currency="JPY",
                description="We build products used by millions. Stack and culture details follow.",
                url=f"https://jobs.example.com/{tag}/{n}",
                skills=_skills(rng, 3, 7),
                is_editorial_pick=n < 12,
                application_count=rng.randint(0, 20) if n % 7 == 0 else 0,
                click_count=rng.randint(0, 50) if n % 5 == 0 else 0,
            )
        )
    JobListing.objects.bulk_create(listings, batch_size=2000)
    job_ids = list(JobListing.objects.filter(guid__startswith=f"{tag}-job-").values_list("id", flat=True))
    # Spread ingestion over the last 30 days: a quarter is this week's new arrivals.
    for n, job_id in enumerate(job_ids):
        JobListing.objects.filter(pk=job_id).update(created_at=now - timedelta(days=(n % 30) + rng.random()))
    user_model = get_user_model()
    users = user_model.objects.bulk_create(
        [user_model(username=f"{tag}-u{n}", email=f"{tag}-u{n}@example.com", password=UNUSABLE) for n in range(people)],
        batch_size=2000,
    )
    if users and users[0].pk is None:
        users = list(user_model.objects.filter(username__startswith=f"{tag}-u").order_by("id"))
    profiles = []
    for n, user in enumerate(users):
        japanese = n % 2 == 1
        skills = _skills(rng, 4, 10)
        profiles.append(
            UserProfile(
                owner=user,
                user_id=f"{tag}-u{n}",
                full_name=f"山田 太郎{n}" if japanese else f"Pat Example{n}",
                email=user.email,
                language="ja" if japanese else "en",
                time_zone="Asia/Tokyo" if japanese else "Europe/London",
                location=rng.choice(ENGLISH_CITIES),
                years_of_experience=round(rng.uniform(0, 5), 1),
                programming_languages=skills[: len(skills) // 2],
                tools_platforms=skills[len(skills) // 2 :],
                desired_roles=rng.sample(ENGLISH_ROLES, k=1),
            )
        )
    UserProfile.objects.bulk_create(profiles, batch_size=2000)
    mine = UserProfile.objects.filter(user_id__startswith=f"{tag}-u").order_by("id")
    profile_ids = list(mine.values_list("id", flat=True))
    scores = []
    for profile_id in profile_ids:
        for job_id in rng.sample(job_ids, k=min(scores_per_person, len(job_ids))):
            applied = rng.random() < 0.03
            scores.append(
                JobScore(
                    profile_id=profile_id,
                    job_id=job_id,
                    compatibility_score=round(rng.uniform(60, 98), 1),
                    confidence_score=0.7,
                    score_version=SCORE_VERSION,
                    user_applied=applied,
                    user_interested=True if applied or rng.random() < 0.05 else None,
                    user_feedback_at=now - timedelta(days=rng.randint(0, 6)) if applied else None,
                )
            )
    JobScore.objects.bulk_create(scores, batch_size=5000)
    return profile_ids


@contextmanager
def simulator_server(*, latency_ms: int, model: str = "benchmark-sim") -> Iterator[None]:
    """The simulator in its own process on a loopback port, as the `openai` provider: its CPU is
    not ours (a real provider's isn't either), and every call crosses a real socket."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, str(settings.BASE_DIR / "manage.py"), "llm_simulator", "--port", str(port)]
    server = subprocess.Popen(  # noqa: S603 - our own manage.py, fixed arguments
        [*command, "--latency-ms", str(latency_ms)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        for _ in range(300):
            with socket.socket() as client:
                if client.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.1)
        with override_settings(
            LLM_PROVIDER="openai",
            OPENAI_API_KEY="sk-local",
            OPENAI_BASE_URL=f"http://127.0.0.1:{port}/v1",
            OPENAI_MODEL=model,
        ):
            clients_reset()
            yield
    finally:
        server.terminate()
        server.wait(timeout=10)
        clients_reset()


def _cleanup(tag: str) -> None:
    users = get_user_model().objects.filter(username__startswith=f"{tag}-u")
    # Only ids into memory (the cascade would otherwise load every email's HTML).
    Email.objects.filter(recipient__in=users).only("id").delete()
    JobListing.objects.filter(guid__startswith=f"{tag}-job-").delete()
    users.delete()


def _cpu_s() -> float:
    """CPU seconds of this process so far, every thread (user + system): less sensitive to a busy
    machine than wall time."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def emails_benchmark(
    *,
    emails: int,
    concurrency: int,
    latency_ms: int,
    jobs: int = 400,
    scores_per_person: int = 12,
    warm: bool = False,
    send: bool = False,
    server: bool = False,
    seed: int = 7,
    say: Callable[[str], None] = lambda line: None,
) -> dict[str, Any]:
    """Create the data, generate `emails` job emails through the simulator; the figures as a dict."""
    rng = random.Random(seed)
    tag = f"mailbench{uuid.uuid4().hex[:6]}"
    result: dict[str, Any] = {"emails": emails, "jobs": jobs, "concurrency": concurrency, "latency_ms": latency_ms}
    result["database"] = connection.vendor
    try:
        started = time.perf_counter()
        profile_ids = _create(rng, tag=tag, people=emails, jobs=jobs, scores_per_person=scores_per_person)
        result["setup_s"] = round(time.perf_counter() - started, 2)
        say(f"created {jobs} jobs, {len(profile_ids)} people ({scores_per_person} scores each) in {result['setup_s']}s")
        email_cache_clear()
        provider = (
            simulator_server(latency_ms=latency_ms)
            if server
            else simulated_provider(model="benchmark-sim", latency_ms=latency_ms)
        )
        with (
            provider,
            # DEBUG would keep every SQL statement (with each email's HTML) in memory.
            override_settings(OPENAI_MAX_CONCURRENT_REQUESTS=concurrency, OPENAI_RATE_LIMIT_RPM=0, DEBUG=False),
        ):
            if warm:
                say("warming the shared job lines (a first pass whose emails are then deleted) ...")
                emails_generate_batch(profile_ids=profile_ids, concurrency=concurrency)
                Email.objects.filter(recipient__username__startswith=f"{tag}-u").delete()
            say(f"generating {len(profile_ids)} emails, concurrency {concurrency}, latency {latency_ms} ms ...")
            cpu_before, main_before = _cpu_s(), time.thread_time()
            summary = emails_generate_batch(profile_ids=profile_ids, concurrency=concurrency, send=send)
            cpu_s, main_cpu_s = round(_cpu_s() - cpu_before, 2), round(time.thread_time() - main_before, 2)
        result.update(
            wall_s=summary.wall_s,
            # The process's CPU during the run: ours, the LLM layer's workers and (in-process) the simulator's.
            cpu_s=cpu_s,
            cpu_s_calling_thread=main_cpu_s,  # selection, rendering, ledger rows and applies (the rest: workers)
            load_average=round(os.getloadavg()[0], 2),
            generated=summary.generated,
            llm_calls=summary.llm_calls + summary.line_calls,
            llm_calls_email=summary.llm_calls,
            llm_calls_lines=summary.line_calls,
            tokens_per_email_median=summary.tokens_per_email_median,
            tokens_per_email_with_lines=round(summary.total_tokens / max(1, summary.generated), 1),
            total_tokens=summary.total_tokens,
            cache_hit_rate=summary.cache_hit_rate,
            line_lookups=summary.line_lookups,
            line_cache_hits=summary.line_hits,
            fallbacks=summary.fallbacks,
            line_fallbacks=summary.line_fallbacks,
            failed=summary.failed,
            sent=summary.sent,
            warm_lines=warm,
            peak_rss_mb=_peak_rss_mb(),  # before clean-up (deleting the synthetic rows costs memory of its own)
            provider="simulator ("
            + ("own process, loopback socket" if server else "in-process")
            + ", openai-compatible, model benchmark-sim: unpriced)",
        )
    finally:
        _cleanup(tag)
    return result
