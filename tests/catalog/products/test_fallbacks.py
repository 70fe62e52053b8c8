"""Fallback is for a person who is waiting: background product work defers, and the stored fallbacks
are regenerated once the provider is healthy, cheapest mode first, within the day's budget."""

import dataclasses
import time
from decimal import Decimal
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from batches.models import Batch, BatchItem
from catalog.products import tasks as product_tasks
from catalog.products.models import LOCALES, Product, ProductContent
from catalog.products.services.content import product_content_apply
from catalog.products.services.generation import product_content_generate_now
from catalog.products.services.regeneration import LEASE_NAME, product_fallbacks_regenerate
from config.leases import lease_hold
from config.models import PeriodicRun
from llm.breaker import get_breaker
from llm.models import LLMCall
from llm.providers import provider_config
from tests.catalog.products_helpers import content_for, provenance
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db


def chat_calls(sim):
    return [c for c in sim.calls if c.endpoint == "chat.completions"]


def with_content(product: Product, *, fallback: tuple[str, ...], model: str = "old-model") -> Product:
    for locale in LOCALES:
        product_content_apply(
            product_id=product.pk,
            locale=locale,
            content=content_for(product, locale),
            provenance=provenance(is_fallback=locale in fallback, model=model),
        )
    return product


def always_quota(sim) -> None:
    sim.config = dataclasses.replace(sim.config, insufficient_quota=1.0)


def open_the_breaker() -> None:
    get_breaker(provider_config().name).record_failure(force_open=True)


# --- background work defers ------------------------------------------------------------------------


def test_background_generation_during_a_quota_outage_defers_and_keeps_products_pending(sim):
    products = ProductFactory.create_batch(2)
    always_quota(sim)

    summary = product_content_generate_now(
        product_ids=[p.pk for p in products], locales=["en-US", "de-DE"], defer_when_unavailable=True
    )

    assert (summary.deferred, summary.fallbacks, summary.failed, summary.model_written) == (4, 0, 0, 0)
    assert sorted(summary.deferred_pairs) == sorted((p.pk, loc) for p in products for loc in ("en-US", "de-DE"))
    assert not ProductContent.objects.exists()
    assert set(Product.objects.values_list("processing_status", flat=True)) == {"pending"}
    assert set(LLMCall.objects.values_list("status", flat=True)) == {LLMCall.Status.DEFERRED}
    assert LLMCall.objects.count() == 4


def test_the_celery_task_defers_and_queues_the_deferred_pairs_again(
    sim, monkeypatch, django_capture_on_commit_callbacks
):
    product = with_content(ProductFactory(), fallback=("fr-FR",))
    open_the_breaker()
    queued = []
    monkeypatch.setattr(product_tasks.product_content_generate_task, "apply_async", lambda **kw: queued.append(kw))

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        result = product_tasks.product_content_generate_task.apply(
            args=[[product.pk]], kwargs={"locales": ["fr-FR", "it-IT"]}
        ).get()

    assert (result["deferred"], result["fallbacks"], result["failed"]) == (2, 0, 0)
    assert len(callbacks) == 1
    assert queued == [
        {
            "kwargs": {
                "product_ids": [],
                "only_fallback": False,
                "pairs": [[product.pk, "fr-FR"], [product.pk, "it-IT"]],
                "deferrals": 1,
            },
            "countdown": settings.PRODUCT_DEFER_RETRY_S,
        }
    ]
    # nothing was written: the model content and the fallback stay as they were
    assert ProductContent.objects.get(product=product, locale="it-IT").model == "old-model"
    assert ProductContent.objects.get(product=product, locale="fr-FR").is_fallback
    assert Product.objects.get().processing_status == "fallback"
    assert set(LLMCall.objects.values_list("status", flat=True)) == {LLMCall.Status.DEFERRED}
    assert chat_calls(sim) == []


def test_the_task_stops_requeueing_after_its_retries(sim, django_capture_on_commit_callbacks):
    product = ProductFactory()
    open_the_breaker()

    with django_capture_on_commit_callbacks() as callbacks:
        result = product_tasks.product_content_generate_task.apply(
            args=[[]], kwargs={"pairs": [[product.pk, "en-US"]], "deferrals": settings.PRODUCT_DEFER_RETRIES}
        ).get()

    assert result["deferred"] == 1
    assert callbacks == []
    assert Product.objects.get().processing_status == "pending"


# --- regenerating fallbacks ------------------------------------------------------------------------


def test_regeneration_batches_only_the_fallback_locales_of_products_with_fallbacks(sim):
    mixed = with_content(ProductFactory(), fallback=("de-DE", "pt-PT"))
    with_content(ProductFactory(), fallback=())  # all model content: nothing to redo

    report = product_fallbacks_regenerate()

    assert report.mode == "batch"
    assert sorted(BatchItem.objects.values_list("custom_id", flat=True)) == [
        f"product-{mixed.pk}-de-DE",
        f"product-{mixed.pk}-pt-PT",
    ]
    assert Product.objects.get(pk=mixed.pk).processing_status == "queued"
    assert chat_calls(sim) == []  # nothing sent now: the batch is the caller's to carry


