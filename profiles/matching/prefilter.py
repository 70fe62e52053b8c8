"""Stage one of job scoring: rule-based sub-scores for every (person, new job) pair, top K kept.

Pure computation on plain data (no ORM), so it can be tested and benchmarked alone. 20M pairs
are too many for Python loops, so per person everything is a numpy vector over the jobs:
- skills: an inverted index (skill → job positions) and `np.bincount` give the overlap counts;
- location: a score per distinct job location string (a few hundred), looked up by position;
- experience and salary: vector arithmetic on per-job arrays (NaN = the posting doesn't say);
- desired roles: a substring mask per distinct role phrase (memoized across people).
Sub-scores are 0-100. The composite uses the seed's weights (skills 40, experience 30, location
20, salary 10), scaled down when few skills are shared, plus a bonus when the title names a role
the person wants.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from catalog.jobs.skills import canonical_skill

WEIGHTS = {"skills": 0.40, "experience": 0.30, "location": 0.20, "salary": 0.10}
ROLE_BONUS = 10.0
SKILLS_GATE = 0.6  # the weighted sum is multiplied by 0.6 (no shared skill) … 1.0 (all of them)
# What a sub-score is when one side says nothing: neutral-ish, so silence neither wins nor loses.
UNKNOWN_SKILLS = 40.0
NO_PERSON_SKILLS = 30.0
UNKNOWN_EXPERIENCE = 70.0
UNKNOWN_LOCATION = 60.0
JOB_WITHOUT_LOCATION = 50.0
REMOTE_ONLY_ONSITE = 30.0
UNKNOWN_SALARY = 60.0
# Coverage counts at most this many of a job's skills: long wish lists shouldn't sink everyone.
SKILL_COVERAGE_CAP = 6

REMOTE_WORDS = ("remote", "anywhere", "work from home", "wfh", "リモート", "在宅", "フルリモート", "テレワーク")
# A few bilingual city names, so "Tokyo" on a profile matches "東京都港区" on a posting.
CITY_ALIASES = {
    "東京": "tokyo",
    "東京都": "tokyo",
    "大阪": "osaka",
    "大阪府": "osaka",
    "京都": "kyoto",
    "横浜": "yokohama",
    "名古屋": "nagoya",
    "福岡": "fukuoka",
    "札幌": "sapporo",
    "神戸": "kobe",
    "仙台": "sendai",
    "日本": "japan",
    "nyc": "new york",
    "sf": "san francisco",
}
# Cities people write without their country, so "Tokyo" and "Remote (Japan)" share a token.
COUNTRY_OF = {
    **dict.fromkeys(("tokyo", "osaka", "kyoto", "yokohama", "nagoya", "fukuoka", "sapporo", "kobe", "sendai"), "japan"),
    **dict.fromkeys(("london", "manchester", "edinburgh", "cambridge"), "uk"),
    **dict.fromkeys(("san francisco", "new york", "chicago", "seattle", "austin", "boston", "los angeles"), "us"),
}
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff]")
_CJK_CITY_NAMES = sorted((name for name in CITY_ALIASES if _CJK.search(name)), key=len, reverse=True)
_SPLIT = re.compile(r"[,/|;・、()（）\-–]+|\s{2,}")
# Required experience, most specific first: an explicit "3+ years" / "3年以上" beats a level word.
_YEARS = re.compile(r"(\d{1,2})\s*\+?\s*(?:years?|yrs?)\b|(?:経験|実務)?(\d{1,2})\s*年以上", re.IGNORECASE)
_LEVELS: tuple[tuple[re.Pattern[str], float], ...] = (
    (re.compile(r"\b(?:intern|internship)\b|インターン", re.IGNORECASE), 0.0),
    (re.compile(r"new\s*grad|graduate|entry[\s-]*level|\bjunior\b|\bjr\.?\s|新卒|未経験|第二新卒", re.IGNORECASE), 0.0),
    (
        re.compile(r"\b(?:principal|staff|lead|head of|manager|director)\b|リード|マネージャー|責任者", re.IGNORECASE),
        7.0,
    ),
    (re.compile(r"\b(?:senior|sr)\b|シニア|上級", re.IGNORECASE), 5.0),
    (re.compile(r"\bmid[\s-]*level\b|中途", re.IGNORECASE), 3.0),
)
CURRENCY_CODES = {"": 0, "USD": 1, "JPY": 2}
ANNUAL_FACTOR = {"": 1.0, "year": 1.0, "day": 250.0, "hour": 2000.0}


def norm_skill(name: str) -> str:
    """A skill's comparison key: its canonical name when the dictionary knows it, lowercased."""
    return (canonical_skill(name) or name.strip()).lower()


