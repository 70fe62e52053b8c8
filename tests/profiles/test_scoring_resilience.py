"""Scoring through crashes and outages (issue 15): the run's lease, calls outside any transaction,
deferral in background runs, stored fallbacks re-sent once the provider is healthy (a model score
replaces a fallback, never the reverse), and the scheduled tasks run once per period."""

from datetime import timedelta

import pytest
import time_machine
from django.db import DatabaseError, connection
from django.utils import timezone

from config.leases import HeldLease, lease_acquire
from config.models import Lease
from llm.breaker import get_breaker
from llm.models import LLMCall
from llm.providers import provider_config
from profiles.matching import tasks as matching_tasks
from profiles.matching.llm.job_score import SCORE_VERSION, JobScoreOutput
from profiles.matching.services import scoring
from profiles.matching.services.scoring import job_scores_run
from profiles.matching.store import ScoredPair, job_scores_store
from profiles.models import JobScore
from profiles.tasks import digests_generate, job_scores_cleanup, job_scores_run_all
from tests.factories import JobFactory, JobScoreFactory, ProfileFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _matching_settings(settings):
    settings.MATCH_LLM_TOP_K = 5
    settings.MATCH_MIN_SCORE = 0  # the simulator's numbers are arbitrary: keep them all
    settings.MATCH_PREFILTER_MIN_SCORE = 45
    settings.MATCH_LLM_DAILY_LIMIT = 20
    settings.MATCH_LLM_MIN_PREFILTER_SCORE = 0  # every candidate goes through the model
    settings.MATCH_PREFILTER_CONFIDENT_SCORE = 101
    settings.MATCH_RUN_LEASE_S = 300


def breaker():
    return get_breaker(provider_config().name)


def model_calls():
    return LLMCall.objects.filter(task="job_score", attempts__gt=0).count()


# --- the run's lease ------------------------------------------------------------------------------


def test_a_live_lease_makes_the_scheduled_run_skip(settings):
    settings.LLM_PROVIDER = "offline"
    assert lease_acquire(name=matching_tasks.SCORING_LEASE, holder="another-worker", ttl_s=300)

    assert matching_tasks.job_scores_run_leased() == {"skipped": True}
    assert Lease.objects.get(name=matching_tasks.SCORING_LEASE).holder == "another-worker"


def test_a_dead_runs_expired_lease_does_not_block_the_next_run(settings):
    settings.LLM_PROVIDER = "offline"
    ProfileFactory()
    JobFactory()
    with time_machine.travel(timezone.now() - timedelta(minutes=6), tick=False):
        lease_acquire(name=matching_tasks.SCORING_LEASE, holder="killed-worker", ttl_s=300)

    summary = matching_tasks.job_scores_run_leased()

    assert summary["people"] == 1
    assert JobScore.objects.count() == 1
    assert not Lease.objects.filter(name=matching_tasks.SCORING_LEASE).exists()  # released at the end


def test_the_lease_is_released_when_the_run_fails(settings, monkeypatch):
    settings.LLM_PROVIDER = "offline"

    def broken(**kwargs):
        raise DatabaseError("connection lost")

    monkeypatch.setattr(scoring, "job_scores_run", broken)
    with pytest.raises(DatabaseError):
        job_scores_run_all()

    assert not Lease.objects.filter(name=matching_tasks.SCORING_LEASE).exists()
    monkeypatch.undo()
    assert "people" in job_scores_run_all()  # the failed run gave its hour back, too


def test_the_run_renews_its_lease_as_it_works_and_stops_once_it_is_lost():
    holder = "this-run"
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        lease_acquire(name=matching_tasks.SCORING_LEASE, holder=holder, ttl_s=300)
        keeper = HeldLease(name=matching_tasks.SCORING_LEASE, holder=holder, ttl_s=300)
    with time_machine.travel(start + timedelta(minutes=1), tick=False):
        assert keeper.keep()
    assert Lease.objects.get().expires_at == start + timedelta(minutes=5)  # too soon to renew
    with time_machine.travel(start + timedelta(minutes=2), tick=False):
        assert keeper.keep()
    assert Lease.objects.get().expires_at == start + timedelta(minutes=7)

    Lease.objects.update(holder="a-later-run")  # ours expired and another run took it over
    with time_machine.travel(start + timedelta(minutes=4), tick=False):
        assert not keeper.keep()
    with time_machine.travel(start + timedelta(minutes=9), tick=False):
        assert not keeper.keep()  # lost for good: never renewed again


