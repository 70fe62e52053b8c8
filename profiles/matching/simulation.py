"""A simulated day of job matching for N people, to measure what it costs.

Each of `cycles` hours the feed brings jobs/cycles new postings (an RSS file read through the real
feed import: feedparser, skill extraction, salary parsing, upsert) and the scoring run follows; at
the end every person gets their daily digest. The LLM is an in-process simulator acting as the
`openai` provider with the model name gpt-4o-mini, so the ledger prices every call at gpt-4o-mini
rates, exactly as `llm_costs` reports a real day.

What keeps the day cheap: the model sees only the candidates the prefilter is unsure of (between
MATCH_LLM_MIN_PREFILTER_SCORE and MATCH_PREFILTER_CONFIDENT_SCORE), at most MATCH_LLM_TOP_K per
person per run and MATCH_LLM_DAILY_LIMIT per day; prompts are compact (no personal identifiers,
skills once, a 200-character excerpt without the lines given as fields, the digest's jobs as short
lines), and identical prompts are cache hits. Caveats: the simulator's answers are shorter than a
real model's, and it counts every 4 characters as a token (real Japanese text runs closer to one
token per character).
"""

from __future__ import annotations

import random
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import escape

from django.contrib.auth import get_user_model
from django.test import override_settings
from django.utils import timezone

from catalog.jobs.services import job_listings_import_file
from catalog.jobs.skills import SKILL_CATEGORIES
from llm.selectors import CostReport, llm_cost_report
from profiles.matching.benchmark import simulated_provider
from profiles.matching.services.digests import digests_generate
from profiles.matching.services.scoring import job_scores_run
from profiles.models import UserProfile

USERNAME_PREFIX = "simday-"
FEED_NAME = "Simulated day: hourly postings"
# (role, its skills, Japanese title): people and postings are drawn from the same tracks.
TRACKS = [
    (
        "Backend Engineer",
        ["Python", "Django", "SQL", "AWS", "Docker", "PostgreSQL", "Go", "REST API"],
        "バックエンドエンジニア",
    ),
    (
        "Frontend Engineer",
        ["JavaScript", "TypeScript", "React", "Vue.js", "HTML", "CSS", "Next.js"],
        "フロントエンドエンジニア",
    ),
    (
        "Data Analyst",
        ["SQL", "Python", "Excel", "Tableau", "Statistics", "Data Analysis", "BigQuery"],
        "データアナリスト",
    ),
    (
        "Data Scientist",
        ["Python", "pandas", "scikit-learn", "Machine Learning", "Statistics", "PyTorch"],
        "データサイエンティスト",
    ),
    ("Mobile Engineer", ["Swift", "Kotlin", "Flutter", "Firebase", "Git", "iOS", "Android"], "モバイルエンジニア"),
    ("Infrastructure Engineer", ["Linux", "AWS", "Docker", "Kubernetes", "Terraform", "CI/CD"], "インフラエンジニア"),
    ("QA Engineer", ["Selenium", "Python", "JavaScript", "Jest", "CI/CD", "Agile"], "QAエンジニア"),
    ("Java Developer", ["Java", "Spring", "SQL", "MySQL", "Git", "Microservices"], "Javaエンジニア"),
]
SOFT = ["Communication", "Teamwork", "Problem Solving", "English", "Japanese"]
EN_CITIES = ["Tokyo, Japan", "Osaka, Japan", "London, UK", "New York, NY", "San Francisco, CA", "Remote"]
JA_CITIES = ["東京都渋谷区", "東京都港区", "大阪府大阪市北区", "京都府京都市", "福岡県福岡市", "フルリモート"]
EN_LEVELS = ["", "Junior ", "New Grad ", "Graduate ", "Senior ", "Intern: "]
JA_LEVELS = ["", "【新卒】", "【第二新卒】", "【未経験可】", "シニア"]
ZONES_EN = ["UTC", "Europe/London", "America/New_York", "America/Los_Angeles", "Asia/Tokyo"]


