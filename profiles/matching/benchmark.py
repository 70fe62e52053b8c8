"""The matching benchmark: synthetic people and jobs in the database, the prefilter timed and its
queries counted (at N and 2N people), then the LLM stage through an in-process simulator.

The simulator is the `openai` provider with the model name "benchmark-sim", which has no price:
the ledger rows it leaves cost $0 and don't distort `llm_costs`. Synthetic rows are deleted at the
end (ledger rows stay: the ledger is never edited).
"""

from __future__ import annotations

import random
import resource
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.models import Count
from django.test import override_settings
from django.utils import timezone

from catalog.models import JobListing
from llm.models import LLMCall
from llm.providers import clients_reset, use_transport
from profiles.matching.llm.job_score import JOB_SCORE
from profiles.matching.services.scoring import job_scores_prefilter, job_scores_run
from profiles.models import JobScore, UserProfile

SKILLS = [
    "Python", "JavaScript", "TypeScript", "Java", "Go", "SQL", "C++", "C#", "Ruby", "PHP", "Kotlin", "Swift",
    "React", "Vue.js", "Angular", "Next.js", "Node.js", "Django", "Flask", "FastAPI", "Spring", "Ruby on Rails",
    "Laravel", ".NET", "Flutter", "TensorFlow", "PyTorch", "pandas", "scikit-learn", "Apache Spark",
    "AWS", "GCP", "Azure", "Docker", "Kubernetes", "Terraform", "Linux", "Git", "PostgreSQL", "MySQL",
    "MongoDB", "Redis", "Kafka", "BigQuery", "Tableau", "Excel", "Figma", "CI/CD", "REST API", "GraphQL",
    "Machine Learning", "Data Analysis", "Statistics", "Agile", "Communication", "Teamwork", "English", "Japanese",
]  # fmt: skip
ROLES = [
    "Backend Engineer", "Frontend Engineer", "Full-Stack Developer", "Data Scientist", "Data Analyst",
    "Mobile Engineer", "DevOps Engineer", "ML Engineer", "QA Engineer", "Product Designer", "SRE",
    "バックエンドエンジニア", "フロントエンドエンジニア", "データアナリスト", "インフラエンジニア",
]  # fmt: skip
LEVELS = ["", "", "Junior ", "New Grad ", "Senior ", "Lead ", "Intern - ", "新卒 "]
CITIES = [
    "Tokyo, Japan", "東京都渋谷区", "東京都港区", "Osaka, Japan", "大阪府大阪市北区", "Kyoto, Japan", "Fukuoka, Japan",
    "San Francisco, CA", "New York, NY", "Chicago, IL", "Seattle, WA", "London, UK", "Manchester, UK",
    "Berlin, Germany", "Remote", "Remote (Japan)", "Remote (US)", "Singapore",
]  # fmt: skip
ZONES = ["Asia/Tokyo", "UTC", "Europe/London", "America/New_York", "America/Los_Angeles"]


def _weighted_skills(rng: random.Random, low: int, high: int) -> list[str]:
    # Popular skills come up more often (a rough Zipf), like real postings.
    picks = rng.choices(SKILLS, weights=[1.0 / (1 + i * 0.15) for i in range(len(SKILLS))], k=rng.randint(low, high))
    return list(dict.fromkeys(picks))


def _salary(rng: random.Random, japan: bool) -> tuple[int | None, int | None, str]:
    if rng.random() < 0.25:
        return None, None, ""
    if japan:
        low = rng.randrange(3_000_000, 8_000_000, 100_000)
        return low, low + rng.randrange(500_000, 3_000_000, 100_000), "JPY"
    low = rng.randrange(40_000, 160_000, 1_000)
    return low, low + rng.randrange(5_000, 60_000, 1_000), "USD"


def _jobs(rng: random.Random, count: int, tag: str) -> list[JobListing]:
    jobs = []
    for n in range(count):
        city = rng.choice(CITIES)
        japan = "Japan" in city or "都" in city or "府" in city
        low, high, currency = _salary(rng, japan)
        years = rng.choice(["", "", "", " 2+ years of experience.", " 5+ years of experience.", " 経験3年以上。"])
        jobs.append(
            JobListing(
                guid=f"{tag}-job-{n}",
                title=f"{rng.choice(LEVELS)}{rng.choice(ROLES)}",
                company=f"Company {rng.randint(1, 3000)}",
                location=city,
                remote=city.startswith("Remote") or rng.random() < 0.1,
                salary_min=low,
                salary_max=high,
                salary_currency=currency,
                description=f"We build products used by millions.{years} Stack and culture details follow.",
                url=f"https://jobs.example.com/{tag}/{n}",
                skills=_weighted_skills(rng, 3, 8),
            )
        )
    return jobs


