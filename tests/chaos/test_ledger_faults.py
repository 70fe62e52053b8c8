"""The usage ledger against the provider's own count under a fault mix (5xx, hangs, 429s, truncated,
invalid and refused answers): every attempt's billed tokens are recorded, within 1%."""

from __future__ import annotations

import re
import time

import pytest
from django.db.models import Sum

from catalog.products.models import LOCALES
from llm.models import LLMCall
from tests.chaos.conftest import Chaos, assert_ledger_matches_provider
from tests.factories import ProductFactory

pytestmark = pytest.mark.chaos

PRODUCTS = 30
PER_TASK = 5
FAULTS = {"fail_5xx": 0.08, "hang": 0.03, "rate_limit": 0.04, "truncate": 0.05, "invalid_json": 0.05, "refusal": 0.03}
HANG_S = 1.5


def test_the_ledger_matches_the_provider_under_a_fault_mix(chaos: Chaos) -> None:
    # Given a provider failing a quarter of the calls in every way it can
    ids = [product.pk for product in ProductFactory.create_batch(PRODUCTS)]
    for name, rate in FAULTS.items():
        setattr(chaos.sim.config, name, rate)
    chaos.sim.config.hang_seconds = HANG_S
    # (the breaker must not open on this mix: every call should reach the provider)
    worker = chaos.worker(env={"OPENAI_REQUEST_TIMEOUT": "1", "OPENAI_CIRCUIT_FAILURE_THRESHOLD": "1000"})

    # When product content runs through it
    tasks = len(range(0, PRODUCTS, PER_TASK))
    for start in range(0, PRODUCTS, PER_TASK):
        chaos.send("catalog.product_content_generate", ids[start : start + PER_TASK])
    chaos.wait(
        "every task to finish",
        lambda: len(re.findall(r"Task catalog\.product_content_generate\[.*\] succeeded", worker.output())) == tasks,
        timeout=180,
    )
    time.sleep(HANG_S)  # hung requests the client gave up on are counted by the provider when they end

    # Then every fault kind happened, and the ledger's tokens and attempts match the provider's count
    outcomes = chaos.sim.stats["chat.completions"]
    for kind in ("hang", "429", "truncate", "invalid_json", "refusal"):
        assert outcomes[kind], (kind, outcomes)
    assert sum(outcomes[status] for status in ("500", "502", "503")), outcomes
    assert LLMCall.objects.count() >= PRODUCTS * len(LOCALES)
    figures = assert_ledger_matches_provider(chaos.sim)
    attempts = LLMCall.objects.aggregate(total=Sum("attempts"))["total"]
    assert attempts == sum(outcomes.values()), (attempts, outcomes)
    print(f"ledger vs provider tokens {figures}; attempts {attempts}; outcomes {dict(outcomes)}")  # noqa: T201