@dataclass
class SimulatedDay:
    people: int
    new_people: int
    jobs_posted: int = 0
    cycles: int = 0
    pairs_considered: int = 0
    llm_calls_scoring: int = 0
    cache_hits: int = 0
    over_budget: int = 0
    scores_stored: int = 0
    digests: int = 0
    digests_already_today: int = 0
    emails: int = 0
    wall_s: float = 0.0
    cost: CostReport | None = None
    notes: list[str] = field(default_factory=list)


def _annual(rng: random.Random, japan: bool) -> tuple[int, int]:
    if japan:
        low = rng.randrange(3_200_000, 5_500_000, 100_000)
        return low, low + rng.randrange(500_000, 2_500_000, 100_000)
    low = rng.randrange(50_000, 110_000, 1_000)
    return low, low + rng.randrange(10_000, 40_000, 1_000)


def simday_people_ensure(*, count: int, rng: random.Random) -> tuple[list[int], int]:
    """The simulated people (usernames simday-001…), created once and reused afterwards."""
    user_model = get_user_model()
    created = 0
    for n in range(1, count + 1):
        username = f"{USERNAME_PREFIX}{n:03d}"
        user, made = user_model.objects.get_or_create(username=username, defaults={"email": f"{username}@example.com"})
        if made:
            user.set_unusable_password()
            user.save(update_fields=["password"])
        if UserProfile.objects.filter(owner=user).exists():
            continue
        japanese = rng.random() < 0.3
        role, pool, role_ja = rng.choice(TRACKS)
        skills = rng.sample(pool, k=rng.randint(3, min(6, len(pool)))) + rng.sample(SOFT, k=rng.randint(0, 2))
        by_category: dict[str, list[str]] = {}
        for skill in skills:
            by_category.setdefault(SKILL_CATEGORIES.get(skill, "tools_platforms"), []).append(skill)
        city = rng.choice(JA_CITIES if japanese else EN_CITIES)
        low, high = _annual(rng, japanese or "Japan" in city)
        UserProfile.objects.create(
            owner=user,
            user_id=username,
            email=user.email,
            language="ja" if japanese else "en",
            time_zone="Asia/Tokyo" if japanese else rng.choice(ZONES_EN),
            location=city,
            years_of_experience=round(rng.choice([0, 0, 0.5, 1, 1.5, 2, 3]), 1),
            career_level=rng.choice(["entry", "new graduate", "student"]),
            programming_languages=by_category.get("programming_languages", []),
            frameworks_libraries=by_category.get("frameworks_libraries", []),
            tools_platforms=by_category.get("tools_platforms", []),
            soft_skills=by_category.get("soft_skills", []),
            desired_roles=[role_ja if japanese else role],
            preferred_locations=rng.sample(["Remote", city], k=rng.randint(1, 2)),
            salary_range_min=low,
            salary_range_max=high,
        )
        created += 1
    ids = UserProfile.objects.filter(user_id__startswith=USERNAME_PREFIX).order_by("user_id")
    return list(ids.values_list("id", flat=True)[:count]), created


def _posting(rng: random.Random, tag: str, n: int) -> str:
    role, pool, role_ja = rng.choice(TRACKS)
    japanese = rng.random() < 0.35
    required = rng.sample(pool, k=rng.randint(2, 4))
    nice = rng.sample([s for s in pool if s not in required], k=min(2, len(pool) - len(required)))
    city = rng.choice(JA_CITIES if japanese else EN_CITIES)
    low, high = _annual(rng, japanese or "Japan" in city)
    if japanese:
        title = f"{rng.choice(JA_LEVELS)}{role_ja}"
        salary = f"年収{low // 10_000}万円〜{high // 10_000}万円"
        body = (
            f"<p>自社サービスの開発チームで{role_ja}として活躍していただきます。</p>"
            f"<p>必須スキル: {'、'.join(required)}。歓迎スキル: {'、'.join(nice)}。</p>"
            "<p>新卒・未経験の方も歓迎します。</p>"
        )
    else:
        title = f"{rng.choice(EN_LEVELS)}{role}"
        symbol = "¥" if "Japan" in city else "$"
        salary = f"{symbol}{low:,} - {symbol}{high:,} per year"
        body = (
            f"<p>Join our product team as a {role}. You will ship features used by thousands of customers.</p>"
            f"<p>Requirements: {', '.join(required)}. Nice to have: {', '.join(nice)}.</p>"
            "<p>New graduates welcome; mentoring from senior engineers.</p>"
        )
    remote = "true" if "Remote" in city or "リモート" in city else "false"
    return (
        f"<item><title>{escape(title)}</title><link>https://jobs.example.com/simday/{tag}/{n}</link>"
        f'<guid isPermaLink="false">simday-{tag}-{n}</guid><pubDate>{format_datetime(timezone.now())}</pubDate>'
        f"<job:company>{escape(f'Company {rng.randint(1, 400)}')}</job:company>"
        f"<job:location>{escape(city)}</job:location><job:remote>{remote}</job:remote>"
        f"<job:salary>{escape(salary)}</job:salary><description><![CDATA[{body}]]></description></item>"
    )


