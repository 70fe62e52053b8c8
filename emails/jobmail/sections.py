"""Choosing the six sections of a person's job email from our data (never from the model).

In order, with sizes from settings (JOB_EMAIL_SECTION_SIZES):
1. editorial_picks      jobs staff flagged (`is_editorial_pick`), by the person's fit;
2. top_recommendations  the person's highest stored job scores; filled from prefilter fits;
3. personalized_picks   next-best fits, boosted by likeness to what they applied to, marked
                        interested or clicked (their history); filled by fit alone;
4. new_arrivals         the newest active jobs (last 7 days) that pass their prefilter;
5. popular_jobs         most applications and clicks in the last 7 days; filled from all-time counts;
6. you_might_also_like  item-to-item co-occurrence (people who engaged with what they engaged
                        with); filled by jobs with similar skills.
A job appears in at most one section; jobs the person applied to or marked not interested never
appear. A section its sources can't fill stays short (nothing is made up) and says why.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import numpy as np
from django.conf import settings

from emails.jobmail.llm import SECTION_KEYS
from emails.jobmail.selectors import JobInfo, JobUniverse, PeopleData, Person
from profiles.matching.prefilter import fit_scores

NEW_ARRIVAL_DAYS = 7
# Co-occurrence reads at most this many neighbours per job, and this many jobs per neighbour.
COOCCURRENCE_USERS_CAP = 200
COOCCURRENCE_JOBS_CAP = 200
HISTORY_BOOST = 15.0


def section_sizes() -> dict[str, int]:
    sizes = settings.JOB_EMAIL_SECTION_SIZES
    return {key: int(sizes[key]) for key in SECTION_KEYS}


def _known(data: PeopleData, universe: JobUniverse) -> dict[int, JobInfo]:
    """Every job the chunk's sections may show (merged once per chunk, not per person)."""
    if not data.jobs:
        return universe.jobs
    if data.known is None or data.known[0] is not universe:
        data.known = (universe, {**data.jobs, **universe.jobs})
    return data.known[1]


@dataclass
class Pick:
    job_id: int
    source: str
    fit: float | None = None


@dataclass
class Section:
    key: str
    wanted: int
    picks: list[Pick] = field(default_factory=list)
    note: str = ""  # why it is short, when it is

    @property
    def job_ids(self) -> list[int]:
        return [p.job_id for p in self.picks]

    @property
    def sources(self) -> dict[str, int]:
        return dict(Counter(p.source for p in self.picks))

    @property
    def basis(self) -> str:
        """The source most of the section came from (the words mention it)."""
        counts = Counter(p.source for p in self.picks)
        return counts.most_common(1)[0][0] if counts else ""


@dataclass
class Selection:
    person: Person
    sections: list[Section]
    jobs: dict[int, JobInfo]

    def section_jobs(self) -> dict[str, list[int]]:
        return {s.key: s.job_ids for s in self.sections}

    def notes(self) -> dict[str, str]:
        return {s.key: s.note for s in self.sections if s.note}


class _Taker:
    """Fills sections in order, never taking a job twice or one the person must not see."""

    def __init__(self, excluded: set[int], known: dict[int, JobInfo]) -> None:
        self.used: set[int] = set()
        self.excluded = excluded
        self.known = known

    def fill(self, section: Section, candidates: Iterable[tuple[int, str, float | None]]) -> None:
        for job_id, source, fit in candidates:
            if len(section.picks) >= section.wanted:
                return
            if job_id in self.used or job_id in self.excluded or job_id not in self.known:
                continue
            self.used.add(job_id)
            section.picks.append(Pick(job_id=job_id, source=source, fit=None if fit is None else round(fit, 1)))


def _cooccurring(universe: JobUniverse, person: Person, history: set[int]) -> list[tuple[int, int]]:
    """Jobs engaged with by people who engaged with the person's jobs, by how many such links."""
    scores: Counter[int] = Counter()
    for job_id in history:
        neighbours = list(universe.engaged_users.get(job_id, ()))[:COOCCURRENCE_USERS_CAP]
        for user_id in neighbours:
            if user_id == person.owner_id:
                continue
            for other in list(universe.engaged_jobs.get(user_id, ()))[:COOCCURRENCE_JOBS_CAP]:
                if other not in history:
                    scores[other] += 1
    return scores.most_common()


