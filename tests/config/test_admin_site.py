"""ContentOps' admin: the dashboard (cheap), every page answering, readable JSON and errors, linked
objects, the LLM task tools, and a `file://` demo feed that can be saved."""

import re
from decimal import Decimal

import pytest
from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from django.utils import timezone

from batches.models import Batch
from catalog.jobs.models import JobFeed
from catalog.products.models import LOCALES, Product
from catalog.products.services.content import product_content_apply
from emails.models import Email
from llm.models import LLMCall, TaskRevision
from tests.catalog.products_helpers import content_for, provenance
from tests.factories import (
    DigestFactory,
    JobFeedFactory,
    JobScoreFactory,
    ProductFactory,
    make_call,
)

pytestmark = pytest.mark.django_db

PYDANTIC_ERROR = (
    "1 validation error for ProductContentOutput\nbasic_info.summary\n"
    "  String should have at most 400 characters [type=string_too_long, input_value='aaaa', input_type=str]\n"
    "    For further information visit https://errors.pydantic.dev/2.9/v/string_too_long"
)


def _a_busy_day():
    """Something on every card: calls of each outcome, a batch in flight, fallbacks, feeds, mail, leads."""
    n = Batch.objects.count()
    make_call(cost_usd=Decimal("1.25"))
    make_call(status=LLMCall.Status.CACHED, cost_usd=0)
    make_call(status=LLMCall.Status.FALLBACK, error_class="offline", cost_usd=0)
    make_call(status=LLMCall.Status.FAILED, error_class="schema", error_message=PYDANTIC_ERROR)
    make_call(cost_usd=Decimal("50"), days_ago=2)  # yesterday's spend is not today's
    Batch.objects.create(
        batch_id=f"batch_inflight{n or ''}", task_name="product_content", task_version=1, provider="openai",
        model="gpt-4o-mini", status=Batch.Status.IN_PROGRESS, item_count=10, items_applied=4,
    )  # fmt: skip
    for _ in range(3):
        JobFeedFactory(last_status=JobFeed.FetchStatus.OK, last_fetched_at=timezone.now(), last_summary="3 new")
    JobScoreFactory(is_fallback=True)
    DigestFactory(is_fallback=True)
    Email.objects.create(kind="digest", to_address="a@example.com", status="sent", sent_at=timezone.now())


def test_the_dashboard_shows_each_figure_in_under_20_queries(admin_client, django_assert_max_num_queries, settings):
    settings.LLM_DAILY_BUDGET_USD = 10.0
    _a_busy_day()

    with django_assert_max_num_queries(20):
        response = admin_client.get(reverse("admin:index"))

    assert response.status_code == 200
    page = response.content.decode()
    assert "<title>Dashboard | ContentOps admin</title>" in page
    assert 'id="site-name"' in page
    assert "ContentOps" in page
    assert "Django administration" not in page
    assert "$1.25" in page
    assert "of $10.00" in page
    assert "batch_inflight" in page
    assert "4/10" in page
    assert "fallback" in page
    assert "3 new" in page
    cards = ("co-spend", "co-calls", "co-provider", "co-batches", "co-fallbacks", "co-mail", "co-leads", "co-feeds")
    for card in cards:
        assert f'id="{card}"' in page


def test_the_dashboard_query_count_does_not_grow_with_the_data(admin_client, django_assert_max_num_queries):
    _a_busy_day()
    admin_client.get(reverse("admin:index"))
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        admin_client.get(reverse("admin:index"))
    for _ in range(5):
        _a_busy_day()
    with CaptureQueriesContext(connection) as many:
        admin_client.get(reverse("admin:index"))
    assert len(many) == len(few)


def test_every_admin_list_and_add_page_answers(admin_client):
    _a_busy_day()
    failures = []
    for model in admin.site._registry:
        meta = model._meta
        url = reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist")
        status = admin_client.get(url).status_code
        if status != 200:
            failures.append((url, status))
        first = model.objects.order_by("pk").first()
        if first is not None:
            change = reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[first.pk])
            status = admin_client.get(change).status_code
            if status != 200:
                failures.append((change, status))
    assert failures == []


def test_ledger_errors_read_as_sentences_with_the_raw_text_folded(admin_client):
    call = make_call(status=LLMCall.Status.FAILED, error_class="schema", error_message=PYDANTIC_ERROR)

    page = admin_client.get(reverse("admin:llm_llmcall_change", args=[call.pk])).content.decode()

    assert "The answer did not have the expected shape: basic_info.summary: String should have at most 400" in page
    assert '<details class="co-raw"><summary>raw detail</summary>' in page
    assert "errors.pydantic.dev" in page  # still there, folded


def test_an_llm_call_links_to_the_object_it_was_for_and_a_product_to_its_calls_and_batches(admin_client):
    product = ProductFactory()
    content_type = ContentType.objects.get_for_model(Product)
    call = make_call(task="product_content", subject_type=content_type, subject_id=str(product.pk))

    call_page = admin_client.get(reverse("admin:llm_llmcall_change", args=[call.pk])).content.decode()
    product_page = admin_client.get(reverse("admin:catalog_product_change", args=[product.pk])).content.decode()

    assert reverse("admin:catalog_product_change", args=[product.pk]) in call_page
    assert f"subject_type__id__exact={content_type.pk}&amp;subject_id={product.pk}" in product_page
    assert "its LLM calls" in product_page


