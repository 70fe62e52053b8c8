"""Sending like a mailing system: List-Unsubscribe (RFC 8058 one-click) on bulk email, an
unsubscribe endpoint without login that records a suppression every later send honours (digests
too), a preference page, and ESP bounces/complaints (django-anymail) as suppressions."""

import re

import pytest
from anymail.signals import AnymailTrackingEvent, tracking
from django.test import Client

from emails.jobmail.services import email_generate, job_email_send
from emails.models import Email, Suppression
from emails.services import email_digest_compose, email_send
from emails.suppressions import preferences_url, unsubscribe_token, unsubscribe_url
from tests.factories import DigestFactory

pytestmark = pytest.mark.django_db


def path_of(url):
    return url.removeprefix("http://localhost:8000")


@pytest.fixture
def job_email(person, job_pool):
    return email_generate(profile=person)


@pytest.fixture
def one_click():
    """A mail client's one-click POST: no cookies, no CSRF token."""
    return Client(enforce_csrf_checks=True)


def test_bulk_emails_carry_list_unsubscribe_headers(job_email, mailoutbox):
    assert job_email_send(email_id=job_email.pk)

    message = mailoutbox[0]
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = re.fullmatch(r"<(http://localhost:8000/e/u/[^>]+)>", message.extra_headers["List-Unsubscribe"]).group(1)
    assert message.encoding == "utf-8"
    assert message.alternatives[0].mimetype == "text/html"
    assert 'charset="utf-8"' in message.message().as_string()
    assert url in job_email.html  # the same link is in the footer


def test_digest_emails_carry_them_too(person, mailoutbox):
    email = email_digest_compose(digest=DigestFactory(profile=person))

    email_send(email_id=email.pk)

    assert mailoutbox[0].extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "/e/u/" in mailoutbox[0].extra_headers["List-Unsubscribe"]


def test_one_click_unsubscribe_is_honoured_by_every_later_send(job_email, person, one_click, mailoutbox):
    url = path_of(unsubscribe_url(address=person.email, scope="job_recommendation"))

    first = one_click.post(url, {"List-Unsubscribe": "One-Click"})
    second = one_click.post(url, {"List-Unsubscribe": "One-Click"})

    assert first.status_code == second.status_code == 200
    suppression = Suppression.objects.get()
    assert (suppression.address, suppression.scope, suppression.reason) == (
        person.email.lower(),
        "job_recommendation",
        "unsubscribed",
    )
    assert suppression.source.startswith("one-click")
    assert job_email_send(email_id=job_email.pk) is False
    job_email.refresh_from_db()
    assert job_email.status == Email.Status.SUPPRESSED
    assert "unsubscribed" in job_email.error
    assert mailoutbox == []
    # A daily digest is another list: still sent.
    digest = email_digest_compose(digest=DigestFactory(profile=person))
    assert email_send(email_id=digest.pk)


def test_the_unsubscribe_page_asks_first_on_get(person, one_click):
    url = path_of(unsubscribe_url(address=person.email, scope="digest"))

    page = one_click.get(url)

    assert page.status_code == 200
    assert b'name="List-Unsubscribe" value="One-Click"' in page.content
    assert Suppression.objects.count() == 0  # link scanners fetching it unsubscribe nobody
    assert "no-store" in page["Cache-Control"]


@pytest.mark.parametrize("token", ["garbage", None])
def test_forged_unsubscribe_links_are_404(person, one_click, token):
    if token is None:  # someone else's address with this link's signature
        real = unsubscribe_token(address=person.email, scope="all")
        other = unsubscribe_token(address="victim@example.com", scope="all")
        token = other.split(":")[0] + real[real.index(":") :]

    response = one_click.post(f"/e/u/{token}", {"List-Unsubscribe": "One-Click"})

    assert response.status_code == 404
    assert Suppression.objects.count() == 0


def test_an_unsubscribed_digest_reader_gets_no_digest(person, mailoutbox):
    email = email_digest_compose(digest=DigestFactory(profile=person))
    Client().post(path_of(unsubscribe_url(address=person.email, scope="digest")))

    assert email_send(email_id=email.pk) is False
    email.refresh_from_db()
    assert email.status == Email.Status.SUPPRESSED
    assert mailoutbox == []