def _people(rng: random.Random, count: int, tag: str) -> list[int]:
    user_model = get_user_model()
    unusable = "!"  # Django's marker for "no password": these people never log in
    users = user_model.objects.bulk_create(
        [user_model(username=f"{tag}-u{n}", email=f"{tag}-u{n}@example.com", password=unusable) for n in range(count)],
        batch_size=2000,
    )
    if users and users[0].pk is None:  # backends that don't return ids from bulk inserts
        users = list(user_model.objects.filter(username__startswith=f"{tag}-u").order_by("id"))
    profiles = []
    for n, user in enumerate(users):
        japanese = rng.random() < 0.3
        city = rng.choice(CITIES[:7] if japanese else CITIES)
        skills = _weighted_skills(rng, 4, 12)
        low, high, _ = _salary(rng, japanese or "Japan" in city)
        profiles.append(
            UserProfile(
                owner=user,
                user_id=f"{tag}-u{n}",
                language="ja" if japanese else "en",
                time_zone="Asia/Tokyo" if japanese else rng.choice(ZONES),
                location=city,
                years_of_experience=round(rng.uniform(0, 6), 1),
                programming_languages=skills[: len(skills) // 2],
                tools_platforms=skills[len(skills) // 2 :],
                desired_roles=rng.sample(ROLES, k=rng.randint(0, 2)),
                preferred_locations=rng.sample(CITIES, k=rng.randint(0, 2)),
                salary_range_min=low,
                salary_range_max=high,
            )
        )
    UserProfile.objects.bulk_create(profiles, batch_size=2000)
    return list(UserProfile.objects.filter(user_id__startswith=f"{tag}-u").order_by("id").values_list("id", flat=True))


@contextmanager
def simulated_provider(*, model: str, seed: int = 7, **sim_options: Any) -> Iterator[None]:
    """The layer pointed at an in-process simulator as the `openai` provider."""
    from llm.simulator import Simulator

    sim = Simulator(seed=seed, **sim_options)
    try:
        with (
            override_settings(
                LLM_PROVIDER="openai", OPENAI_API_KEY="sk-simulated", OPENAI_BASE_URL="", OPENAI_MODEL=model
            ),
            use_transport(sim.transport()),
        ):
            yield
    finally:
        sim.close()
        clients_reset()


class QueryCounter:
    """Counts every statement on the default connection (CaptureQueriesContext keeps only 9000)."""

    def __init__(self) -> None:
        self.total = 0
        self.ledger = 0

    def __call__(self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        self.total += 1
        self.ledger += '"llm_llmcall"' in sql
        return execute(sql, params, many, context)


@contextmanager
def counting_queries() -> Iterator[QueryCounter]:
    counter = QueryCounter()
    with connection.execute_wrapper(counter):
        yield counter


def _prefilter(profile_ids: list[int]) -> tuple[float, int, Any]:
    with counting_queries() as queries:
        summary, *_ = job_scores_prefilter(profile_ids=profile_ids)
    return summary.prefilter_s, queries.total, summary


def _cleanup(tag: str) -> None:
    JobListing.objects.filter(guid__startswith=f"{tag}-job-").delete()
    get_user_model().objects.filter(username__startswith=f"{tag}-u").delete()


def _peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)  # KiB on Linux


def matching_benchmark(
    *,
    users: int,
    jobs: int,
    check_scaling: bool = False,
    llm_users: int | None = None,
    seed: int = 7,
    keep: bool = False,
    say: Callable[[str], None] = lambda line: None,
) -> dict[str, Any]:
    """Create data, measure the prefilter (and at 2× people), run the LLM stage; figures as a dict."""
    rng = random.Random(seed)
    tag = f"bench{uuid.uuid4().hex[:6]}"
    result: dict[str, Any] = {
        "users": users,
        "jobs": jobs,
        "database": connection.vendor,
        "k": settings.MATCH_LLM_TOP_K,
    }
    try:
        started = time.perf_counter()
        JobListing.objects.bulk_create(_jobs(rng, jobs, tag), batch_size=2000)
        ids = _people(rng, users * 2 if check_scaling else users, tag)
        result["setup_s"] = round(time.perf_counter() - started, 2)
        say(f"created {jobs} jobs and {len(ids)} people in {result['setup_s']}s")

        seconds, queries, summary = _prefilter(ids[:users])
        result.update(
            prefilter_s=round(seconds, 3),
            queries=queries,
            pairs_considered=summary.considered,
            pairs_above_floor=summary.above_floor,
            jobs_loaded=summary.jobs_loaded,
        )
        say(f"prefilter: {summary.considered} pairs for {users} people in {seconds:.2f}s, {queries} queries")
        if check_scaling:
            seconds_2x, queries_2x, _ = _prefilter(ids)
            result.update(users_2x=len(ids), prefilter_s_2x=round(seconds_2x, 3), queries_2x=queries_2x)
            say(f"prefilter at {len(ids)} people: {seconds_2x:.2f}s, {queries_2x} queries")

        scored = ids[: users if llm_users is None else min(users, llm_users)]
        since = timezone.now()
        with simulated_provider(model="benchmark-sim"):
            say(f"LLM stage for {len(scored)} people through the in-process simulator ...")
            with counting_queries() as queries_run:
                run = job_scores_run(profile_ids=scored)
        calls = (
            LLMCall.objects.filter(
                task=JOB_SCORE.name,
                created_at__gte=since,
                subject_type=ContentType.objects.get_for_model(UserProfile),
                subject_id__in=[str(pk) for pk in scored],
            )
            .values("subject_id")
            .annotate(n=Count("id"))
        )
        per_user = [row["n"] for row in calls]
        result.update(
            llm_users=len(scored),
            llm_calls=sum(per_user),
            llm_calls_per_user_max=max(per_user, default=0),
            llm_cache_hits=run.cached,
            llm_fallbacks=run.llm_fallbacks,
            scores_stored=JobScore.objects.filter(profile_id__in=scored).count(),
            run_s=round(run.prefilter_s + run.llm_s, 2),
            run_queries=queries_run.total,
            run_queries_ledger=queries_run.ledger,
            run_queries_other=queries_run.total - queries_run.ledger,
            provider="simulator (in-process, openai-compatible, model benchmark-sim: unpriced)",
        )
    finally:
        if not keep:
            _cleanup(tag)
    result["peak_rss_mb"] = _peak_rss_mb()
    return result