def test_regeneration_does_nothing_while_the_breaker_is_open(sim):
    with_content(ProductFactory(), fallback=("de-DE",))
    open_the_breaker()

    report = product_fallbacks_regenerate()
    urgent = product_fallbacks_regenerate(urgent=True)

    assert (report.mode, urgent.mode) == ("none", "none")
    assert "breaker is open" in report.reason
    assert not Batch.objects.exists()
    assert chat_calls(sim) == []
    assert not LLMCall.objects.exists()


def open_the_breaker_until_its_cool_down_is_over():
    breaker = get_breaker(provider_config().name)
    breaker.reset_timeout = 0.5
    breaker.record_failure(force_open=True)
    while breaker.opened_until > timezone.now():  # whole seconds on Redis
        time.sleep(0.05)
    assert breaker.state == "open"  # nothing has taken the trial: it stays open until a call does


def test_past_the_cool_down_the_first_line_is_the_trial_and_the_rest_is_batched(sim):
    product = with_content(ProductFactory(), fallback=("de-DE", "fr-FR", "it-IT"))
    open_the_breaker_until_its_cool_down_is_over()

    report = product_fallbacks_regenerate()

    assert report.trial
    assert len(chat_calls(sim)) == 1  # one line now, as the breaker's trial
    assert get_breaker(provider_config().name).state == "closed"
    assert report.batch is not None
    assert report.batch.item_count == 2
    assert ProductContent.objects.filter(product=product, is_fallback=True).count() == 2  # batched, not yet back


def test_past_the_cool_down_a_failed_trial_batches_nothing(sim):
    with_content(ProductFactory(), fallback=("de-DE", "fr-FR"))
    open_the_breaker_until_its_cool_down_is_over()
    always_quota(sim)

    report = product_fallbacks_regenerate()

    assert report.mode == "none"
    assert "trial call did not succeed (1 deferred" in report.reason
    assert not Batch.objects.exists()
    assert list(LLMCall.objects.values_list("status", flat=True)) == [LLMCall.Status.DEFERRED]
    assert ProductContent.objects.filter(is_fallback=True).count() == 2


def test_urgent_regeneration_past_the_cool_down_closes_the_breaker(sim):
    with_content(ProductFactory(), fallback=("de-DE", "fr-FR"))
    open_the_breaker_until_its_cool_down_is_over()

    report = product_fallbacks_regenerate(urgent=True)

    assert report.generation is not None
    assert report.generation.model_written == 2
    assert not ProductContent.objects.filter(is_fallback=True).exists()
    assert get_breaker(provider_config().name).state == "closed"


def test_regeneration_does_nothing_without_a_provider(settings):
    settings.LLM_PROVIDER = "offline"
    with_content(ProductFactory(), fallback=("de-DE",))

    report = product_fallbacks_regenerate()

    assert report.mode == "none"
    assert "offline" in report.reason
    assert not Batch.objects.exists()


def test_products_waiting_in_an_open_batch_are_not_batched_twice(sim):
    first = with_content(ProductFactory(), fallback=("de-DE",))
    product_fallbacks_regenerate()
    second = with_content(ProductFactory(), fallback=("it-IT",))

    again = product_fallbacks_regenerate()

    assert again.already_queued == 1
    batches = list(Batch.objects.order_by("pk"))
    assert len(batches) == 2
    assert list(batches[1].items.values_list("custom_id", flat=True)) == [f"product-{second.pk}-it-IT"]
    assert BatchItem.objects.filter(custom_id=f"product-{first.pk}-de-DE").count() == 1
    third = product_fallbacks_regenerate()
    assert third.mode == "none"
    assert "2 waiting in open batches" in third.reason
    assert Batch.objects.count() == 2


def test_the_batch_is_capped_to_fit_the_budget_left_today(sim, settings):
    for _ in range(3):
        with_content(ProductFactory(), fallback=tuple(LOCALES))
    everything = product_fallbacks_regenerate(dry_run=True, budget_usd=Decimal(1000))
    assert everything.selected == everything.fallback_pairs == 21
    assert everything.estimated_cost_usd > 0
    # Spend today leaves about half of what all 21 lines would cost.
    settings.LLM_DAILY_BUDGET_USD = 1.0
    spent = Decimal("1.0") - everything.estimated_cost_usd / 2
    LLMCall.objects.create(
        task="other",
        task_version=1,
        provider="openai",
        model="gpt-4o-mini",
        mode="now",
        status="succeeded",
        cost_usd=spent,
    )

    report = product_fallbacks_regenerate()

    batch = Batch.objects.get()
    assert 0 < report.selected < 21
    assert batch.item_count == report.selected
    assert report.left_for_later == 21 - report.selected
    # the batches app's own estimate of what was created fits what was left
    assert batch.estimated_cost_usd == report.estimated_cost_usd
    assert spent + batch.estimated_cost_usd <= Decimal("1.0")
    assert abs(report.selected - 10) <= 1  # about half the lines for half their cost: not over-cautious


