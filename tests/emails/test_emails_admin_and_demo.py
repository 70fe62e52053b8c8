"""The Email admin never shows model text raw; the emails demo step sends the demo digests once."""

import pytest

from config.demo import DemoReport
from emails import demo
from emails.models import Email
from tests.factories import DigestFactory, ProfileFactory

pytestmark = pytest.mark.django_db
SCRIPT = "<script>alert('x')</script>"


@pytest.fixture
def hostile_email():
    return Email.objects.create(
        kind=Email.Kind.TEST,
        to_address="a@example.com",
        subject=f"Hi {SCRIPT}",
        html=f"<p>Hello</p>{SCRIPT}<img src=x onerror=steal()>",
        text=f"Hello {SCRIPT}",
        status=Email.Status.QUEUED,
    )


def test_the_admin_shows_the_html_escaped_in_a_sandboxed_frame(admin_client, hostile_email):
    response = admin_client.get(f"/admin/emails/email/{hostile_email.pk}/change/")

    assert response.status_code == 200
    page = response.content.decode()
    assert SCRIPT not in page
    assert "<img src=x" not in page
    assert 'sandbox=""' in page
    assert "srcdoc=\"&lt;meta http-equiv=&quot;Content-Security-Policy&quot;" in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page


def test_the_admin_lists_emails_with_filters_and_cannot_add(admin_client, hostile_email):
    listing = admin_client.get("/admin/emails/email/?status__exact=queued&kind__exact=test")

    assert listing.status_code == 200
    assert "a@example.com" in listing.content.decode()
    assert SCRIPT not in listing.content.decode()
    assert admin_client.get("/admin/emails/email/add/").status_code == 403


def test_the_demo_step_emails_the_demo_peoples_digests_once(mailoutbox):
    jane = ProfileFactory(owner__username="demo-jane", email="jane.doe@example.com")
    DigestFactory(profile=jane)
    DigestFactory()  # someone else's digest is not the demo's to send

    first, second = DemoReport(), DemoReport()
    demo.run(report=first)
    demo.run(report=second)

    # (The demo's weekly job emails go out too: tests/emails/test_job_email_schedule.py.)
    assert [m.to for m in mailoutbox if "X-ContentOps-Digest" in m.extra_headers] == [["jane.doe@example.com"]]
    assert any(line.startswith("emails: 1 digest email(s) sent to ") for line in first.done)
    assert any(line.startswith("emails: 0 digest email(s) sent to ") for line in second.done)
