"""The hourly job scoring SIGKILLed mid-run: the calls it made stay in the ledger (committed call by
call), its lease expires in seconds here (minutes in production, not an hour), and the redelivered
run scores everyone; the lease is released and the hour's run is recorded as finished."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone

from config.models import Lease, PeriodicRun
from llm.models import LLMCall
from profiles.models import JobScore, UserProfile
from tests.chaos.conftest import Chaos, assert_ledger_matches_provider
from tests.factories import JobFactory, ProfileFactory

pytestmark = pytest.mark.chaos

SCORING_LEASE = "profiles:scoring-run"
LEASE_S = 5


def _lease_free() -> bool:
    return not Lease.objects.filter(name=SCORING_LEASE, expires_at__gt=timezone.now()).exists()


def test_a_killed_scoring_run_is_finished_by_its_redelivery(chaos: Chaos) -> None:
    # Given people and new jobs, and the hourly scoring run under way on a worker
    # (different people, so that no two prompts are alike and every pair is a call of its own)
    people = [
        ProfileFactory(years_of_experience=0.5 + i, desired_roles=[f"Backend Engineer, team {i}"]) for i in range(12)
    ]
    JobFactory.create_batch(10)
    chaos.sim.config.latency_ms = 150  # about 10 s of calls: the kill lands among them
    env = {
        "OPENAI_MAX_CONCURRENT_REQUESTS": "2",
        "MATCH_RUN_LEASE_S": str(LEASE_S),
        # every candidate goes to the model (none decided by the rules alone), a few people per chunk
        "MATCH_LLM_MIN_PREFILTER_SCORE": "0",
        "MATCH_PREFILTER_CONFIDENT_SCORE": "101",
        "MATCH_MIN_SCORE": "0",
        "MATCH_LLM_TOP_K": "10",
        "MATCH_LLM_CHUNK_PEOPLE": "3",
    }
    first = chaos.worker("worker-a", env=env)
    chaos.send("profiles.job_scores_run_all")
    scoring_calls = LLMCall.objects.filter(task="job_score")
    chaos.wait("the first model scores", lambda: chaos.sim.usage["responses"] >= 30, timeout=90, every=0.05)

    # When the worker is SIGKILLed mid-run
    first.kill()
    answered = chaos.sim.usage["responses"]
    assert answered < 120, "the run's calls were all made before the kill"
    assert not PeriodicRun.objects.filter(name="profiles.job_scores_run_all", finished_at__isnull=False).exists()

    # Then the calls it made are in the ledger, but for the two in flight (the day's budget sees them)...
    assert scoring_calls.filter(attempts__gt=0).count() >= answered - 2
    # ...and once the dead run's lease has expired, its redelivered message finishes the hour's run
    chaos.wait("the dead run's lease to expire", _lease_free, timeout=LEASE_S * 3)
    second = chaos.worker("worker-b", env=env)
    chaos.wait(
        "the redelivered run to finish",
        lambda: re.search(r"Task profiles\.job_scores_run_all\[.*\] succeeded", second.output()),
        timeout=120,
    )
    assert "'skipped': True" not in second.output()
    run = PeriodicRun.objects.get(name="profiles.job_scores_run_all")
    assert run.finished_at is not None
    assert not Lease.objects.filter(name=SCORING_LEASE).exists()
    # every person scored up to the run, by the model, and the ledger matches the provider (but for
    # the two calls in flight at the kill: 2 of about 120)
    assert not UserProfile.objects.filter(pk__in=[p.pk for p in people], last_scored_at__isnull=True).exists()
    assert JobScore.objects.exists()
    assert not JobScore.objects.filter(is_fallback=True).exists()
    assert_ledger_matches_provider(chaos.sim, tolerance=0.02)
