"""`llm_benchmark`'s overhead figures: what they are measured against and what they count."""

import pytest

from llm.benchmark import overhead
from llm.models import LLMCall

pytestmark = pytest.mark.django_db


def test_the_overhead_is_measured_against_the_same_request_sent_without_the_layer(needs_redis):
    figures = overhead(samples=3)

    assert set(figures) >= {
        "overhead_ms_median",
        "overhead_ms_p95",
        "cache_hit_ms_median",
        "redis_round_trips_per_call",
        "functions_per_call",
    }
    # The baselines went to the provider too: a layer call is compared with a call that happened.
    assert figures["raw_sdk_ms_per_call"] > 0
    assert figures["raw_http_ms_per_call"] > 0
    assert figures["redis_round_trips_per_call"] == 2
    assert figures["redis_round_trips_per_cache_hit"] == 1
    assert figures["functions_per_call"] > 0
    # Only the layer's calls leave ledger rows (the baselines bypass it): 1 warm-up and 2 timed
    # uncached calls, 20 counted and 1 profiled; the cache hits, 3 timed and 1 counted.
    assert LLMCall.objects.filter(task="llm_benchmark", status=LLMCall.Status.CACHED).count() == 4
    assert LLMCall.objects.filter(task="llm_benchmark", status=LLMCall.Status.SUCCEEDED).count() == 3 + 20 + 1