def _norm_text(text: str) -> str:
    return unicodedata.normalize("NFKC", text or "").lower().strip()


def is_remote_text(text: str) -> bool:
    lowered = _norm_text(text)
    return any(word in lowered for word in REMOTE_WORDS)


def location_tokens(text: str) -> list[str]:
    """Comparable pieces of a location: "Shibuya, Tokyo, Japan" → ["shibuya", "tokyo", "japan"]."""
    tokens = []
    for piece in _SPLIT.split(_norm_text(text)):
        piece = piece.strip(" .")
        if not piece or piece in REMOTE_WORDS:
            continue
        tokens.append(CITY_ALIASES.get(piece, piece))
        # Japanese addresses run together ("東京都港区"): also keep any known city inside them.
        # Longest names first, each consumed once: "東京都" must not also read as "京都" (Kyoto).
        if _CJK.search(piece):
            rest = piece
            for name in _CJK_CITY_NAMES:
                if name in rest:
                    rest = rest.replace(name, "|")
                    if CITY_ALIASES[name] != piece:
                        tokens.append(CITY_ALIASES[name])
    countries = [COUNTRY_OF[t] for t in tokens if t in COUNTRY_OF]
    return list(dict.fromkeys([*tokens, *countries]))


def required_years(text: str) -> float:
    """Years of experience a posting asks for (NaN when it doesn't say)."""
    match = _YEARS.search(text)
    if match:
        return float(match.group(1) or match.group(2))
    for pattern, years in _LEVELS:
        if pattern.search(text):
            return years
    return math.nan


def salary_currency(currency: str, amount: float | None) -> int:
    """0 unknown, 1 USD, 2 JPY, 3 other. Without a code, annual JPY figures are the ones in millions."""
    code = (currency or "").upper()
    if code:
        return CURRENCY_CODES.get(code, 3)
    if amount is None or math.isnan(amount):
        return 0
    return 2 if amount >= 1_000_000 else 1


@dataclass(frozen=True)
class JobRow:
    """What the prefilter needs of a posting (loaded with one `values_list`)."""

    id: int
    title: str
    location: str
    remote: bool
    salary_min: float | None
    salary_max: float | None
    salary_currency: str
    skills: Sequence[str]
    created_ts: float
    text_excerpt: str = ""
    company: str = ""
    salary_period: str = ""  # "" or "year": annual; "day" / "hour" are annualized for comparison


@dataclass(frozen=True)
class PersonRow:
    """What the prefilter needs of a profile; `window_start_ts` marks the jobs that are new to them."""

    profile_id: int
    skills: Sequence[str]
    years: float
    locations: Sequence[str]
    desired_roles: Sequence[str]
    salary_min: float | None
    salary_max: float | None
    window_start_ts: float
    exclude_job_ids: frozenset[int] = frozenset()
    # The person's own weights, moved by their feedback (profiles/matching/services/feedback.py).
    weights: Mapping[str, float] | None = None


@dataclass(frozen=True)
class Candidate:
    """A job chosen for a person, with its sub-scores and the facts the reasons are built from."""

    job_id: int
    overall: float
    skills: float
    location: float
    experience: float
    salary: float
    role_match: bool
    matched_skills: tuple[str, ...]
    missing_skills: tuple[str, ...]
    required_years: float | None


@dataclass
class PersonResult:
    profile_id: int
    considered: int
    above_floor: int
    candidates: list[Candidate] = field(default_factory=list)


