"""Matching quality on the golden set (profiles/matching/fixtures/golden_set.json, built by
profiles/matching/golden/generate.py): precision@5, precision@10, nDCG@10 and coverage, for the
prefilter alone and for the full pipeline, and the change against a stored baseline.

- The postings are read through the real feed parser (skills, salary, remote, language as at
  ingest); the people's profile fields become the prefilter's rows as in a scoring run.
- prefilter: each person's candidates at or above MATCH_PREFILTER_MIN_SCORE, best first.
- pipeline: what a person is shown after a scoring run — the top MATCH_LLM_TOP_K candidates,
  split by `llm_candidates` (the model sees the ones the rules are unsure of), JOB_SCORE on those
  through the provider in place (the simulator with --simulator), the rules' scores for the rest;
  kept at or above MATCH_MIN_SCORE, best first (as the matches API lists them).
- precision@k: relevant jobs (grade ≥ 1) among the first k shown, over k (a shorter list counts
  its empty places as misses); nDCG@10 with gains 2^grade − 1; coverage: the share of people with
  at least one relevant job among their first 10. All are means over people, 0..1.
A drop of precision@10 by more than REGRESSION_POINTS (2 points) against the baseline of the same
stage and provider is a regression.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.conf import settings

from catalog.jobs.parsing import parse_feed
from llm.runtime import run_many
from profiles.matching.llm.job_score import JOB_SCORE, SCORE_VERSION
from profiles.matching.prefilter import JobIndex, score_person
from profiles.matching.services.scoring import ScoringPerson, job_row, job_score_input, llm_candidates, person_row

FIXTURES = Path(__file__).with_name("fixtures")
GOLDEN_SET = FIXTURES / "golden_set.json"
BASELINE = FIXTURES / "matching_eval_baseline.json"
REGRESSION_POINTS = 0.02
POSTED = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)  # every golden posting is new to every person
FEED_HEADER = (
    '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0" xmlns:job="https://contentops.local/ns/job">'
    "<channel><title>Golden set</title><link>https://jobs.example.com/golden/</link><description>g</description>"
)


@dataclass(frozen=True)
class Metrics:
    people: int
    precision_at_5: float
    precision_at_10: float
    ndcg_at_10: float
    coverage: float
    shown_per_person: float  # how long the lists are (a pipeline that shows little can look precise)
    model_calls: int = 0


@dataclass
class GoldenSet:
    people: list[ScoringPerson]
    languages: dict[int, str]  # person id → profile language
    index: JobIndex
    grades: dict[tuple[int, int], int]  # (person id, job id) → 0, 1, 2
    job_ids: dict[str, int]


@dataclass
class EvalReport:
    golden_set: str
    score_version: str
    stages: dict[str, dict[str, Any]] = field(default_factory=dict)  # stage → metrics (+ by language)
    baseline: dict[str, dict[str, Any]] = field(default_factory=dict)
    change: dict[str, dict[str, float]] = field(default_factory=dict)
    regressions: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def golden_set_load(*, path: Path = GOLDEN_SET, people: int | None = None) -> GoldenSet:
    """The golden set as the prefilter sees it (postings through the feed parser)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    job_ids = {job["id"]: n for n, job in enumerate(data["jobs"], start=1)}
    body = (FEED_HEADER + "".join(job["rss_item"] for job in data["jobs"]) + "</channel></rss>").encode()
    listings = {item.guid.removeprefix("golden-"): item for item in parse_feed(body, check_ahead=False).listings}
    rows = []
    for key, n in job_ids.items():
        item = listings[key]
        rows.append(job_row({**item.values(), "id": n, "excerpt": item.description[:600], "created_at": POSTED}))
    index = JobIndex(rows)
    chosen = data["people"][:people] if people else data["people"]
    scoring_people, languages = [], {}
    for n, person in enumerate(chosen, start=1):
        # Negative ids: the ledger's rows for these calls can never count against a real person's budget.
        values = {**person["profile"], "id": -n, "match_weights": {}}
        scoring_people.append(
            ScoringPerson(values=values, row=person_row(values, window_start_ts=0.0), rescore=False, advance=False)
        )
        languages[-n] = person["profile"]["language"]
    person_ids = {person["id"]: -n for n, person in enumerate(chosen, start=1)}
    grades = {
        (person_ids[label["person"]], job_ids[label["job"]]): int(label["relevance"])
        for label in data["labels"]
        if label["person"] in person_ids
    }
    return GoldenSet(people=scoring_people, languages=languages, index=index, grades=grades, job_ids=job_ids)


def metrics_compute(
    *, shown: Mapping[int, Sequence[int]], grades: dict[tuple[int, int], int], model_calls: int = 0
) -> Metrics:
    """Precision@5/@10, nDCG@10 and coverage of the lists `shown` (person id → job ids, best first)."""
    p5 = p10 = ndcg = covered = 0.0
    for person, jobs in shown.items():
        relevant = [grades.get((person, job), 0) for job in jobs[:10]]
        p5 += sum(1 for g in relevant[:5] if g > 0) / 5
        p10 += sum(1 for g in relevant if g > 0) / 10
        dcg = sum((2**g - 1) / math.log2(rank + 2) for rank, g in enumerate(relevant))
        ideal = sorted((g for (p, _), g in grades.items() if p == person and g > 0), reverse=True)[:10]
        idcg = sum((2**g - 1) / math.log2(rank + 2) for rank, g in enumerate(ideal))
        ndcg += dcg / idcg if idcg else 0.0
        covered += any(g > 0 for g in relevant)
    n = max(len(shown), 1)
    return Metrics(
        people=len(shown),
        precision_at_5=round(p5 / n, 4),
        precision_at_10=round(p10 / n, 4),
        ndcg_at_10=round(ndcg / n, 4),
        coverage=round(covered / n, 4),
        shown_per_person=round(sum(len(jobs) for jobs in shown.values()) / n, 2),
        model_calls=model_calls,
    )


