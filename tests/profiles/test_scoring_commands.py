"""The benchmark and simulated-day commands run end to end on tiny sizes and print their figures."""

import json
from io import StringIO

import pytest
from django.core.management import call_command

from catalog.models import JobListing
from profiles.models import DailyDigest, UserProfile

pytestmark = pytest.mark.django_db


def test_matching_benchmark_prints_one_json_object_and_cleans_up():
    out = StringIO()

    call_command("matching_benchmark", users=4, jobs=40, check_scaling=True, json=True, stdout=out)

    result = json.loads(out.getvalue())
    for key in ("users", "jobs", "prefilter_s", "queries", "llm_calls", "peak_rss_mb", "scores_stored"):
        assert key in result
    assert result["queries"] == result["queries_2x"]  # twice the people, same queries
    assert 0 < result["llm_calls_per_user_max"] <= result["k"]
    assert not JobListing.objects.exists()
    assert not UserProfile.objects.exists()


def test_simulate_day_prices_the_day_from_the_ledger():
    out = StringIO()

    call_command("simulate_day", people=3, jobs=24, cycles=2, stdout=out)

    text = out.getvalue()
    assert "This simulated day:" in text
    assert "job_score" in text
    assert "gpt-4o-mini" in text
    assert UserProfile.objects.filter(user_id__startswith="simday-").count() == 3
    assert JobListing.objects.count() == 24
    assert DailyDigest.objects.count() <= 3