class JobIndex:
    """Per-job arrays and the inverted indexes, built once per run and shared by every person."""

    def __init__(self, jobs: Sequence[JobRow]) -> None:
        self.jobs = list(jobs)
        n = len(self.jobs)
        self.ids = np.fromiter((j.id for j in self.jobs), dtype=np.int64, count=n)
        self.created = np.fromiter((j.created_ts for j in self.jobs), dtype=np.float64, count=n)
        self.position = {job_id: i for i, job_id in enumerate(self.ids.tolist())}
        postings: dict[str, list[int]] = defaultdict(list)
        self.skill_keys: list[tuple[str, ...]] = []
        self.skill_counts = np.zeros(n, dtype=np.float32)
        for i, job in enumerate(self.jobs):
            keys = tuple(dict.fromkeys(norm_skill(s) for s in job.skills if s and s.strip()))
            self.skill_keys.append(keys)
            self.skill_counts[i] = len(keys)
            for key in keys:
                postings[key].append(i)
        self.postings = {key: np.asarray(idx, dtype=np.int64) for key, idx in postings.items()}
        self.coverage_den = np.minimum(self.skill_counts, SKILL_COVERAGE_CAP)
        self.required = np.fromiter(
            (required_years(f"{j.title}\n{j.text_excerpt}") for j in self.jobs), dtype=np.float32, count=n
        )
        # Locations: one id per distinct string; remote postings score separately.
        self.remote = np.fromiter(
            (j.remote or is_remote_text(j.location) or is_remote_text(j.title) for j in self.jobs), dtype=bool, count=n
        )
        location_ids: dict[str, int] = {}
        self.location_id = np.fromiter(
            (location_ids.setdefault(_norm_text(j.location), len(location_ids)) for j in self.jobs),
            dtype=np.int64,
            count=n,
        )
        self.location_strings = list(location_ids)
        self.location_token_lists = [location_tokens(text) for text in self.location_strings]
        nan = math.nan
        factor = [ANNUAL_FACTOR.get(j.salary_period, 1.0) for j in self.jobs]
        mins = [
            float(j.salary_min) * f if j.salary_min is not None else nan for j, f in zip(self.jobs, factor, strict=True)
        ]
        maxs = [
            float(j.salary_max) * f if j.salary_max is not None else nan for j, f in zip(self.jobs, factor, strict=True)
        ]
        self.salary_min = np.asarray(mins, dtype=np.float64)
        self.salary_max = np.asarray(maxs, dtype=np.float64)
        top = np.where(np.isnan(self.salary_max), self.salary_min, self.salary_max)
        self.salary_top = top
        self.salary_currency = np.fromiter(
            (salary_currency(j.salary_currency, t) for j, t in zip(self.jobs, top.tolist(), strict=True)),
            dtype=np.int8,
            count=n,
        )
        self.titles = [_norm_text(j.title) for j in self.jobs]
        self._role_masks: dict[str, np.ndarray] = {}
        self._location_scores: dict[tuple[str, ...], np.ndarray] = {}

    def __len__(self) -> int:
        return len(self.jobs)

    def role_mask(self, phrases: Iterable[str]) -> np.ndarray:
        mask = np.zeros(len(self), dtype=bool)
        for phrase in phrases:
            key = _norm_text(phrase)
            if len(key) < 2:
                continue
            if key not in self._role_masks:
                self._role_masks[key] = np.fromiter(
                    (key in title for title in self.titles), dtype=bool, count=len(self)
                )
            mask |= self._role_masks[key]
        return mask

    def location_scores(self, locations: Sequence[str]) -> np.ndarray:
        """Score per job position for a person's locations (memoized: many people share a city)."""
        key = tuple(sorted(_norm_text(text) for text in locations if text and text.strip()))
        cached = self._location_scores.get(key)
        if cached is not None:
            return cached
        wants_remote = any(is_remote_text(text) for text in key)
        person_tokens = [location_tokens(text) for text in key]
        person_tokens = [tokens for tokens in person_tokens if tokens]
        onsite = np.empty(len(self.location_strings), dtype=np.float32)
        remote = np.empty(len(self.location_strings), dtype=np.float32)
        for i, job_tokens in enumerate(self.location_token_lists):
            onsite[i], remote[i] = _location_score(person_tokens, job_tokens, wants_remote=wants_remote)
        if not len(self):
            return np.zeros(0, dtype=np.float32)
        scores = np.where(self.remote, remote[self.location_id], onsite[self.location_id]).astype(np.float32)
        self._location_scores[key] = scores
        return scores