def _feed(items: list[str]) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0" xmlns:job="https://contentops.local/ns/job">'
        f"<channel><title>{FEED_NAME}</title><link>https://jobs.example.com/simday/</link>"
        f"<description>Synthetic postings</description>{''.join(items)}</channel></rss>"
    ).encode()


def simulate_day(
    *,
    people: int = 100,
    jobs: int = 300,
    cycles: int = 24,
    seed: int = 4,
    send_emails: bool = False,
    email_digests: Callable[[list[int]], int] | None = None,
    say: Callable[[str], None] = lambda line: None,
) -> SimulatedDay:
    """Run the day (feed → scoring, `cycles` times; then digests) and price it from the ledger.

    `email_digests(digest_ids) -> emails sent` is the caller's (profiles never sends email); it runs
    with EMAIL_BACKEND in memory unless `send_emails`."""
    rng = random.Random(seed)
    started, clock = timezone.now(), time.perf_counter()
    ids, created = simday_people_ensure(count=people, rng=rng)
    day = SimulatedDay(people=len(ids), new_people=created)
    tag = f"{started:%Y%m%d%H%M%S}"
    per_cycle = [jobs // cycles + (1 if i < jobs % cycles else 0) for i in range(cycles)]
    email_backend = {} if send_emails else {"EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend"}
    with (
        simulated_provider(model="gpt-4o-mini", seed=seed),
        override_settings(**email_backend),
        tempfile.TemporaryDirectory() as folder,
    ):
        feed_file = Path(folder) / "simulated-day.rss"
        posted = 0
        for cycle, count in enumerate(per_cycle, start=1):
            feed_file.write_bytes(_feed([_posting(rng, tag, posted + i) for i in range(count)]))
            outcome = job_listings_import_file(path=feed_file, feed_name=FEED_NAME)
            posted += count
            day.jobs_posted += outcome.new
            run = job_scores_run(profile_ids=ids)
            day.cycles = cycle
            day.pairs_considered += run.considered
            day.llm_calls_scoring += run.sent_to_llm
            day.cache_hits += run.cached
            day.over_budget += run.over_budget
            day.scores_stored += run.stored
            say(
                f"hour {cycle:2d}: {outcome.new} new postings, {run.considered} pairs prefiltered, "
                f"{run.sent_to_llm} JOB_SCORE calls ({run.cached} cached), {run.stored} scores stored"
            )
        digests = digests_generate(profile_ids=ids, respect_hour=False)
        day.digests = digests.generated
        day.digests_already_today = len(ids) - digests.due
        day.emails = email_digests(digests.digest_ids) if email_digests is not None else 0
        say(f"digests: {digests.generated} written, {day.emails} emailed, {digests.no_new_matches} without matches")
    if day.digests_already_today:
        day.notes.append(
            f"{day.digests_already_today} people already had today's digest (one per local day): "
            "a second run the same day is not a new day"
        )
    if day.over_budget:
        day.notes.append(f"{day.over_budget} pairs over the daily LLM budget were scored by rules (flagged)")
    day.wall_s = round(time.perf_counter() - clock, 1)
    day.cost = llm_cost_report(since=started)
    return day
