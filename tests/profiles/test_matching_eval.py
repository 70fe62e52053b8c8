"""Quality measured: the golden set loads and is what its script builds, the metrics are right on
small cases, `matching_eval` runs and flags regressions, and the model is asked only where the
prefilter is unsure (the cost lever)."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from profiles.matching.evaluation import BASELINE, GOLDEN_SET, golden_set_load, metrics_compute
from profiles.matching.golden.generate import Job, Person, build, judge
from profiles.matching.llm.job_score import JobBrief, JobScoreInput, PersonBrief, PreScores, build_messages
from profiles.matching.prefilter import Candidate
from profiles.matching.services.scoring import job_scores_run, llm_candidates
from profiles.models import JobScore
from tests.factories import JobFactory, ProfileFactory

# --- the golden set --------------------------------------------------------------------------------


def test_the_golden_set_is_what_its_script_builds():
    assert json.loads(GOLDEN_SET.read_text(encoding="utf-8")) == json.loads(json.dumps(build()))


def test_the_golden_set_covers_people_jobs_and_both_languages_with_reasons():
    data = json.loads(GOLDEN_SET.read_text(encoding="utf-8"))

    assert len(data["people"]) >= 30
    assert len(data["jobs"]) >= 60
    assert {p["profile"]["language"] for p in data["people"]} == {"en", "ja"}
    assert {j["facts"]["language"] for j in data["jobs"]} == {"en", "ja"}
    assert len(data["labels"]) == len(data["people"]) * len(data["jobs"])
    assert all(label["reason"] and label["relevance"] in (0, 1, 2) for label in data["labels"])
    reasons = {label["reason"].split(":")[0] for label in data["labels"]}
    assert {"language", "role", "skills", "experience", "location", "relevant", "strong"} <= reasons


def _person(**changes) -> Person:
    values = {
        "id": "p",
        "language": "en",
        "reads_japanese": False,
        "tracks": ["backend"],
        "skills": ["Python", "Django", "SQL"],
        "years": 0.0,
        "home": "tokyo",
        "cities": ["tokyo"],
        "remote_ok": True,
        "salary_min": 4_000_000,
    }
    return Person(**{**values, **changes})


def _job(**changes) -> Job:
    values = {
        "id": "j",
        "language": "en",
        "track": "backend",
        "level": "new_grad",
        "city": "tokyo",
        "remote_country": None,
        "skills": ["Python", "Django", "Go", "SQL"],
        "nice": [],
        "salary": (4_500_000, 5_500_000),
        "currency": "JPY",
        "company": "Kumo Systems",
    }
    return Job(**{**values, **changes})


@pytest.mark.parametrize(
    ("job", "person", "grade", "reason"),
    [
        (_job(), _person(), 2, "strong"),
        (_job(skills=["Python", "Go", "Rust", "SQL"]), _person(), 1, "relevant"),
        (_job(language="ja"), _person(), 0, "language"),
        (_job(track="mobile"), _person(), 0, "role"),
        (_job(skills=["Go", "Rust", "Java", "Python"]), _person(), 0, "skills"),
        (_job(level="mid"), _person(), 0, "experience"),
        (_job(level="intern"), _person(years=6.0), 0, "experience"),
        (_job(city="osaka"), _person(), 0, "location"),
        (_job(city=None, remote_country="us"), _person(), 0, "location"),
        (_job(salary=(3_000_000, 3_500_000)), _person(), 0, "salary"),
    ],
)
def test_labels_follow_the_recruiters_rules(job, person, grade, reason):
    got, why = judge(person, job)
    assert got == grade
    assert why.startswith(reason)


def test_metrics_on_a_small_case():
    grades = {(1, 10): 2, (1, 11): 1, (1, 12): 0, (2, 20): 1}
    shown = {1: [12, 10, 11], 2: [21]}

    metrics = metrics_compute(shown=shown, grades=grades)

    assert metrics.precision_at_5 == pytest.approx((2 / 5 + 0) / 2)
    assert metrics.precision_at_10 == pytest.approx((2 / 10) / 2)
    assert metrics.coverage == 0.5
    # person 1: DCG = 3/log2(3) + 1/log2(4); ideal = 3/log2(2) + 1/log2(3); person 2: 0
    dcg = 3 / 1.584962500721156 + 1 / 2
    ideal = 3 + 1 / 1.584962500721156
    assert metrics.ndcg_at_10 == pytest.approx(round((dcg / ideal) / 2, 4), abs=1e-4)


def test_the_golden_postings_go_through_the_feed_parser():
    golden = golden_set_load(people=2)

    assert len(golden.index) >= 60
    japanese = [job for job in golden.index.jobs if "エンジニア" in job.title or "アナリスト" in job.title]
    assert japanese
    assert all(job.skills for job in golden.index.jobs)
    assert any(job.salary_currency == "JPY" and job.salary_min for job in golden.index.jobs)


# --- the command ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_matching_eval_prefilter_matches_the_stored_baseline():
    out = StringIO()

    call_command("matching_eval", "--prefilter-only", "--json", "--fail-on-regression", stdout=out)

    report = json.loads(out.getvalue())
    baseline = json.loads(BASELINE.read_text(encoding="utf-8"))["stages"]["prefilter"]
    assert report["stages"]["prefilter"]["precision_at_10"] == baseline["precision_at_10"]
    assert report["change"]["prefilter"]["precision_at_10"] == 0
    assert report["regressions"] == []
    for name in ("precision_at_5", "precision_at_10", "ndcg_at_10", "coverage"):
        assert 0 <= report["stages"]["prefilter"][name] <= 1


@pytest.mark.django_db
def test_matching_eval_runs_the_pipeline_on_the_simulator():
    out = StringIO()

    call_command("matching_eval", "--simulator", "--people", "4", "--json", stdout=out)

    report = json.loads(out.getvalue())
    pipeline = report["stages"]["pipeline:simulator"]
    assert pipeline["people"] == 4
    assert pipeline["model_calls"] > 0
    assert {"en", "ja"} & set(pipeline)


@pytest.mark.django_db
def test_a_drop_of_precision_at_10_over_two_points_is_a_regression(tmp_path):
    stored = json.loads(BASELINE.read_text(encoding="utf-8"))
    stored["stages"]["prefilter"]["precision_at_10"] += 0.03
    baseline = tmp_path / "baseline.json"
    baseline.write_text(json.dumps(stored))
    out = StringIO()

    args = ["--prefilter-only", "--baseline", str(baseline), "--fail-on-regression"]
    with pytest.raises(CommandError, match="regression"):
        call_command("matching_eval", *args, stdout=out)

    assert "REGRESSION prefilter: precision@10" in out.getvalue()
    # Two points exactly is within tolerance
    stored["stages"]["prefilter"]["precision_at_10"] -= 0.01
    baseline.write_text(json.dumps(stored))
    call_command("matching_eval", *args, stdout=out)


# --- the cost lever: the model sees only what the rules are unsure of ---------------------------------


def _candidate(job_id: int, overall: float) -> Candidate:
    return Candidate(
        job_id=job_id,
        overall=overall,
        skills=overall,
        location=100,
        experience=100,
        salary=60,
        role_match=False,
        matched_skills=(),
        missing_skills=(),
        required_years=None,
    )


def test_llm_candidates_keep_clear_and_weak_matches_from_the_model(settings):
    settings.MATCH_LLM_MIN_PREFILTER_SCORE, settings.MATCH_PREFILTER_CONFIDENT_SCORE = 70, 90

    ask, rules = llm_candidates([_candidate(1, 95), _candidate(2, 80), _candidate(3, 69.9), _candidate(4, 90)])

    assert [c.job_id for c in ask] == [2]
    assert [(c.job_id, reason) for c, reason in rules] == [
        (1, "prefilter_confident"),
        (3, "prefilter_weak"),
        (4, "prefilter_confident"),
    ]


@pytest.mark.django_db
def test_a_run_sends_only_unsure_candidates_and_stores_clear_ones_flagged(sim, settings):
    settings.MATCH_LLM_MIN_PREFILTER_SCORE, settings.MATCH_PREFILTER_CONFIDENT_SCORE = 70, 90
    settings.MATCH_MIN_SCORE = 60
    person = ProfileFactory()
    clear = JobFactory()  # everything fits the factory profile: a clear match
    JobFactory(skills=["Python", "Go", "Rust", "Kubernetes"], location="Osaka, Japan")  # weak: 1 of 4 skills

    summary = job_scores_run(profile_ids=[person.pk])

    assert (summary.rules_confident, summary.rules_weak, summary.sent_to_llm) == (1, 1, 0)
    stored = JobScore.objects.get(profile=person)
    assert stored.job == clear
    assert stored.is_fallback
    assert stored.ai_reasoning.endswith("(a clear match by the rules, so no AI review was needed)")


def test_the_compact_prompt_gives_skills_once_and_no_labelled_lines():
    given = JobScoreInput(
        profile_id=1,
        job_id=2,
        score_version="1",
        language="en",
        person=PersonBrief(
            years=1, level="junior", skills=["Python", "Django", "Flask"], desired_roles=["Backend Engineer"],
            locations=["Tokyo"], salary="4,000,000 JPY",
        ),
        job=JobBrief(
            title="Backend Engineer", company="Acme", location="Tokyo", remote=False, salary="5,000,000 JPY",
            skills=["Python", "Go"], excerpt="Build APIs for payments.",
        ),
        pre=PreScores(
            overall=80, skills=50, location=100, experience=100, salary=100, role_match=True,
            matched_skills=["Python"], missing_skills=["Go"], required_years=None,
        ),
    )  # fmt: skip

    user = build_messages(given)[1]["content"]

    assert user.count("Python") == 1
    assert "Skills shared: Python; missing: Go; other: Django, Flask" in user
    assert "Posting: Build APIs for payments." in user


def test_posting_excerpts_drop_the_lines_given_as_fields():
    from profiles.matching.text import posting_excerpt

    text = "Build APIs.\nLocation: Tokyo\nSalary: ¥5,000,000\n勤務地：東京都\nRequirements: Python, Go.\nShip weekly."
    assert posting_excerpt(text, 200) == "Build APIs. Ship weekly."
