"""Build the matching golden set: people × jobs, English and Japanese, each pair judged relevant or
not by the explicit rules a careful recruiter applies, with the reason. Deterministic (one seed);
writes profiles/matching/fixtures/golden_set.json (read by `manage.py matching_eval`):

    python -m profiles.matching.golden.generate

The people and postings are drawn from role tracks (backend, frontend, data, ML, mobile, infra, QA)
like the students and new graduates the service is for; postings are written as RSS items, so the
evaluation reads them through the real feed parser. The labels never look at any score: they come
from the structured facts below through `judge`, rule by rule, the first failing rule being the
reason. A pair is relevant (grade 1) when every rule passes, and a strong match (grade 2) when it
also names a role the person wants and covers at least three quarters of the posting's skills.

Rules (in order):
1. language — a posting written in Japanese needs a person who reads Japanese;
2. role — the posting's track is one the person is looking for;
3. skills — the person has at least half of the posting's required skills (at least one);
4. experience — the posting asks for no more than one year beyond what the person has, and an
   internship or new-graduate role is not for someone with five years or more;
5. location — a city the person named, or remote work they accept in a region they can work in
   (a remote posting for Japan, the US or the UK needs a person living there);
6. salary — when both sides state one in the same currency, the posting's top reaches the
   person's minimum (a yearly figure; hourly internship pay is not compared).
"""

from __future__ import annotations

import json
import math
import random
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from catalog.jobs.skills import SKILL_CATEGORIES

RULES = (
    "language: a posting written in Japanese needs a person who reads Japanese",
    "role: the posting's track is one the person is looking for",
    "skills: the person has at least half of the posting's required skills (at least one)",
    "experience: at most one year beyond what the person has; internships and new-graduate roles are not for "
    "people with five years or more",
    "location: a city the person named, or remote work they accept, open to the country they live in",
    "salary: when both state one in the same currency, the posting's top reaches the person's minimum",
    "grade 2 (strong): relevant, and at least three quarters of the posting's skills",
)
SEED = 17
PEOPLE = 32
JOBS = 64
MIN_RELEVANT_PER_PERSON = 5
OUTPUT = Path(__file__).resolve().parent.parent / "fixtures" / "golden_set.json"

# track: (English role, Japanese role, core skills, adjacent skills)
TRACKS: dict[str, tuple[str, str, list[str], list[str]]] = {
    "backend": (
        "Backend Engineer",
        "バックエンドエンジニア",
        ["Python", "Django", "Go", "Java", "Spring", "SQL", "PostgreSQL", "REST API"],
        ["AWS", "Docker", "Redis", "Git"],
    ),
    "frontend": (
        "Frontend Engineer",
        "フロントエンドエンジニア",
        ["JavaScript", "TypeScript", "React", "Vue.js", "HTML", "CSS", "Next.js"],
        ["Figma", "Jest", "Git"],
    ),
    "data_analyst": (
        "Data Analyst",
        "データアナリスト",
        ["SQL", "Excel", "Tableau", "Statistics", "Data Analysis", "BigQuery", "Python"],
        ["Power BI", "R"],
    ),
    "ml": (
        "Machine Learning Engineer",
        "機械学習エンジニア",
        ["Python", "Machine Learning", "PyTorch", "scikit-learn", "pandas", "Deep Learning", "Statistics"],
        ["NLP", "Computer Vision", "GCP"],
    ),
    "mobile": (
        "Mobile Engineer",
        "モバイルエンジニア",
        ["Swift", "Kotlin", "Flutter", "Firebase", "iOS", "Android"],
        ["Dart", "Git"],
    ),
    "infra": (
        "Infrastructure Engineer",
        "インフラエンジニア",
        ["Linux", "AWS", "Docker", "Kubernetes", "Terraform", "CI/CD"],
        ["Ansible", "Shell", "GCP"],
    ),
    "qa": (
        "QA Engineer",
        "QAエンジニア",
        ["Selenium", "Python", "JavaScript", "Jest", "CI/CD"],
        ["Agile", "Jira"],
    ),
}
# city: (English name, Japanese name, country, currency)
CITIES: dict[str, tuple[str, str, str, str]] = {
    "tokyo": ("Tokyo, Japan", "東京都港区", "japan", "JPY"),
    "osaka": ("Osaka, Japan", "大阪府大阪市北区", "japan", "JPY"),
    "fukuoka": ("Fukuoka, Japan", "福岡県福岡市", "japan", "JPY"),
    "london": ("London, UK", "London, UK", "uk", "GBP"),
    "new_york": ("New York, NY", "New York, NY", "us", "USD"),
    "san_francisco": ("San Francisco, CA", "San Francisco, CA", "us", "USD"),
}
REMOTE_LABEL = {"japan": "Remote (Japan)", "us": "Remote (US)", "uk": "Remote (UK)"}
# level: (required years, English title prefix, Japanese title prefix, how the posting says it)
LEVELS: dict[str, tuple[float, str, str, str, str]] = {
    "intern": (0, "Intern: ", "【インターン】", "Internship for students.", "学生向けの長期インターンです。"),
    "new_grad": (0, "New Grad ", "【新卒】", "New graduates welcome.", "新卒・未経験歓迎。"),
    "junior": (1, "Junior ", "【第二新卒】", "1+ years of experience.", "実務経験1年以上。"),
    "mid": (3, "", "", "3+ years of experience.", "実務経験3年以上。"),
    "senior": (5, "Senior ", "シニア", "5+ years of experience.", "実務経験5年以上。"),
}
YEARLY = {  # (low, high) yearly pay by currency and level, in whole units
    "JPY": {"new_grad": (3_600_000, 4_800_000), "junior": (4_200_000, 5_600_000), "mid": (5_500_000, 7_500_000),
            "senior": (7_000_000, 10_000_000)},
    "USD": {"new_grad": (75_000, 100_000), "junior": (85_000, 115_000), "mid": (110_000, 150_000),
            "senior": (140_000, 200_000)},
    "GBP": {"new_grad": (32_000, 42_000), "junior": (38_000, 50_000), "mid": (50_000, 70_000),
            "senior": (65_000, 95_000)},
}  # fmt: skip
COMPANIES_EN = ["Kumo Systems", "Fuji Data Labs", "Shiba Infra", "Tsubame Mobile", "Northwind Apps", "Bluebird AI"]
COMPANIES_JA = [
    "株式会社ミライテック",
    "株式会社ハナソフト",
    "株式会社データブリッジ",
    "株式会社カゼAI",
    "株式会社サクラ",
]


