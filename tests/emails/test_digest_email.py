"""The digest email: model text escaped, our links only, UTF-8 multipart with Japanese, sent once,
one Email row per digest."""

import email
from email import policy

import pytest

from emails.models import Email
from emails.services import digest_email_send, email_digest_compose
from profiles.matching.llm.digest import DigestInput, DigestJob, DigestOutput
from profiles.matching.services.digests import digest_store
from profiles.models import DailyDigest
from tests.factories import JobFactory, ProfileFactory

pytestmark = pytest.mark.django_db
SCRIPT = "<script>alert('x')</script>"


def stored_digest(profile, *, language="en", title="Your matches", summary="Good news.", job=None, **output):
    job = job or JobFactory()
    task_input = DigestInput(
        profile_id=profile.id,
        digest_date="2025-01-16",
        language=language,
        requested_at="2025-01-16T07:00:00+00:00",
        jobs=[
            DigestJob(
                job_id=job.id,
                title=job.title,
                company=job.company,
                location=job.location,
                remote=False,
                score=88,
                reasons=["Skills you have: Python"],
                is_fallback=False,
            )
        ],
        total_new_jobs=12,
        total_matches=3,
        trending=[],
        skill_gaps=[],
        person_skills=["python"],
    )
    values = {"title": title, "summary": summary, "market_trends": ["Python is hot."], "skill_recommendations": []}
    values.update(output)
    return digest_store(task_input=task_input, output=DigestOutput(**values), is_fallback=False)


def composed_html(digest):
    """The digest's email composed; its HTML, which the digest keeps too."""
    html = email_digest_compose(digest=digest).html
    digest.refresh_from_db()
    assert digest.digest_html == html
    return html


def parsed(message):
    return email.message_from_bytes(message.message().as_bytes(), policy=policy.default)


def test_model_output_and_job_titles_are_escaped_in_the_html():
    profile = ProfileFactory()
    job = JobFactory(title=f"Engineer {SCRIPT}", url="https://jobs.example.com/1")

    digest = stored_digest(
        profile,
        title=f"Matches {SCRIPT}",
        summary=f'<img src=x onerror="steal()"> {SCRIPT}',
        market_trends=[f"<a href='http://evil.example'>click</a>{SCRIPT}"],
        job=job,
    )

    html = composed_html(digest)
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    assert "<img src=x" not in html
    assert "evil.example'>" not in html
    assert "https://jobs.example.com/1" not in html  # job links go through our signed redirect
    hrefs = [part.split('"')[0] for part in html.split('href="')[1:]]
    assert hrefs
    assert all(href.startswith("http://localhost:8000") for href in hrefs)


def test_css_is_inlined_for_mail_clients():
    html = composed_html(stored_digest(ProfileFactory()))

    assert "<style" not in html
    assert 'style="' in html


def test_the_email_is_utf8_multipart_with_text_and_html_parts_in_japanese(mailoutbox):
    profile = ProfileFactory(language="ja", email="taro@example.jp")
    stored_digest(
        profile, language="ja", title="本日の新着マッチ3件", summary="トップマッチはバックエンドエンジニアです。"
    )

    assert digest_email_send(digest_id=DailyDigest.objects.get().id)

    assert len(mailoutbox) == 1
    message = parsed(mailoutbox[0])
    assert message.get_content_type() == "multipart/alternative"
    assert message["Subject"] == "本日の新着マッチ3件"
    assert message["To"] == "taro@example.jp"
    text, html = message.get_payload()
    assert (text.get_content_type(), html.get_content_type()) == ("text/plain", "text/html")
    assert text.get_content_charset() == html.get_content_charset() == "utf-8"
    assert "iso-2022-jp" not in mailoutbox[0].message().as_string().lower()
    assert "トップマッチはバックエンドエンジニアです。" in text.get_content()
    assert "トップマッチは" in html.get_content()
    assert "/e/c/" in text.get_content()  # the text part keeps the tracked links


def test_a_digest_is_emailed_once_and_not_without_an_address(mailoutbox):
    digest = stored_digest(ProfileFactory())
    nobody = stored_digest(ProfileFactory(email="", owner__email=""))

    assert digest_email_send(digest_id=digest.id)
    assert not digest_email_send(digest_id=digest.id)
    assert not digest_email_send(digest_id=nobody.id)

    assert len(mailoutbox) == 1
    digest.refresh_from_db()
    assert digest.email_sent
    assert digest.email_sent_at is not None
    sent = Email.objects.get(about_id=digest.id)
    assert (sent.status, sent.sent_at) == (Email.Status.SENT, digest.email_sent_at)
    assert Email.objects.get(about_id=nobody.id).status == Email.Status.SUPPRESSED


def test_a_failed_send_releases_the_claim_for_a_retry(monkeypatch, mailoutbox):
    digest = stored_digest(ProfileFactory())

    def broken(**kwargs):
        raise OSError("smtp down")

    with monkeypatch.context() as patch:
        patch.setattr("emails.services.message_deliver", broken)
        with pytest.raises(OSError, match="smtp down"):
            digest_email_send(digest_id=digest.id)

    digest.refresh_from_db()
    assert not digest.email_sent
    failed = Email.objects.get()
    assert (failed.status, failed.sent_at) == (Email.Status.FAILED, None)
    assert "smtp down" in failed.error

    assert digest_email_send(digest_id=digest.id)  # the retry sends the same Email row
    assert len(mailoutbox) == 1
    assert Email.objects.get().status == Email.Status.SENT


def test_storing_the_same_local_day_again_keeps_the_first_digest():
    profile = ProfileFactory()
    first = stored_digest(profile, title="First")

    second = stored_digest(profile, title="Second")

    assert second.pk == first.pk
    assert DailyDigest.objects.get().digest_title == "First"
