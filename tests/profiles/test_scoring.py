"""Two-stage scoring against the database: threshold, incremental runs, K per person, the daily
budget, the simulator and the flagged offline fallback, re-scoring after a profile edit, cleanup."""

from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from llm.models import LLMCall
from profiles.matching.services.scoring import job_scores_cleanup, job_scores_prefilter, job_scores_run
from profiles.matching.text import mostly_japanese
from profiles.models import JobScore, UserProfile
from tests.factories import JobFactory, JobScoreFactory, ProfileFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _matching_settings(settings):
    settings.MATCH_LLM_TOP_K = 5
    settings.MATCH_MIN_SCORE = 60
    settings.MATCH_PREFILTER_MIN_SCORE = 45
    settings.MATCH_LLM_DAILY_LIMIT = 20
    # These tests follow every candidate through the model; the band that keeps clear and weak
    # matches from it has its own tests (tests/profiles/test_matching_eval.py).
    settings.MATCH_LLM_MIN_PREFILTER_SCORE = 0
    settings.MATCH_PREFILTER_CONFIDENT_SCORE = 101


@pytest.fixture
def offline(settings):
    settings.LLM_PROVIDER = "offline"


def ledger_rows_per_person(task="job_score"):
    rows = LLMCall.objects.filter(task=task).values_list("subject_id", flat=True)
    counts = {}
    for subject_id in rows:
        counts[int(subject_id)] = counts.get(int(subject_id), 0) + 1
    return counts


def test_offline_run_stores_only_scores_at_or_above_the_threshold_flagged_as_rule_based(offline):
    profile = ProfileFactory()
    good = JobFactory()  # Python/Django/AWS in Tokyo, new grad, salary in range
    weak = JobFactory(
        title="Senior Go Engineer",
        skills=["Go", "Kubernetes"],
        location="Osaka",
        salary_min=2_000_000,
        salary_max=3_000_000,
    )

    summary = job_scores_run()

    assert summary.considered == 2
    score = JobScore.objects.get()
    assert score.job == good
    assert score.profile == profile
    assert score.compatibility_score >= 60
    assert score.is_fallback
    assert "no AI provider is configured" in score.ai_reasoning
    assert any("Python" in factor for factor in score.match_factors)
    assert not JobScore.objects.filter(job=weak).exists()


def test_a_second_run_considers_nothing_new_and_makes_no_calls(offline):
    ProfileFactory()
    JobFactory.create_batch(3)
    job_scores_run()
    calls = LLMCall.objects.count()

    again = job_scores_run()

    assert again.considered == 0
    assert again.sent_to_llm == 0
    assert LLMCall.objects.count() == calls

    JobFactory()  # one new posting: only it is considered
    third = job_scores_run()
    assert third.considered == 1


def test_llm_calls_per_person_never_exceed_k(sim):
    people = ProfileFactory.create_batch(3)
    JobFactory.create_batch(12)

    summary = job_scores_run()

    per_person = ledger_rows_per_person()
    assert set(per_person) == {p.id for p in people}
    assert max(per_person.values()) == 5
    assert summary.sent_to_llm == 15


def test_simulated_model_scores_are_stored_with_the_models_fields(sim, settings):
    settings.MATCH_MIN_SCORE = 0  # the simulator's numbers are arbitrary: keep them all
    ProfileFactory()
    JobFactory.create_batch(2)

    summary = job_scores_run()

    assert summary.llm_fallbacks == 0
    scores = list(JobScore.objects.all())
    assert len(scores) == 2
    assert not any(s.is_fallback for s in scores)
    assert all(0 <= s.compatibility_score <= 100 and 0 <= s.confidence_score <= 1 for s in scores)
    assert all(s.ai_reasoning for s in scores)
    prompt = [c for c in sim.calls if c.endpoint == "chat.completions"][0].json["messages"][1]["content"]
    assert "Pat Example" not in prompt
    assert "@example.com" not in prompt


def test_japanese_profiles_get_japanese_reasoning_from_the_model(sim, settings):
    settings.MATCH_MIN_SCORE = 0
    ProfileFactory(language="ja")
    JobFactory(title="バックエンドエンジニア（新卒）", description="PythonとDjangoでAPIを開発します。")

    job_scores_run()

    score = JobScore.objects.get()
    assert not score.is_fallback
    assert mostly_japanese(score.ai_reasoning)