def _candidates(golden: GoldenSet) -> dict[int, list[Any]]:
    floor = float(settings.MATCH_PREFILTER_MIN_SCORE)
    return {
        person.row.profile_id: score_person(
            golden.index, person.row, top_k=len(golden.index), floor=floor, window_end_ts=math.inf
        ).candidates
        for person in golden.people
    }


def _pipeline(golden: GoldenSet, candidates: dict[int, list[Any]]) -> tuple[dict[int, list[int]], int]:
    """What each person is shown after a scoring run, and how many model calls it took."""
    top_k, keep = settings.MATCH_LLM_TOP_K, float(settings.MATCH_MIN_SCORE)
    scored: dict[int, list[tuple[float, float, int]]] = {p.row.profile_id: [] for p in golden.people}
    inputs = []
    for person in golden.people:
        ask, rules = llm_candidates(candidates[person.row.profile_id][:top_k])
        for candidate, _reason in rules:
            rounded = float(round(candidate.overall))  # the rules' output, as JOB_SCORE's fallback gives it
            scored[person.row.profile_id].append((rounded, candidate.overall, candidate.job_id))
        inputs += [job_score_input(person, candidate, golden.index) for candidate in ask]
    pre = {(c.job_id, pid): c.overall for pid, cs in candidates.items() for c in cs}
    for outcome in run_many(JOB_SCORE, inputs, apply=False) if inputs else []:
        if outcome.result is None:
            continue
        given = outcome.task_input
        score = float(outcome.result.output.compatibility_score)
        scored[given.profile_id].append((score, pre[(given.job_id, given.profile_id)], given.job_id))
    shown = {
        pid: [job for score, _pre, job in sorted(rows, key=lambda r: (-r[0], -r[1], r[2])) if score >= keep]
        for pid, rows in scored.items()
    }
    return shown, len(inputs)


def _by_language(golden: GoldenSet, shown: dict[int, list[int]], calls: int) -> dict[str, Any]:
    result: dict[str, Any] = asdict(metrics_compute(shown=shown, grades=golden.grades, model_calls=calls))
    for language in ("en", "ja"):
        subset = {pid: jobs for pid, jobs in shown.items() if golden.languages[pid] == language}
        if subset:
            metrics = asdict(metrics_compute(shown=subset, grades=golden.grades))
            metrics.pop("model_calls")
            result[language] = metrics
    return result


def baseline_load(path: Path = BASELINE) -> dict[str, dict[str, Any]]:
    try:
        return json.loads(path.read_text(encoding="utf-8")).get("stages", {})
    except FileNotFoundError:
        return {}


def baseline_write(report: EvalReport, path: Path = BASELINE) -> None:
    """Store this run's figures as the baseline (merged: stages not run keep theirs)."""
    stages = {**baseline_load(path), **report.stages}
    path.write_text(
        json.dumps({"score_version": report.score_version, "stages": stages}, indent=1, ensure_ascii=False) + "\n",
        encoding="utf-8",
    )


def matching_evaluate(
    *,
    pipeline_stage: str | None,
    people: int | None = None,
    golden_path: Path = GOLDEN_SET,
    baseline_path: Path = BASELINE,
) -> EvalReport:
    """Evaluate the prefilter and (when `pipeline_stage` names the provider in place, e.g.
    "pipeline:simulator") the full pipeline; compare with the baseline of each stage."""
    golden = golden_set_load(path=golden_path, people=people)
    report = EvalReport(golden_set=golden_path.name, score_version=SCORE_VERSION)
    candidates = _candidates(golden)
    prefilter_shown = {pid: [c.job_id for c in cs] for pid, cs in candidates.items()}
    report.stages["prefilter"] = _by_language(golden, prefilter_shown, 0)
    if pipeline_stage:
        shown, calls = _pipeline(golden, candidates)
        report.stages[pipeline_stage] = _by_language(golden, shown, calls)
    baseline = baseline_load(baseline_path) if people is None else {}
    for stage, metrics in report.stages.items():
        before = baseline.get(stage)
        if not before:
            continue
        report.baseline[stage] = before
        names = ("precision_at_5", "precision_at_10", "ndcg_at_10", "coverage", "shown_per_person", "model_calls")
        report.change[stage] = {name: round(metrics[name] - before.get(name, 0), 4) for name in names}
        if before["precision_at_10"] - metrics["precision_at_10"] > REGRESSION_POINTS + 1e-9:
            report.regressions.append(
                f"{stage}: precision@10 {metrics['precision_at_10']:.3f} is more than "
                f"{REGRESSION_POINTS * 100:.0f} points below the baseline {before['precision_at_10']:.3f}"
            )
    return report