def test_the_preference_page_switches_each_kind(person, one_click):
    url = path_of(preferences_url(user_id=person.owner_id, address=person.email))

    page = one_click.get(url)
    assert page.status_code == 200
    assert b"checked" in page.content

    one_click.post(url, {"job_recommendation": "on"})  # digests off, job emails on
    assert set(Suppression.objects.values_list("scope", flat=True)) == {"digest"}

    one_click.post(url, {"digest": "on", "job_recommendation": "on"})
    assert Suppression.objects.count() == 0
    assert one_click.get("/e/p/forged").status_code == 404


def test_the_weekly_run_skips_unsubscribed_people(person, job_pool):
    from emails.jobmail.services import emails_generate_batch

    Suppression.objects.create(address=person.email.lower(), scope="job_recommendation", reason="unsubscribed")

    summary = emails_generate_batch(profile_ids=[person.pk], send=True)

    assert (summary.generated, summary.suppressed) == (0, 1)


@pytest.mark.parametrize(("event_type", "reason"), [("bounced", "bounced"), ("complained", "complained")])
def test_esp_bounces_and_complaints_suppress_everything(person, job_email, event_type, reason, mailoutbox):
    event = AnymailTrackingEvent(event_type=event_type, recipient=person.email.upper(), message_id="m1")

    tracking.send(sender=object, event=event, esp_name="Postmark")

    suppression = Suppression.objects.get()
    assert (suppression.scope, suppression.reason) == ("all", reason)
    assert job_email_send(email_id=job_email.pk) is False
    digest = email_digest_compose(digest=DigestFactory(profile=person))
    assert email_send(email_id=digest.pk) is False
    assert mailoutbox == []


def test_other_esp_events_change_nothing(person):
    delivered = AnymailTrackingEvent(event_type="delivered", recipient=person.email)

    tracking.send(sender=object, event=delivered, esp_name="x")

    assert Suppression.objects.count() == 0


def test_esp_webhooks_are_not_mounted_without_a_shared_secret(client):
    assert client.post("/e/anymail/postmark/tracking/", data="{}", content_type="application/json").status_code == 404


def test_a_suppression_is_unique_per_address_and_scope():
    from django.db import IntegrityError, transaction

    Suppression.objects.create(address="a@example.com", scope="all", reason="bounced")
    with pytest.raises(IntegrityError), transaction.atomic():
        Suppression.objects.create(address="a@example.com", scope="all", reason="complained")
    Suppression.objects.create(address="a@example.com", scope="digest", reason="unsubscribed")


@pytest.mark.urls("tests.emails.anymail_urls")
def test_an_esp_bounce_webhook_suppresses_the_address(client, settings, person):
    import base64

    settings.ANYMAIL = {"WEBHOOK_SECRET": "hook:s3cret"}
    bounce = {
        "RecordType": "Bounce",
        "Type": "HardBounce",
        "TypeCode": 1,
        "Email": person.email,
        "MessageID": "883953f4-6105-42a2-a16a-77a8eac79483",
        "BouncedAt": "2026-12-05T10:00:00Z",
        "Description": "The server was unable to deliver your message.",
        "Details": "smtp;550 5.1.1 user unknown",
    }
    url = "/e/anymail/postmark/tracking/"

    refused = client.post(url, bounce, content_type="application/json")
    auth = "Basic " + base64.b64encode(b"hook:s3cret").decode()
    accepted = client.post(url, bounce, content_type="application/json", HTTP_AUTHORIZATION=auth)

    assert refused.status_code == 400  # without the shared secret: nothing recorded
    assert accepted.status_code == 200
    suppression = Suppression.objects.get()
    assert (suppression.address, suppression.scope, suppression.reason) == (person.email.lower(), "all", "bounced")


def test_unsubscribe_and_preference_links_minted_compressed_still_work():
    from django.core import signing

    from emails.suppressions import PREFERENCES_SALT, UNSUBSCRIBE_SALT, preferences_token_read, unsubscribe_token_read

    # Given links signed as they used to be (compress=True), over a payload zlib does shorten
    address = "a" * 60 + "@example.com"
    old_unsubscribe = signing.dumps({"a": address, "s": "job_recommendation"}, salt=UNSUBSCRIBE_SALT, compress=True)
    old_preferences = signing.dumps({"u": 5, "a": address}, salt=PREFERENCES_SALT, compress=True)
    assert old_unsubscribe.startswith(".")  # really compressed

    # Then they read as before, and so do today's
    assert unsubscribe_token_read(old_unsubscribe).address == address
    assert preferences_token_read(old_preferences) == (5, address)
    assert unsubscribe_token_read(unsubscribe_token(address=address, scope="job_recommendation")).address == address