def test_the_daily_budget_sends_the_rest_as_flagged_rule_based_scores(sim, settings):
    settings.MATCH_MIN_SCORE = 0
    settings.MATCH_LLM_DAILY_LIMIT = 2
    profile = ProfileFactory()
    JobFactory.create_batch(4)

    summary = job_scores_run()

    assert ledger_rows_per_person() == {profile.id: 2}
    assert (summary.sent_to_llm, summary.over_budget) == (2, 2)
    over = JobScore.objects.filter(is_fallback=True)
    assert over.count() == 2
    assert all("budget" in s.ai_reasoning for s in over)

    JobFactory.create_batch(2)  # later the same day: no budget left, no calls
    job_scores_run()
    assert ledger_rows_per_person() == {profile.id: 2}


def test_a_failing_provider_falls_back_per_pair_and_says_so(sim, settings):
    settings.MATCH_MIN_SCORE = 0
    sim.script(*["insufficient_quota"] * 3)
    ProfileFactory()
    JobFactory()

    summary = job_scores_run()

    assert summary.llm_fallbacks == 1
    score = JobScore.objects.get()
    assert score.is_fallback
    assert "AI" in score.ai_reasoning


def test_an_edited_profile_is_rescored_and_its_stale_untouched_scores_replaced(offline):
    profile = ProfileFactory()
    job = JobFactory()
    other = JobFactory(title="Data Analyst", skills=["SQL", "Tableau"])
    job_scores_run()
    assert JobScore.objects.filter(profile=profile, job=job).exists()
    JobScore.objects.filter(profile=profile, job=job).update(user_applied=True)
    stale, _ = JobScore.objects.update_or_create(
        profile=profile, job=other, score_version="1", defaults={"compatibility_score": 99}
    )

    profile.refresh_from_db()
    profile.programming_languages, profile.frameworks_libraries, profile.tools_platforms = ["SQL"], [], ["Tableau"]
    profile.desired_roles = ["Data Analyst"]
    profile.save()
    summary = job_scores_run()

    assert summary.considered == 2  # the whole lookback window again
    assert summary.replaced == 1
    assert not JobScore.objects.filter(pk=stale.pk).exists()
    assert JobScore.objects.get(profile=profile, job=other).compatibility_score != 99  # re-scored
    assert JobScore.objects.get(profile=profile, job=job).user_applied  # acted on: kept


def test_bounded_on_demand_run_does_not_move_the_watermark_past_unconsidered_jobs(offline):
    profile = ProfileFactory()
    JobFactory.create_batch(3)

    summary = job_scores_run(profile_ids=[profile.id], job_limit=2, days_back=1)

    assert summary.considered == 2
    assert summary.truncated
    profile.refresh_from_db()
    assert profile.last_scored_at is None
    stored = JobScore.objects.filter(profile=profile).count()
    rest = job_scores_run(profile_ids=[profile.id])
    assert rest.considered == 3 - stored  # what's stored is never sent again


def test_prefilter_queries_do_not_grow_with_the_number_of_people(offline):
    JobFactory.create_batch(5)
    ProfileFactory.create_batch(2)
    UserProfile.objects.update(last_scored_at=None)
    with CaptureQueriesContext(connection) as few:
        job_scores_prefilter()
    ProfileFactory.create_batch(6)
    with CaptureQueriesContext(connection) as many:
        summary, *_ = job_scores_prefilter()

    assert summary.people == 8
    assert len(many) == len(few)


def test_cleanup_removes_old_untouched_scores_only(settings):
    settings.MATCH_SCORE_RETENTION_DAYS = 30
    with time_machine.travel(timezone.now() - timedelta(days=40), tick=False):
        old = JobScoreFactory()
        kept = JobScoreFactory(user_interested=True)
    recent = JobScoreFactory()

    deleted = job_scores_cleanup()

    assert deleted == 1
    assert not JobScore.objects.filter(pk=old.pk).exists()
    assert JobScore.objects.filter(pk__in=[kept.pk, recent.pk]).count() == 2
