"""Outreach drafts from the leads funnel: composed as drafts, sent only when a person approves."""

import pytest
from django.core import mail

from catalog.leads.conversations import lead_analyze_conversationally
from catalog.leads.funnel import lead_task_run_now
from catalog.leads.services import lead_for_job, offerings_ensure_defaults
from emails.models import Email
from emails.services import outreach_drafts_sync, outreach_email_approve_send, outreach_email_draft_sync
from tests.factories import JobListingFactory

pytestmark = pytest.mark.django_db

POSTING = (
    "Deployments are manual and on-call incidents keep growing. Automate our AWS and Docker setup. "
    "Send your CV to jobs@shiba-infra.example.com."
)


@pytest.fixture
def drafted(settings):
    """An offline lead that went through the conversation: draft ready, contact parsed from the posting."""
    settings.LLM_PROVIDER = "offline"
    offerings_ensure_defaults()
    lead = lead_for_job(job_id=JobListingFactory(title="DevOps Engineer", company="Shiba", description=POSTING).pk)
    lead_task_run_now(task_type="parse", lead=lead)
    lead_analyze_conversationally(lead=lead)
    lead.refresh_from_db()
    return lead


def test_a_draft_becomes_one_outreach_email_draft_and_nothing_is_sent(drafted):
    first = outreach_drafts_sync()
    again = outreach_drafts_sync()

    email = Email.objects.get(kind="outreach")
    assert (first.composed, again.composed, again.refreshed) == (1, 0, 1)
    assert (email.status, email.to_address, email.about_id) == ("draft", "jobs@shiba-infra.example.com", drafted.pk)
    assert (email.subject, email.text) == (drafted.draft_subject, drafted.draft_body)
    assert mail.outbox == []
    drafted.refresh_from_db()
    assert drafted.stage == "draft_ready"


def test_an_address_the_posting_does_not_contain_is_never_used(drafted):
    drafted.parsed = {**drafted.parsed, "contact": {"kind": "email", "value": "everyone@evil.example.com"}}
    drafted.save(update_fields=["parsed"])

    email = outreach_email_draft_sync(lead_id=drafted.pk)

    assert email.to_address == ""
    assert "No contact address" in email.error
    assert outreach_email_approve_send(email_id=email.pk) is False
    assert mail.outbox == []


def test_the_body_is_escaped_in_the_html_part(drafted):
    drafted.draft_body = "<script>alert(1)</script>\nBest"
    drafted.save(update_fields=["draft_body"])

    email = outreach_email_draft_sync(lead_id=drafted.pk)

    assert "<script>" not in email.html
    assert "&lt;script&gt;" in email.html


def test_approve_and_send_in_the_admin_sends_once_and_marks_the_lead_contacted(admin_client, drafted):
    outreach_drafts_sync()
    email = Email.objects.get(kind="outreach")

    for _ in range(2):
        response = admin_client.post(
            "/admin/emails/email/", {"action": "approve_and_send", "_selected_action": [email.pk]}
        )
        assert response.status_code == 302

    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["jobs@shiba-infra.example.com"]
    email.refresh_from_db()
    assert email.status == "sent"
    drafted.refresh_from_db()
    assert drafted.stage == "contacted"
    assert drafted.contacted_at is not None
    assert drafted.stage_changes.last().to_stage == "contacted"
    # Once approved, a later sync leaves the sent email alone.
    outreach_email_draft_sync(lead_id=drafted.pk)
    email.refresh_from_db()
    assert email.status == "sent"