def test_a_person_page_is_compact_and_links_to_their_scores_digests_and_emails(admin_client):
    score = JobScoreFactory()
    DigestFactory(profile=score.profile)
    profile = score.profile

    page = admin_client.get(reverse("admin:profiles_userprofile_change", args=[profile.pk])).content.decode()

    assert f'{reverse("admin:profiles_jobscore_changelist")}?profile__id__exact={profile.pk}">1 job score(s)' in page
    assert f'{reverse("admin:profiles_dailydigest_changelist")}?profile__id__exact={profile.pk}">1 digest(s)' in page
    assert f'{reverse("admin:emails_email_changelist")}?recipient__id__exact={profile.owner_id}' in page
    # The long lists fold away and JSON is indented in small textareas, not ten rows of one line each.
    assert page.count('class="module collapse') >= 4 or page.count("<details") >= 4
    json_rows = [int(rows) for rows in re.findall(r'rows="(\d+)" class="co-json-input"', page)]
    assert len(json_rows) >= 10
    assert max(json_rows) <= 14
    assert "Python, JavaScript, SQL, Django, React, AWS, Git" in page
    scores = admin_client.get(reverse("admin:profiles_jobscore_changelist") + f"?profile__id__exact={profile.pk}")
    assert scores.status_code == 200
    assert score.job.title in scores.content.decode()


def test_readonly_json_is_pretty_and_collapsible(admin_client):
    score = JobScoreFactory(match_factors=["Python", "<script>x</script>"])

    page = admin_client.get(reverse("admin:profiles_jobscore_change", args=[score.pk])).content.decode()

    assert '<details class="co-json" open><summary>Python, &lt;script&gt;x&lt;/script&gt;</summary>' in page
    assert "<script>x</script>" not in page


def test_a_file_feed_inside_the_feed_roots_can_be_saved_and_one_outside_cannot(admin_client, settings, tmp_path):
    feed_file = tmp_path / "jobs.rss"
    feed_file.write_text("<rss/>")
    settings.FEED_FILE_ROOTS = [str(tmp_path)]
    add = reverse("admin:catalog_jobfeed_add")

    saved = admin_client.post(add, {"name": "Demo file", "url": f"file://{feed_file}", "active": "on"})
    refused = admin_client.post(add, {"name": "Secrets", "url": "file:///etc/passwd", "active": "on"})
    web = admin_client.post(add, {"name": "Web", "url": "jobs.example.com/feed.rss", "active": "on"})

    assert saved.status_code == 302
    assert JobFeed.objects.filter(url=f"file://{feed_file}").exists()
    assert refused.status_code == 200
    assert "outside the feed file directories" in refused.content.decode()
    assert web.status_code == 302
    assert JobFeed.objects.filter(url="https://jobs.example.com/feed.rss").exists()


def test_the_failed_filter_finds_batches_with_failed_items(admin_client):
    common = {"task_name": "t", "task_version": 1, "provider": "offline", "model": "offline", "item_count": 2}
    now = timezone.now()
    failing = Batch.objects.create(
        batch_id="b_fail", status="ingested", ingested_at=now, items_applied=1, items_failed=1, **common
    )
    Batch.objects.create(batch_id="b_ok", status="ingested", ingested_at=now, items_applied=2, **common)

    page = admin_client.get(reverse("admin:batches_batch_changelist") + "?outcome=with_failures").content.decode()
    clean = admin_client.get(reverse("admin:batches_batch_changelist") + "?outcome=all_applied").content.decode()

    assert failing.batch_id in page
    assert "b_ok" not in page
    assert "b_ok" in clean
    assert failing.batch_id not in clean


def test_staff_clear_a_tasks_cache_and_bump_its_prompt_version(admin_client, admin_user):
    products = ProductFactory.create_batch(2)
    for product in products:
        product_content_apply(
            product_id=product.pk, locale=LOCALES[0], content=content_for(product, LOCALES[0]), provenance=provenance()
        )
    Product.objects.update(processing_status=Product.ProcessingStatus.COMPLETED)
    url = reverse("admin:contentops_llm_tasks")

    listing = admin_client.get(url)
    cleared = admin_client.post(url, {"task": "product_content", "do": "clear_cache"}, follow=True)
    bumped = admin_client.post(url, {"task": "product_content", "do": "bump", "note": "new tone"}, follow=True)

    assert listing.status_code == 200
    assert "product_content" in listing.content.decode()
    assert "cached answer(s) of product_content" in cleared.content.decode()
    text = bumped.content.decode()
    assert "roduct_content is now at prompt revision 1" in text  # the admin capitalizes messages
    assert "marked 2 stored result(s) stale" in text
    revision = TaskRevision.objects.get(task="product_content")
    assert (revision.revision, revision.bumped_by, revision.note) == (1, admin_user, "new tone")
    assert set(Product.objects.values_list("processing_status", flat=True)) == {"pending"}


def test_only_staff_with_the_permission_may_bump(client, staff_user):
    client.force_login(staff_user)  # staff, but no model permissions

    url = reverse("admin:contentops_llm_tasks")
    response = client.post(url, {"task": "product_content", "do": "bump"}, follow=True)

    assert "permission" in response.content.decode()
    assert not TaskRevision.objects.exists()