def test_an_explicit_budget_too_small_for_one_line_does_nothing(sim):
    with_content(ProductFactory(), fallback=("de-DE",))

    report = product_fallbacks_regenerate(budget_usd=Decimal("0.000001"))

    assert report.mode == "none"
    assert "fits the budget" in report.reason
    assert not Batch.objects.exists()


def test_urgent_regeneration_calls_the_model_now_and_defers_on_quota(sim):
    product = with_content(ProductFactory(), fallback=("de-DE", "fr-FR"))
    always_quota(sim)

    report = product_fallbacks_regenerate(urgent=True)

    assert report.mode == "now"
    assert report.generation is not None
    assert (report.generation.deferred, report.generation.fallbacks) == (2, 0)
    assert set(ProductContent.objects.filter(is_fallback=True).values_list("locale", flat=True)) == {"de-DE", "fr-FR"}
    assert Product.objects.get(pk=product.pk).processing_status == "fallback"
    assert set(LLMCall.objects.values_list("status", flat=True)) == {LLMCall.Status.DEFERRED}
    assert not Batch.objects.exists()


def test_urgent_regeneration_writes_model_content(sim):
    product = with_content(ProductFactory(), fallback=("de-DE", "fr-FR"))

    report = product_fallbacks_regenerate(urgent=True)

    assert report.generation is not None
    assert report.generation.model_written == 2
    assert len(chat_calls(sim)) == 2
    assert not ProductContent.objects.filter(is_fallback=True).exists()
    assert Product.objects.get(pk=product.pk).processing_status == "completed"


def test_a_second_run_while_one_holds_the_lease_is_refused(sim):
    from config.leases import LeaseBusyError

    with_content(ProductFactory(), fallback=("de-DE",))

    with lease_hold(name=LEASE_NAME, ttl_s=60), pytest.raises(LeaseBusyError):
        product_fallbacks_regenerate()
    assert not Batch.objects.exists()


# --- schedule and command ---------------------------------------------------------------------------


def test_the_hourly_task_batches_once_per_period_and_is_scheduled(sim):
    from config.periodic import periodic_specs

    with_content(ProductFactory(), fallback=("de-DE",))

    first = product_tasks.product_fallbacks_regenerate_task()
    second = product_tasks.product_fallbacks_regenerate_task()

    assert first is not None
    assert (first["mode"], first["selected"]) == ("batch", 1)
    assert first["carried"] == "inline"  # no broker in tests: carried through in the call
    assert second is None  # the same hour: a duplicate send does nothing
    assert PeriodicRun.objects.filter(name="catalog.product_fallbacks_regenerate").count() == 1
    assert not ProductContent.objects.filter(is_fallback=True).exists()
    spec = next(s for s in periodic_specs() if s.task == "catalog.product_fallbacks_regenerate")
    assert spec.crontab == "50 * * * *"


def test_the_hourly_task_skips_while_another_run_holds_the_lease(sim):
    with_content(ProductFactory(), fallback=("de-DE",))

    with lease_hold(name=LEASE_NAME, ttl_s=60):
        result = product_tasks.product_fallbacks_regenerate_task()

    assert result == {"mode": "none", "reason": "A fallback regeneration is already running."}
    assert not Batch.objects.exists()


def test_the_command_dry_run_says_what_it_would_do_and_changes_nothing(sim):
    product = with_content(ProductFactory(), fallback=("de-DE", "it-IT"))
    out = StringIO()

    call_command("regenerate_fallbacks", "--dry-run", stdout=out)

    text = out.getvalue()
    assert "Dry run: 2 of 2 fallback locale(s) would go into a batch" in text
    assert f"product {product.pk}: de-DE, it-IT" in text
    assert not Batch.objects.exists()
    assert ProductContent.objects.filter(is_fallback=True).count() == 2


def test_the_command_batches_and_carries_the_batch_without_a_broker(sim):
    with_content(ProductFactory(), fallback=("de-DE", "it-IT"))
    out = StringIO()

    call_command("regenerate_fallbacks", "--poll-interval=0", stdout=out)

    assert "applied 2, failed 0" in out.getvalue()
    assert not ProductContent.objects.filter(is_fallback=True).exists()
    assert Product.objects.get().processing_status == "completed"


def test_the_command_urgent_with_the_breaker_open_says_so(sim):
    with_content(ProductFactory(), fallback=("de-DE",))
    open_the_breaker()
    out = StringIO()

    call_command("regenerate_fallbacks", "--urgent", "--budget-usd=5", stdout=out)

    assert "breaker is open" in out.getvalue()
    assert chat_calls(sim) == []


def test_the_command_refuses_a_bad_budget(sim):
    with pytest.raises(CommandError, match="budget-usd"):
        call_command("regenerate_fallbacks", "--budget-usd=-1")