# --- calls outside transactions -------------------------------------------------------------------


def test_the_model_is_asked_outside_any_transaction(sim, monkeypatch):
    ProfileFactory()
    JobFactory.create_batch(2)
    open_blocks = []
    real_run_many = scoring.run_many

    def watching(*args, **kwargs):
        open_blocks.append([b for b in connection.atomic_blocks if not getattr(b, "_from_testcase", False)])
        return real_run_many(*args, **kwargs)

    monkeypatch.setattr(scoring, "run_many", watching)
    job_scores_run()

    assert open_blocks == [[]]


def test_the_ledger_keeps_the_calls_of_a_run_that_dies_before_storing(sim, settings, monkeypatch):
    settings.LLM_LEDGER_OWN_CONNECTION = False  # the ledger's own connection aside, nothing holds the rows
    profile = ProfileFactory()
    JobFactory.create_batch(3)

    def dies(**kwargs):
        raise DatabaseError("killed")

    monkeypatch.setattr(scoring, "job_scores_store", dies)
    with pytest.raises(DatabaseError):
        job_scores_run()

    assert model_calls() == 3  # the day's budget sees the spend
    assert not JobScore.objects.exists()
    profile.refresh_from_db()
    assert profile.last_scored_at is None  # the jobs are still new to the next run


# --- deferral in background runs -------------------------------------------------------------------


def test_a_background_run_defers_what_the_provider_cannot_serve_and_the_next_run_scores_it(sim):
    profile = ProfileFactory()
    JobFactory.create_batch(2)
    sim.script("insufficient_quota")  # opens the breaker: the other pair never leaves

    first = job_scores_run(defer_when_unavailable=True)

    assert (first.deferred, first.llm_fallbacks) == (2, 0)
    assert not JobScore.objects.exists()  # no rule-based text in place of the model's
    profile.refresh_from_db()
    assert profile.last_scored_at is None

    breaker().reset()  # the provider is back
    second = job_scores_run(defer_when_unavailable=True)

    assert second.deferred == 0
    assert JobScore.objects.filter(profile=profile, is_fallback=False).count() == 2


def test_a_person_facing_run_still_falls_back_and_a_later_run_replaces_it(sim):
    profile = ProfileFactory()
    job = JobFactory()
    sim.script("insufficient_quota")

    job_scores_run(profile_ids=[profile.id])  # someone is waiting: the flagged rule-based score
    score = JobScore.objects.get()
    assert (score.is_fallback, score.fallback_reason) == (True, "insufficient_quota")

    assert job_scores_run().resent == 0  # breaker open: nothing is re-sent
    breaker().reset()
    again = job_scores_run()

    assert again.resent == 1
    score = JobScore.objects.get(profile=profile, job=job)
    assert (score.is_fallback, score.fallback_reason) == (False, "")


# --- re-sending stored fallbacks -------------------------------------------------------------------


def test_offline_fallbacks_are_rescored_by_the_model_once_a_provider_is_there(sim, settings):
    settings.LLM_PROVIDER = "offline"
    ProfileFactory()
    JobFactory.create_batch(2)
    job_scores_run()
    assert set(JobScore.objects.values_list("is_fallback", "fallback_reason")) == {(True, "offline")}

    settings.LLM_PROVIDER = "openai"
    summary = job_scores_run()

    assert (summary.considered, summary.resent) == (0, 2)  # no new jobs: only the re-sends
    assert not JobScore.objects.filter(is_fallback=True).exists()
    assert model_calls() == 2
    assert job_scores_run().resent == 0  # model scores are never sent again


def test_re_sends_come_after_new_jobs_within_the_daily_budget(sim, settings):
    settings.MATCH_LLM_DAILY_LIMIT = 3
    profile = ProfileFactory()
    old_jobs = JobFactory.create_batch(3)
    for job in old_jobs:
        JobScoreFactory(profile=profile, job=job, is_fallback=True, fallback_reason="circuit_open")
    profile.last_scored_at = timezone.now()
    profile.save(update_fields=["last_scored_at"])
    JobFactory.create_batch(2)  # new since

    summary = job_scores_run()

    assert (summary.sent_to_llm, summary.resent) == (3, 1)
    assert model_calls() == 3
    assert JobScore.objects.filter(job__in=old_jobs, is_fallback=True).count() == 2  # wait for tomorrow
    assert job_scores_run().sent_to_llm == 0  # today's budget is spent