def _location_score(person: list[list[str]], job: list[str], *, wants_remote: bool) -> tuple[float, float]:
    """(score if the job is on-site, score if it's flagged remote) for one job location string."""
    if not person:
        # Nothing but "remote" (or nothing at all) on the profile.
        onsite = REMOTE_ONLY_ONSITE if wants_remote else UNKNOWN_LOCATION
        remote = (100.0 if wants_remote else 90.0) if not job else (70.0 if wants_remote else UNKNOWN_LOCATION)
        return onsite, remote
    if not job:
        return JOB_WITHOUT_LOCATION, 100.0 if wants_remote else 90.0
    job_set = set(job)
    for tokens in person:
        # The first piece is the most specific one people write (a city): a match there is a match.
        if tokens[0] in job_set or job[0] in tokens:
            return 100.0, 100.0
    if any(job_set.intersection(tokens) for tokens in person):
        return 65.0, 100.0  # same country or region: on-site means moving cities; remote is fine
    # Elsewhere: "remote" postings that name a place are hybrid or tied to that country.
    return 15.0, 60.0 if wants_remote else 40.0


def _skills_scores(index: JobIndex, person_keys: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    n = len(index)
    lists = [index.postings[key] for key in person_keys if key in index.postings]
    overlap = (
        np.bincount(np.concatenate(lists), minlength=n).astype(np.float32) if lists else np.zeros(n, dtype=np.float32)
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        coverage = np.where(index.coverage_den > 0, np.minimum(overlap / index.coverage_den, 1.0), 0.0)
    scores = 100.0 * coverage  # the share of the job's skills (at most SKILL_COVERAGE_CAP counted) they have
    scores = np.where(index.skill_counts > 0, scores, UNKNOWN_SKILLS)
    if not person_keys:
        scores = np.full(n, NO_PERSON_SKILLS, dtype=np.float32)
    return scores.astype(np.float32), overlap


def _experience_scores(index: JobIndex, years: float) -> np.ndarray:
    gap = index.required - np.float32(years)
    short = np.maximum(0.0, 100.0 - 30.0 * gap)  # each missing year costs 30 points
    over = np.where(-gap <= 4.0, 100.0, np.maximum(60.0, 100.0 - 8.0 * (-gap - 4.0)))
    scores = np.where(gap > 0, short, over)
    return np.where(np.isnan(index.required), UNKNOWN_EXPERIENCE, scores).astype(np.float32)


def _salary_scores(index: JobIndex, low: float | None, high: float | None) -> np.ndarray:
    n = len(index)
    low, high = (low or None), (high or None)  # 0 says nothing about what someone expects
    if low is None and high is None:
        return np.full(n, UNKNOWN_SALARY, dtype=np.float32)
    currency = salary_currency("", low if low is not None else high)
    comparable = (~np.isnan(index.salary_top)) & (index.salary_currency == currency)
    if low is not None:
        with np.errstate(invalid="ignore"):
            shortfall = np.maximum(0.0, (low - index.salary_top) / low)
        scores = np.maximum(0.0, 100.0 - 250.0 * shortfall)  # 10% short: 75; 40% short: 0
    else:
        scores = np.full(n, 80.0)  # only a ceiling is known: any posting is plausible
    return np.where(comparable, scores, UNKNOWN_SALARY).astype(np.float32)


def person_weights(own: Mapping[str, float] | None) -> Mapping[str, float]:
    """The person's weights if they are a complete, sane set (each 0..1, summing to ~1), else the standard."""
    if not own:
        return WEIGHTS
    try:
        weights = {factor: float(own[factor]) for factor in WEIGHTS}
    except (KeyError, TypeError, ValueError):
        return WEIGHTS
    if any(not 0.0 <= w <= 1.0 for w in weights.values()) or abs(sum(weights.values()) - 1.0) > 0.01:
        return WEIGHTS
    return weights


@dataclass(frozen=True)
class _Scores:
    person_keys: list[str]
    skills: np.ndarray
    location: np.ndarray
    experience: np.ndarray
    salary: np.ndarray
    roles: np.ndarray
    overall: np.ndarray


def _scores(index: JobIndex, person: PersonRow) -> _Scores:
    n = len(index)
    person_keys = list(dict.fromkeys(norm_skill(s) for s in person.skills if s and s.strip()))
    skills, _overlap = _skills_scores(index, person_keys)
    location = index.location_scores(person.locations)
    experience = _experience_scores(index, person.years)
    salary = _salary_scores(index, person.salary_min, person.salary_max)
    roles = index.role_mask(person.desired_roles) if person.desired_roles else np.zeros(n, dtype=bool)
    weights = person_weights(person.weights)
    base = (
        weights["skills"] * skills
        + weights["experience"] * experience
        + weights["location"] * location
        + weights["salary"] * salary
    )
    # Skills also gate the rest: a convenient location and salary don't make a job you can't do a match.
    overall = base * (SKILLS_GATE + (1.0 - SKILLS_GATE) * skills / 100.0) + np.where(roles, ROLE_BONUS, 0.0)
    overall = np.minimum(overall, 100.0)
    return _Scores(person_keys, skills, location, experience, salary, roles, overall)


def fit_scores(index: JobIndex, person: PersonRow) -> np.ndarray:
    """Every job's overall fit for the person, by index position and unrounded: what `score_person`
    filters and ranks by (callers that need only the fit skip building candidates)."""
    if not len(index):
        return np.zeros(0, dtype=np.float64)
    return _scores(index, person).overall


def score_person(index: JobIndex, person: PersonRow, *, top_k: int, floor: float, window_end_ts: float) -> PersonResult:
    """The person's new jobs scored; up to `top_k` at or above `floor`, best first (newer wins ties)."""
    n = len(index)
    new = (index.created > person.window_start_ts) & (index.created <= window_end_ts)
    if person.exclude_job_ids:
        excluded = [index.position[j] for j in person.exclude_job_ids if j in index.position]
        new[excluded] = False
    considered = int(new.sum())
    result = PersonResult(profile_id=person.profile_id, considered=considered, above_floor=0)
    if not considered or not n:
        return result
    scores = _scores(index, person)
    person_keys, overall, roles = scores.person_keys, scores.overall, scores.roles
    skills, location, experience, salary = scores.skills, scores.location, scores.experience, scores.salary
    eligible = new & (overall >= floor)
    positions = np.flatnonzero(eligible)
    result.above_floor = int(positions.size)
    if not positions.size or top_k <= 0:
        return result
    if positions.size > top_k:
        # argpartition finds the best k in linear time; only those k get sorted.
        part = np.argpartition(-overall[positions], top_k - 1)[:top_k]
        positions = positions[part]
    order = np.lexsort((-index.created[positions], -overall[positions]))
    person_set = set(person_keys)
    for pos in positions[order].tolist():
        job_keys = index.skill_keys[pos]
        job = index.jobs[pos]
        display = {norm_skill(s): s for s in job.skills}
        required = float(index.required[pos])
        result.candidates.append(
            Candidate(
                job_id=int(index.ids[pos]),
                overall=round(float(overall[pos]), 1),
                skills=round(float(skills[pos]), 1),
                location=round(float(location[pos]), 1),
                experience=round(float(experience[pos]), 1),
                salary=round(float(salary[pos]), 1),
                role_match=bool(roles[pos]),
                matched_skills=tuple(display[k] for k in job_keys if k in person_set),
                missing_skills=tuple(display[k] for k in job_keys if k not in person_set),
                required_years=None if math.isnan(required) else required,
            )
        )
    return result