def _similar_by_skills(universe: JobUniverse, seeds: set[str]) -> list[tuple[int, float]]:
    """Universe jobs by Jaccard likeness of their skills to `seeds` (only those sharing one)."""
    index = universe.index
    lists = [index.postings[key] for key in seeds if key in index.postings]
    if not lists or not len(index):
        return []
    overlap = np.bincount(np.concatenate(lists), minlength=len(index)).astype(np.float32)
    positions = np.flatnonzero(overlap > 0)
    union = index.skill_counts[positions] + len(seeds) - overlap[positions]
    jaccard = overlap[positions] / np.maximum(union, 1.0)
    order = np.lexsort((-index.created[positions], -jaccard))
    ids = index.ids[positions][order].tolist()
    return list(zip(ids, jaccard[order].tolist(), strict=True))


def _best(universe: JobUniverse, overall: np.ndarray, mask: np.ndarray, top_k: int) -> list[tuple[int, float]]:
    """(job id, fit) of the best `top_k` jobs in `mask`, best first, newer first among equals: the
    prefilter's own candidates (`score_person`), without building them (only the fit is used here)."""
    positions = np.flatnonzero(mask)
    if not positions.size or top_k <= 0:
        return []
    if positions.size > top_k:
        part = np.argpartition(-overall[positions], top_k - 1)[:top_k]
        positions = positions[part]
    chosen = positions[np.lexsort((-universe.index.created[positions], -overall[positions]))]
    return [
        (j, round(s, 1)) for j, s in zip(universe.index.ids[chosen].tolist(), overall[chosen].tolist(), strict=True)
    ]


def _by_fit_within(groups: list[dict[int, int]], fit: dict[int, float]) -> Iterator[int]:
    """The ids of rank groups in order, each group re-ordered by the person's fit (higher first; no
    fit counts as 0; ties keep the group's order). Lazy: a section takes the first few only."""
    for group in groups:
        known = sorted((-score, group[j], j) for j, score in fit.items() if score and j in group)
        if not known:
            yield from group
            continue
        yield from (j for key, _, j in known if key < 0)
        moved = {j for _, _, j in known}
        yield from (j for j in group if j not in moved)
        yield from (j for key, _, j in known if key > 0)