def test_the_rules_own_judgements_are_not_re_sent(sim):
    profile = ProfileFactory()
    JobScoreFactory(profile=profile, is_fallback=True, fallback_reason="prefilter_confident")
    JobScoreFactory(profile=profile, is_fallback=True, fallback_reason="refusal")
    declined = JobScoreFactory(profile=profile, is_fallback=True, fallback_reason="daily_budget", user_interested=False)

    summary = job_scores_run()

    assert summary.resent == 0
    assert model_calls() == 0
    assert JobScore.objects.get(pk=declined.pk).is_fallback


# --- a fallback never replaces a model score -------------------------------------------------------


def pair(profile_id, job_id, *, score, fallback, reason=""):
    output = JobScoreOutput(
        compatibility_score=score,
        confidence_score=0.5,
        reasoning="rules" if fallback else "model",
        match_factors=[],
        mismatch_factors=[],
        skills_match_score=50,
        location_match_score=50,
        experience_match_score=50,
        salary_match_score=50,
        culture_match_score=50,
    )
    return ScoredPair(profile_id, job_id, SCORE_VERSION, "en", output, fallback, reason)


@pytest.mark.parametrize(("score", "remove_below"), [(90, True), (90, False), (10, True)])
def test_a_fallback_never_replaces_or_removes_a_model_score(settings, score, remove_below):
    settings.MATCH_MIN_SCORE = 60
    model = JobScoreFactory(compatibility_score=75, is_fallback=False)

    job_scores_store(
        pairs=[pair(model.profile_id, model.job_id, score=score, fallback=True, reason="circuit_open")],
        remove_below=remove_below,
    )

    model.refresh_from_db()
    assert (model.compatibility_score, model.is_fallback, model.ai_reasoning) == (75, False, "Strong skills overlap.")


def test_a_model_score_replaces_a_fallback_and_a_low_one_removes_it(settings):
    settings.MATCH_MIN_SCORE = 60
    replaced = JobScoreFactory(compatibility_score=70, is_fallback=True, fallback_reason="circuit_open")
    removed = JobScoreFactory(compatibility_score=70, is_fallback=True, fallback_reason="circuit_open")
    kept = JobScoreFactory(compatibility_score=70, is_fallback=True, fallback_reason="offline", user_applied=True)

    job_scores_store(
        pairs=[
            pair(replaced.profile_id, replaced.job_id, score=85, fallback=False),
            pair(removed.profile_id, removed.job_id, score=20, fallback=False),
            pair(kept.profile_id, kept.job_id, score=20, fallback=False),
        ]
    )

    replaced.refresh_from_db()
    assert (replaced.compatibility_score, replaced.is_fallback, replaced.fallback_reason) == (85, False, "")
    assert not JobScore.objects.filter(pk=removed.pk).exists()
    kept.refresh_from_db()  # the person acted on it: kept, with the model's honest score
    assert (kept.compatibility_score, kept.is_fallback, kept.user_applied) == (20, False, True)


def test_a_newer_fallback_refreshes_a_stored_fallback(settings):
    settings.MATCH_MIN_SCORE = 60
    stored = JobScoreFactory(compatibility_score=70, is_fallback=True, fallback_reason="daily_budget")

    job_scores_store(pairs=[pair(stored.profile_id, stored.job_id, score=72, fallback=True, reason="quality")])

    stored.refresh_from_db()
    assert (stored.compatibility_score, stored.fallback_reason) == (72, "quality")  # no longer re-sent


# --- once per period -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("task", "service", "result"),
    [
        (job_scores_run_all, "profiles.matching.tasks.job_scores_run_leased", {"people": 0}),
        (digests_generate, "profiles.matching.services.digests.digests_generate", None),
        (job_scores_cleanup, "profiles.matching.services.scoring.job_scores_cleanup", 0),
    ],
)
def test_a_duplicate_send_in_the_same_period_does_nothing(monkeypatch, task, service, result):
    from profiles.matching.services.digests import DigestRunSummary

    calls = []
    value = DigestRunSummary() if result is None else result
    monkeypatch.setattr(service, lambda **kwargs: calls.append(kwargs) or value)

    with time_machine.travel(timezone.now().replace(minute=30), tick=False):
        first = task()
        second = task()

    assert len(calls) == 1
    assert first is not None
    assert second is None
