"""Email tracking: the open pixel and click redirects are signed over the Email's id, counted on
the Email, recorded once on the digest it is about, and redirect only to http(s) postings or our
own pages."""

from datetime import timedelta

import pytest
import time_machine
from django.core import signing
from django.utils import timezone

from emails import tracking
from emails.models import Email
from emails.services import email_digest_compose
from profiles.models import DailyDigest
from tests.factories import DigestFactory, JobFactory

pytestmark = pytest.mark.django_db


def path_of(url):
    return url.removeprefix("http://localhost:8000")


@pytest.fixture
def digest():
    return DigestFactory()


@pytest.fixture
def digest_email(digest):
    """The digest's Email (composed: tracking tokens are signed over its id)."""
    return email_digest_compose(digest=digest)


def test_the_open_pixel_marks_the_digest_opened_idempotently(client, digest, digest_email):
    url = path_of(tracking.open_url(email_id=digest_email.id))

    first = client.get(url)
    second = client.get(url)

    assert first.status_code == second.status_code == 200
    assert first["Content-Type"] == "image/gif"
    assert "no-store" in first["Cache-Control"]
    digest.refresh_from_db()
    assert digest.email_opened
    assert not digest.email_clicked
    digest_email.refresh_from_db()
    assert digest_email.open_count == 2  # every fetch counts on the Email; the first time stays
    assert digest_email.opened_at is not None
    assert (digest_email.click_count, digest_email.clicked_at) == (0, None)


@pytest.mark.parametrize(
    "token",
    [
        "garbage",
        "eyJkIjoxfQ:1tXyZ:forgedsignature",
        None,  # a valid click token is not an open token (different salt)
    ],
)
def test_bad_open_tokens_are_404(client, digest, digest_email, token):
    if token is None:
        token = tracking.click_token(email_id=digest_email.id, job_id=1)

    response = client.get(f"/e/o/{token}.gif")

    assert response.status_code == 404
    digest.refresh_from_db()
    assert not digest.email_opened


def test_a_tampered_token_is_refused(client, digest_email):
    token = tracking.open_token(email_id=digest_email.id)
    other = tracking.open_token(email_id=digest_email.id + 1)
    tampered = other.split(":")[0] + token[token.index(":") :]  # another id with this signature

    assert client.get(f"/e/o/{tampered}.gif").status_code == 404


def test_a_click_redirects_to_the_posting_and_records_the_job_once(client, digest, digest_email):
    job = JobFactory(url="https://jobs.example.com/42")
    url = path_of(tracking.click_url(email_id=digest_email.id, job_id=job.id))

    first = client.get(url)
    client.get(url)

    assert first.status_code == 302
    assert first["Location"] == "https://jobs.example.com/42"
    assert first["Referrer-Policy"] == "no-referrer"
    digest.refresh_from_db()
    assert digest.jobs_clicked == [job.id]
    assert digest.email_clicked
    assert digest.email_opened
    assert digest.user_viewed
    assert digest.user_viewed_at is not None
    digest_email.refresh_from_db()
    assert digest_email.click_count == 2
    assert digest_email.clicked_at is not None
    assert digest_email.opened_at == digest_email.clicked_at  # a click is an open too


@pytest.mark.parametrize("target", ["javascript:alert(1)", "data:text/html,hi", "//evil.example/x", "ftp://x/y", ""])
def test_non_http_targets_redirect_to_our_own_jobs_page(client, digest_email, target):
    job = JobFactory(url=target)

    response = client.get(path_of(tracking.click_url(email_id=digest_email.id, job_id=job.id)))

    assert response.status_code == 302
    assert response["Location"] == f"http://localhost:8000/api/v1/jobs/?id={job.id}"


def test_bad_or_expired_click_tokens_are_404(client, digest_email, settings):
    settings.EMAIL_TRACKING_MAX_AGE_DAYS = 30
    job = JobFactory()
    url = path_of(tracking.click_url(email_id=digest_email.id, job_id=job.id))

    assert client.get(url + "x").status_code == 404
    assert client.get("/e/c/not-a-token").status_code == 404
    with time_machine.travel(timezone.now() + timedelta(days=31)):
        assert client.get(url).status_code == 404
    assert DailyDigest.objects.get().jobs_clicked == []
    assert Email.objects.get().click_count == 0


def test_tokens_for_a_deleted_digest_are_404(client, digest, digest_email):
    url = path_of(tracking.open_url(email_id=digest_email.id))
    digest.delete()

    assert client.get(url).status_code == 404
    assert Email.objects.get().open_count == 0  # nothing half-recorded


def test_tokens_for_a_deleted_email_are_404(client, digest_email):
    url = path_of(tracking.open_url(email_id=digest_email.id))
    digest_email.delete()

    assert client.get(url).status_code == 404


def test_links_in_emails_sent_before_email_rows_still_record_on_the_digest(client, digest):
    # Tokens minted before Email rows existed were signed over the digest's id ("d").
    job = JobFactory(url="https://jobs.example.com/7")
    opened = signing.dumps({"d": digest.id}, salt=tracking.OPEN_SALT)
    clicked = signing.dumps({"d": digest.id, "j": job.id}, salt=tracking.CLICK_SALT)

    assert client.get(f"/e/o/{opened}.gif").status_code == 200
    response = client.get(f"/e/c/{clicked}")

    assert response["Location"] == "https://jobs.example.com/7"
    digest.refresh_from_db()
    assert (digest.email_opened, digest.email_clicked, digest.jobs_clicked) == (True, True, [job.id])


def test_tracking_routes_accept_only_get(client, digest_email):
    url = path_of(tracking.open_url(email_id=digest_email.id))

    assert client.post(url).status_code == 405


def test_an_emails_click_tokens_are_the_ones_click_token_makes_and_read_back():
    # Given one instant (tokens carry a timestamp)
    with time_machine.travel(timezone.now(), tick=False):
        tokens = tracking.ClickTokens(email_id=41)
        # When the bulk signer and the one-off signer sign the same links
        fast = [tokens.token(job_id=job_id) for job_id in (7, 123456789)]
        slow = [tracking.click_token(email_id=41, job_id=job_id) for job_id in (7, 123456789)]

    # Then they are the very same tokens, and each reads back as its (email, job)
    assert fast == slow
    assert [tracking.click_token_read(token) for token in fast] == [
        tracking.Hit(email_id=41, job_id=7),
        tracking.Hit(email_id=41, job_id=123456789),
    ]
    with pytest.raises(tracking.BadToken):
        tracking.click_token_read(fast[0].replace(fast[0][-3:], "AAA"))


def test_open_and_click_urls_keep_their_route_around_the_token(client, digest_email):
    open_url = tracking.open_url(email_id=digest_email.id)
    click_url = tracking.click_url(email_id=digest_email.id, job_id=1)

    assert open_url.startswith("http://localhost:8000/")
    assert open_url.endswith(".gif")
    assert tracking.open_token_read(open_url.rsplit("/", 1)[1].removesuffix(".gif")).email_id == digest_email.id
    assert tracking.click_token_read(click_url.rsplit("/", 1)[1]).job_id == 1
    assert client.get(path_of(open_url)).status_code == 200