@dataclass
class Person:
    id: str
    language: str  # the profile's language ("ja": a Japanese profile)
    reads_japanese: bool
    tracks: list[str]
    skills: list[str]
    years: float
    home: str  # a CITIES key
    cities: list[str]  # CITIES keys they would work in
    remote_ok: bool
    salary_min: int | None

    @property
    def country(self) -> str:
        return CITIES[self.home][2]

    @property
    def currency(self) -> str:
        return CITIES[self.home][3]

    def profile(self) -> dict[str, Any]:
        """The UserProfile fields the matching reads, as a person would have them after a resume."""
        by_category: dict[str, list[str]] = {
            "programming_languages": [],
            "frameworks_libraries": [],
            "tools_platforms": [],
            "soft_skills": [],
        }
        for skill in self.skills:
            by_category[SKILL_CATEGORIES.get(skill, "tools_platforms")].append(skill)
        if self.reads_japanese:
            by_category["soft_skills"].append("Japanese")
        roles = [TRACKS[t][1] if self.language == "ja" else TRACKS[t][0] for t in self.tracks]
        places = [CITIES[c][1] if self.language == "ja" else CITIES[c][0].split(",")[0] for c in self.cities]
        if self.remote_ok:
            places.append("リモート" if self.language == "ja" else "Remote")
        return {
            "language": self.language,
            "years_of_experience": self.years,
            "career_level": "student" if self.years == 0 else "entry" if self.years < 1 else "junior",
            **by_category,
            "desired_roles": roles,
            "preferred_locations": places,
            "location": CITIES[self.home][1 if self.language == "ja" else 0],
            "salary_range_min": self.salary_min,
            "salary_range_max": None,
        }


