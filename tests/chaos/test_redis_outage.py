"""Redis stopped for 20 s while a worker generates product content: the work goes on (limits on a
per-process share, no cache), nothing is lost, and /healthz answers JSON 503 naming Redis, then 200."""

from __future__ import annotations

import time

import pytest

from catalog.products.models import LOCALES, Product, ProductContent
from tests.chaos.conftest import Chaos, assert_ledger_matches_provider, healthz
from tests.factories import ProductFactory

pytestmark = pytest.mark.chaos

PRODUCTS = 40
PER_TASK = 4
OUTAGE_S = 20


def test_work_goes_on_while_redis_is_down(chaos: Chaos) -> None:
    # Given a web process and a worker generating product content on Redis
    web = chaos.web()
    assert healthz(web)[0] == 200
    products = ProductFactory.create_batch(PRODUCTS)
    ids = [product.pk for product in products]
    pairs = PRODUCTS * len(LOCALES)
    chaos.sim.config.latency_ms = 150  # a run of about half a minute
    chaos.worker(env={"OPENAI_MAX_CONCURRENT_REQUESTS": "2"})
    for start in range(0, PRODUCTS, PER_TASK):
        chaos.send("catalog.product_content_generate", ids[start : start + PER_TASK])
    chaos.wait("the run to be under way", lambda: ProductContent.objects.count() >= pairs // 10, timeout=90)

    # When Redis stops
    chaos.services.redis.stop()
    stopped = time.monotonic()
    try:
        # Then /healthz says so, as JSON, naming Redis
        status, body = healthz(web)
        assert status == 503, body
        assert "cache" in body["failing"], body
        assert "Redis" in body["message"], body
        # ...while the work goes on
        before = ProductContent.objects.count()
        chaos.wait(
            "content written while Redis is down",
            lambda: ProductContent.objects.count() > before + 20 or ProductContent.objects.count() == pairs,
            timeout=OUTAGE_S,
        )
        time.sleep(max(0.0, OUTAGE_S - (time.monotonic() - stopped)))
        during = ProductContent.objects.count() - before
    finally:
        chaos.services.redis.start()

    # And once Redis is back /healthz answers 200, and every pair ends applied by the model, none lost
    chaos.wait("/healthz to answer 200", lambda: healthz(web)[0] == 200, timeout=30, every=0.5)
    chaos.wait(
        "every product completed",
        lambda: Product.objects.filter(processing_status=Product.ProcessingStatus.COMPLETED).count() == PRODUCTS,
        timeout=120,
    )
    assert ProductContent.objects.count() == pairs
    assert not ProductContent.objects.filter(is_fallback=True).exists()
    figures = assert_ledger_matches_provider(chaos.sim)
    print(f"{during} pairs written during the {OUTAGE_S}s outage; ledger vs provider {figures}")  # noqa: T201
