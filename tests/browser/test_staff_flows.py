"""The staff flows end to end in Chromium: log in, generate content now, launch a batch and watch it
reach ingested, read a person's scores and digest, preview and test-send an email, qualify a lead and
approve its draft, revoke a key. Each page must answer without a 5xx or a JavaScript error, in under
a second (tests/browser/conftest.py)."""

from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse

from batches.models import Batch
from catalog.products.models import LOCALES, Product, ProductContent
from config.models import APIKey
from config.services import api_key_create
from emails.models import Email
from tests.factories import DigestFactory, JobFactory, JobScoreFactory, ProductFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_log_in_and_read_the_dashboard(staff):
    from decimal import Decimal

    from django.utils import timezone

    from llm.models import LLMCall
    from tests.factories import JobFeedFactory, make_call

    for cost in ("0.42", "0.13", "0.08"):
        make_call(task="product_content", cost_usd=Decimal(cost))
    make_call(task="job_score", status=LLMCall.Status.CACHED, cost_usd=0)
    make_call(task="job_score", status=LLMCall.Status.FALLBACK, error_class="rate_limited", cost_usd=0)
    JobFeedFactory(name="Graduate Tech Jobs (RSS)", last_status="ok", last_fetched_at=timezone.now(),
                   last_summary="12 new, 3 updated")
    JobScoreFactory(is_fallback=True)

    staff.open(reverse("admin:index"))

    page = staff.page
    assert page.title() == "Dashboard | ContentOps admin"
    assert page.locator("#site-name").inner_text().strip().endswith("ContentOps")
    for card in ("#co-spend", "#co-calls", "#co-provider", "#co-batches", "#co-fallbacks", "#co-feeds"):
        assert page.locator(card).is_visible()
    staff.shot("dashboard")


def test_generate_content_now(staff):
    product = ProductFactory()

    staff.action(reverse("admin:catalog_product_changelist"), "generate_now", rows=[product.pk])

    assert any(f"{len(LOCALES)} content(s) requested" in m for m in staff.messages())
    assert ProductContent.objects.filter(product=product).count() == len(LOCALES)
    staff.open(reverse("admin:catalog_product_change", args=[product.pk]))
    assert staff.page.get_by_text("FALLBACK (rule-based)").first.is_visible()  # offline: flagged fallbacks


def test_launch_a_batch_and_watch_it_reach_ingested(staff):
    products = ProductFactory.create_batch(3)

    staff.action(reverse("admin:catalog_product_changelist"), "generate_via_batch", rows=[p.pk for p in products])

    page = staff.page
    batch = Batch.objects.get()
    assert page.url.endswith(reverse("admin:batches_batch_progress", args=[batch.pk]))
    # The page polls the batch's JSON status every second until the server's thread has ingested it.
    page.wait_for_selector('[data-status="ingested"]', timeout=30_000)
    assert page.locator('[data-field="applied"]').inner_text() == str(3 * len(LOCALES))
    assert page.locator('[data-field="live"]').inner_text() == "Finished."
    assert "Done:" in page.locator('[data-field="next_step"]').inner_text()
    staff.shot("batch-progress")
    batch.refresh_from_db()
    assert batch.status == Batch.Status.INGESTED
    assert set(Product.objects.values_list("batch_id", flat=True)) == {batch.batch_id}


def test_read_a_persons_scores_and_digest(staff):
    score = JobScoreFactory(ai_reasoning="Python and Django match the role.", job=JobFactory(title="Backend Engineer"))
    digest = DigestFactory(
        profile=score.profile, digest_title="3 new matches for you", digest_html="<h1>Your matches</h1>"
    )
    profile = score.profile

    staff.open(reverse("admin:profiles_userprofile_change", args=[profile.pk]))
    page = staff.page
    staff.shot("person")
    staff.submit("profile → scores", lambda: page.get_by_role("link", name="1 job score(s)").click())
    assert page.get_by_text("Backend Engineer").first.is_visible()
    staff.open(reverse("admin:profiles_jobscore_change", args=[score.pk]))
    assert page.get_by_text("Python and Django match the role.").is_visible()

    staff.open(reverse("admin:profiles_userprofile_change", args=[profile.pk]))
    staff.submit("profile → digests", lambda: page.get_by_role("link", name="1 digest(s)").click())
    staff.submit("digests → digest", lambda: page.get_by_role("link", name=str(profile)).first.click())
    assert page.get_by_text(digest.digest_title).first.is_visible()
    frame = page.frame_locator('iframe[title="digest"]')
    assert frame.locator("h1").inner_text() == "Your matches"


def test_preview_and_test_send_an_email(staff):
    email = Email.objects.create(
        kind="digest",
        to_address="someone@example.com",
        subject="Your matches today",
        html="<p>Hello <strong>there</strong></p>",
        text="Hello there",
        status="sent",
        sent_at="2026-01-01T00:00:00Z",
    )
    mail.outbox.clear()

    staff.open(reverse("admin:emails_email_change", args=[email.pk]))
    assert staff.page.frame_locator("iframe").first.locator("strong").inner_text() == "there"
    staff.action(reverse("admin:emails_email_changelist"), "send_test_to_me", rows=[email.pk])

    assert any("test email(s) sent to staff@example.com" in m for m in staff.messages())


def test_qualify_a_lead_and_approve_its_draft(staff):
    from catalog.leads.models import Lead
    from catalog.leads.services import lead_for_job, offerings_ensure_defaults
    from emails.services import outreach_drafts_sync

    offerings_ensure_defaults()
    job = JobFactory(
        title="Senior Python Engineer (urgent, funded Series B)",
        description="We urgently need help scaling our Django platform; funded, growing fast. Contact: jobs@acme.test",
    )
    lead = lead_for_job(job_id=job.pk)
    changelist = reverse("admin:catalog_lead_changelist")

    staff.action(changelist, "qualify_now", rows=[lead.pk])
    assert any("qualify: 1 lead(s) done" in m.lower() for m in staff.messages()), staff.messages()
    staff.action(changelist, "converse", rows=[lead.pk])
    assert any("drafts are ready to review" in m for m in staff.messages()), staff.messages()
    # The funnel's parse step found the posting's contact; the emails layer turns the draft into an outreach
    # email (both run on their schedules).
    Lead.objects.filter(pk=lead.pk).update(parsed={"contact": {"kind": "email", "value": "jobs@acme.test"}})
    outreach_drafts_sync()
    draft = Email.objects.get(kind="outreach")

    staff.action(reverse("admin:emails_email_changelist"), "approve_and_send", rows=[draft.pk])

    draft.refresh_from_db()
    lead.refresh_from_db()
    assert any("1 outreach email(s) sent" in m for m in staff.messages()), staff.messages()
    assert draft.status == "sent"
    assert lead.stage == "contacted"


def test_revoke_a_key(staff):
    key, _ = api_key_create(name="storefront", user=staff.user, scopes=["read"])

    staff.action(reverse("admin:config_apikey_changelist"), "revoke", rows=[key.pk])

    key.refresh_from_db()
    assert key.revoked_at is not None
    assert any("Revoked 1 key(s)" in m for m in staff.messages())
    assert APIKey.objects.filter(revoked_at__isnull=True).count() == 0
