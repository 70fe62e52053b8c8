"""The leads admin: leads by stage with their analysis and turns (escaped), and its actions."""

import pytest

from catalog.leads.conversations import lead_analyze_conversationally
from catalog.leads.models import Lead

pytestmark = pytest.mark.django_db
HOSTILE = '<img src=x onerror="alert(1)"> Deployments are manual; automate our AWS setup.'


@pytest.fixture(autouse=True)
def offline(settings):
    settings.LLM_PROVIDER = "offline"


def act(admin_client, action, leads):
    return admin_client.post(
        "/admin/catalog/lead/", {"action": action, "_selected_action": [lead.pk for lead in leads]}, follow=True
    )


def test_actions_qualify_analyze_converse_and_dismiss(admin_client, make_lead):
    leads = [make_lead() for _ in range(2)]

    act(admin_client, "qualify_now", leads)
    assert set(Lead.objects.values_list("stage", flat=True)) == {"qualified"}
    act(admin_client, "analyze_now", leads)
    assert set(Lead.objects.values_list("stage", flat=True)) == {"analyzed"}
    response = act(admin_client, "converse", leads[:1])
    assert "1 conversation(s) done" in response.content.decode()
    act(admin_client, "dismiss", leads[1:])

    assert dict(Lead.objects.values_list("pk", "stage")) == {leads[0].pk: "draft_ready", leads[1].pk: "dismissed"}


def test_the_change_page_shows_posting_turns_and_draft_escaped(admin_client, make_lead):
    lead = make_lead(description=HOSTILE)
    lead_analyze_conversationally(lead=lead)

    listing = admin_client.get("/admin/catalog/lead/?stage__exact=draft_ready")
    page = admin_client.get(f"/admin/catalog/lead/{lead.pk}/change/").content.decode()

    assert listing.status_code == 200
    assert lead.job.title in listing.content.decode()
    assert "<img src=x" not in page
    assert "&lt;img src=x" in page
    assert "tokens in / cached / out" in page
    assert "5 turn(s)" in page
    assert admin_client.get("/admin/catalog/lead/add/").status_code == 403