def sections_select(*, person: Person, data: PeopleData, universe: JobUniverse) -> Selection:
    """The person's six sections (see the module docstring for the rules)."""
    sizes = section_sizes()
    known = _known(data, universe)
    excluded = data.excluded.get(person.profile_id, set())
    history = data.history.get(person.profile_id, set())
    scores = data.scores.get(person.profile_id, [])
    taker = _Taker(excluded, known)
    now_ts = universe.now.timestamp()
    passing = settings.MATCH_PREFILTER_MIN_SCORE

    # Fit for every recommendable job: the stored score where there is one, else the prefilter's
    # (its best JOB_EMAIL_PREFILTER_TOP_K); both from one scoring of the whole universe.
    created = universe.index.created
    overall = fit_scores(universe.index, person.row)
    until_now = created <= now_ts
    if person.row.exclude_job_ids:
        position = universe.index.position
        until_now[[position[j] for j in person.row.exclude_job_ids if j in position]] = False
    prefit = dict(_best(universe, overall, until_now & (overall >= 0.0), settings.JOB_EMAIL_PREFILTER_TOP_K))
    fit: dict[int, float] = {**prefit, **dict(scores)}
    # This week's jobs that pass the prefilter: the prefilter's own "new jobs" window.
    recent = now_ts - NEW_ARRIVAL_DAYS * 86400
    newfit = dict(
        _best(universe, overall, until_now & (created > recent) & (overall >= passing), 2 * sizes["new_arrivals"])
    )
    sections = {key: Section(key=key, wanted=sizes[key]) for key in SECTION_KEYS}

    # 1. editorial picks, by fit (unknown fit last, newest first among them)
    editorial = sorted(universe.editorial, key=lambda j: (-fit.get(j, -1.0), -known[j].created_ts))
    section = sections["editorial_picks"]
    taker.fill(section, ((j, "editorial", fit.get(j)) for j in editorial))
    if len(section.picks) < section.wanted:
        section.note = f"only {len(section.picks)} active editorial pick(s) this week (not filled: staff choose them)"

    # 2. top recommendations: stored scores, then prefilter fits
    by_prefit = sorted(prefit.items(), key=lambda item: -item[1])
    section = sections["top_recommendations"]
    taker.fill(section, ((j, "job_score", s) for j, s in scores))
    taker.fill(section, ((j, "prefilter", s) for j, s in by_prefit if s >= passing))
    if len(section.picks) < section.wanted:
        section.note = "not enough scored or prefilter-passing jobs"
    elif section.sources.get("prefilter"):
        section.note = f"{section.sources['prefilter']} filled from prefilter fits (few stored scores)"

    # 3. personalized picks: fit boosted by likeness to the person's history, then fit alone
    section = sections["personalized_picks"]
    seeds = set().union(*(known[j].skill_keys for j in history if j in known)) if history else set()
    candidates = [(j, s) for j, s in fit.items() if s >= passing]
    if seeds:
        boosted = []
        for job_id, score in candidates:
            keys = known[job_id].skill_keys if job_id in known else set()
            likeness = len(keys & seeds) / len(keys | seeds) if keys else 0.0
            if likeness > 0:
                boosted.append((job_id, score + HISTORY_BOOST * likeness))
        boosted.sort(key=lambda item: -item[1])
        taker.fill(section, ((j, "history", fit[j]) for j, _ in boosted))
    taker.fill(section, ((j, "fit", s) for j, s in sorted(candidates, key=lambda item: -item[1])))
    if len(section.picks) < section.wanted:
        section.note = "not enough jobs pass the person's prefilter"
    elif not seeds:
        section.note = "no history yet (applied, interested, clicked): ranked by fit alone"

    # 4. new arrivals: newest first, among this week's jobs that pass the prefilter
    new = list(newfit.items())
    new.sort(key=lambda item: (-known[item[0]].created_ts, -item[1]))
    section = sections["new_arrivals"]
    taker.fill(section, ((j, "new", s) for j, s in new))
    if len(section.picks) < section.wanted:
        section.note = f"only {len(section.picks)} new job(s) this week pass the person's prefilter (not filled)"

    # 5. popular: last 7 days' applications and clicks, then all-time counts
    section = sections["popular_jobs"]
    week = _by_fit_within(universe.popular_7d_ranked, fit)
    taker.fill(section, ((j, "popular_7d", fit.get(j)) for j in week))
    if len(section.picks) < section.wanted:
        all_time = _by_fit_within(universe.all_time_ranked, fit)
        taker.fill(section, ((j, "popular_all_time", fit.get(j)) for j in all_time))
    if len(section.picks) < section.wanted:
        section.note = "not enough applications or clicks recorded (not filled)"
    elif section.sources.get("popular_all_time"):
        section.note = "little activity in the last 7 days: filled from all-time counts"

    # 6. you might also like: co-occurrence, then similar skills (history, else their best fits)
    section = sections["you_might_like"]
    if history:
        taker.fill(section, ((j, "co_occurrence", fit.get(j)) for j, _ in _cooccurring(universe, person, history)))
    if len(section.picks) < section.wanted:
        seed_jobs = history or {j for j, _ in sorted(fit.items(), key=lambda item: -item[1])[:3]}
        skill_seeds = set().union(*(known[j].skill_keys for j in seed_jobs if j in known)) if seed_jobs else set()
        taker.fill(section, ((j, "similar_skills", fit.get(j)) for j, _ in _similar_by_skills(universe, skill_seeds)))
    if len(section.picks) < section.wanted:
        section.note = "not enough co-engaged or similar jobs"
    elif section.sources.get("similar_skills") and not section.sources.get("co_occurrence"):
        section.note = "history too thin for co-occurrence: jobs with similar skills"

    ordered = [sections[key] for key in SECTION_KEYS]
    used = {p.job_id for s in ordered for p in s.picks}
    return Selection(person=person, sections=ordered, jobs={j: known[j] for j in used})