@dataclass
class Job:
    id: str
    language: str  # the posting's language
    track: str
    level: str
    city: str | None  # a CITIES key, or None when fully remote
    remote_country: str | None  # the country a remote posting is open to
    skills: list[str]  # required
    nice: list[str]
    salary: tuple[int, int] | None  # yearly, in the currency of its country
    currency: str
    company: str
    title: str = ""
    location: str = ""
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def required_years(self) -> float:
        return LEVELS[self.level][0]

    def rss_item(self) -> str:
        """The posting as an RSS item (labelled lines like real boards; read by the real parser)."""
        years_en, years_ja = LEVELS[self.level][3], LEVELS[self.level][4]
        if self.language == "ja":
            low, high = self.salary or (0, 0)
            pay = f"年収{low // 10_000}万円〜{high // 10_000}万円" if self.salary else "時給1,200円"
            body = [
                f"<p>会社名：{self.company}</p>",
                f"<p>自社サービスの開発チームで{TRACKS[self.track][1]}として活躍していただきます。</p>",
                f"<p>必須スキル：{'、'.join(self.skills)}</p>",
                f"<p>歓迎スキル：{'、'.join(self.nice)}</p>" if self.nice else "",
                f"<p>{years_ja}</p>",
                f"<p>勤務地：{self.location}</p>",
                f"<p>給与：{pay}</p>",
                "<p>フルリモート勤務</p>" if self.city is None else "<p>出社勤務（リモート不可）</p>",
            ]
        else:
            sign = {"JPY": "¥", "USD": "$", "GBP": "£"}[self.currency]
            pay = f"{sign}{self.salary[0]:,} - {sign}{self.salary[1]:,} per year" if self.salary else "Paid internship"
            body = [
                f"<p>Company: {self.company}</p>",
                f"<p>Join our product team as a {TRACKS[self.track][0]}.</p>",
                f"<p>Requirements: {', '.join(self.skills)}.</p>",
                f"<p>Nice to have: {', '.join(self.nice)}.</p>" if self.nice else "",
                f"<p>{years_en}</p>",
                f"<p>Location: {self.location}</p>",
                f"<p>Salary: {pay}</p>",
                "<p>Fully remote.</p>" if self.city is None else "<p>On-site only.</p>",
            ]
        description = "".join(body).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        title = self.title.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        return (
            f'<item><title>{title}</title><guid isPermaLink="false">golden-{self.id}</guid>'
            f"<link>https://jobs.example.com/golden/{self.id}</link>"
            f"<pubDate>Mon, 02 Nov 2026 09:00:00 +0000</pubDate><description>{description}</description></item>"
        )


def judge(person: Person, job: Job) -> tuple[int, str]:
    """(grade, reason): 0 not relevant, 1 relevant, 2 strong — the recruiter's rules, in order."""
    if job.language == "ja" and not person.reads_japanese:
        return 0, "language: the posting is in Japanese and they don't read Japanese"
    if job.track not in person.tracks:
        return 0, f"role: a {TRACKS[job.track][0]} role; they look for {', '.join(TRACKS[t][0] for t in person.tracks)}"
    have = [s for s in job.skills if s in person.skills]
    needed = max(1, math.ceil(len(job.skills) / 2))
    if len(have) < needed:
        missing = [s for s in job.skills if s not in person.skills]
        return 0, f"skills: has {len(have)} of {len(job.skills)} required (missing {', '.join(missing[:3])})"
    if job.required_years > person.years + 1:
        return 0, f"experience: asks {job.required_years:g}+ years, they have {person.years:g}"
    if job.level in ("intern", "new_grad") and person.years >= 5:
        return 0, f"experience: an entry-level role for someone with {person.years:g} years"
    if job.city is not None:
        if job.city not in person.cities:
            return 0, f"location: on site in {CITIES[job.city][0]}, they want {', '.join(person.cities) or 'remote'}"
    elif not person.remote_ok:
        return 0, "location: a remote role; they want to work on site"
    elif job.remote_country != person.country:
        return 0, f"location: remote for {job.remote_country} only; they live in {person.country}"
    if person.salary_min and job.salary and job.currency == person.currency and job.salary[1] < person.salary_min:
        return 0, f"salary: tops out at {job.salary[1]:,} {job.currency}, below their minimum {person.salary_min:,}"
    coverage = len(have) / len(job.skills)
    where = "remote" if job.city is None else CITIES[job.city][0]
    reason = f"relevant: {TRACKS[job.track][0]}, {len(have)}/{len(job.skills)} skills, {where}"
    if coverage >= 0.75:
        return 2, reason.replace("relevant:", "strong:")
    return 1, reason


def _job(rng: random.Random, n: int) -> Job:
    track = list(TRACKS)[n % len(TRACKS)]  # every track equally represented
    role_en, role_ja, core, adjacent = TRACKS[track]
    level = rng.choices(list(LEVELS), weights=[1, 4, 3, 2, 1])[0]
    remote = rng.random() < 0.25
    city = None if remote else rng.choices(list(CITIES), weights=[6, 3, 2, 2, 2, 2])[0]
    country = rng.choice(["japan", "japan", "us", "uk"]) if city is None else CITIES[city][2]  # None iff remote
    japanese = country == "japan" and rng.random() < 0.6
    currency = {"japan": "JPY", "us": "USD", "uk": "GBP"}[country]
    skills = rng.sample(core, k=rng.randint(2, 4))
    nice = rng.sample([s for s in core + adjacent if s not in skills], k=rng.randint(0, 2))
    salary = None if level == "intern" or rng.random() < 0.15 else YEARLY[currency][level]
    company = rng.choice(COMPANIES_JA if japanese else COMPANIES_EN)
    job = Job(
        id=f"j{n:02d}",
        language="ja" if japanese else "en",
        track=track,
        level=level,
        city=city,
        remote_country=country if remote else None,
        skills=skills,
        nice=nice,
        salary=salary,
        currency=currency,
        company=company,
    )
    _, prefix_en, prefix_ja, _, _ = LEVELS[level]
    job.title = f"{prefix_ja}{role_ja}" if japanese else f"{prefix_en}{role_en}"
    if city is None:  # remote
        job.location = "フルリモート（日本国内）" if japanese else REMOTE_LABEL[country]
    else:
        job.location = CITIES[city][1] if japanese else CITIES[city][0]
    return job


def _person(rng: random.Random, n: int) -> Person:
    japanese_profile = n % 3 == 0  # about a third write their profile in Japanese
    track = list(TRACKS)[n % len(TRACKS)]  # every track equally represented
    tracks = [track] if rng.random() < 0.6 else [track, rng.choice([t for t in TRACKS if t != track])]
    skills: list[str] = []
    for t in tracks:
        core, adjacent = TRACKS[t][2], TRACKS[t][3]
        skills += rng.sample(core, k=rng.randint(max(2, len(core) // 2), len(core) - 1))
        skills += rng.sample(adjacent, k=rng.randint(0, 2))
    skills = list(dict.fromkeys(skills))
    home = "tokyo" if japanese_profile else rng.choices(list(CITIES), weights=[4, 2, 1, 2, 2, 2])[0]
    if CITIES[home][2] == "japan" and rng.random() < 0.3:
        home = rng.choice(["tokyo", "osaka", "fukuoka"])
    cities = [home] + ([rng.choice([c for c in CITIES if CITIES[c][2] == CITIES[home][2] and c != home])]
                       if CITIES[home][2] != "uk" and rng.random() < 0.4 else [])  # fmt: skip
    years = rng.choice([0, 0, 0, 0.5, 1, 1, 2, 3, 5])
    currency = CITIES[home][3]
    level = "new_grad" if years < 1 else "junior" if years < 3 else "mid"
    salary_min = YEARLY[currency][level][0] + rng.choice([0, 0, 1, 2]) * YEARLY[currency][level][0] // 10
    return Person(
        id=f"p{n:02d}",
        language="ja" if japanese_profile else "en",
        reads_japanese=japanese_profile or (CITIES[home][2] == "japan" and rng.random() < 0.5),
        tracks=tracks,
        skills=skills,
        years=float(years),
        home=home,
        cities=cities,
        remote_ok=rng.random() < 0.6,
        salary_min=salary_min if rng.random() < 0.7 else None,
    )


def build(seed: int = SEED) -> dict[str, Any]:
    """The golden set as a JSON-ready dict (same seed, same set)."""
    rng = random.Random(seed)
    jobs = [_job(rng, n) for n in range(1, JOBS + 1)]
    people: list[Person] = []
    while len(people) < PEOPLE:
        # A person with too few relevant postings says little about ranking: draw again.
        candidate = _person(rng, len(people) + 1)
        if sum(judge(candidate, job)[0] > 0 for job in jobs) >= MIN_RELEVANT_PER_PERSON:
            people.append(candidate)
    labels = []
    for person in people:
        for job in jobs:
            grade, reason = judge(person, job)
            labels.append({"person": person.id, "job": job.id, "relevance": grade, "reason": reason})
    return {
        "version": 1,
        "seed": seed,
        "rules": list(RULES),
        "people": [{"id": p.id, "facts": asdict(p), "profile": p.profile()} for p in people],
        "jobs": [{"id": j.id, "facts": asdict(j), "rss_item": j.rss_item()} for j in jobs],
        "labels": labels,
    }


def main() -> None:
    data = build()
    OUTPUT.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    relevant = sum(1 for label in data["labels"] if label["relevance"])
    print(f"wrote {OUTPUT.name}: {len(data['people'])} people × {len(data['jobs'])} jobs, {relevant} relevant pairs")


if __name__ == "__main__":
    main()
