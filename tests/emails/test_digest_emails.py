"""The digest pipeline's email half: profiles writes digests, the emails task composes one Email row
per unsent digest (about = the digest) and sends it once, however often it runs."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, transaction
from django.utils import timezone

from config.periodic import periodic_specs
from emails.models import Email
from emails.schedules import SCHEDULE
from emails.services import digest_emails_send_due, email_digest_compose, email_send
from emails.tasks import digest_emails_send_due as digest_emails_send_due_task
from profiles.matching.services.digests import digests_generate
from profiles.models import DailyDigest
from profiles.tasks import digests_generate as digests_generate_task
from tests.factories import DigestFactory, JobScoreFactory, ProfileFactory

pytestmark = pytest.mark.django_db


def at(*args):
    return time_machine.travel(datetime(*args, tzinfo=UTC), tick=False)


@pytest.fixture
def offline(settings):
    settings.LLM_PROVIDER = "offline"
    settings.DIGEST_LOCAL_HOUR = 7
    settings.DIGEST_WINDOW_HOURS = 3


@pytest.fixture
def tokyo_person():
    with at(2025, 1, 15, 12, 0):
        person = ProfileFactory(time_zone="Asia/Tokyo")
        JobScoreFactory(profile=person)
    return person


def test_the_hourly_tasks_write_and_email_each_new_digest_once(offline, tokyo_person, mailoutbox):
    with at(2025, 1, 15, 22, 0):
        generated = digests_generate_task()
        digests_generate_task()
        first = digest_emails_send_due_task()
        again = digest_emails_send_due_task()  # the next pass, or the same task redelivered

    assert generated["generated"] == 1
    assert (first["sent"], again["sent"]) == (1, 0)
    assert len(mailoutbox) == 1
    assert DailyDigest.objects.get().email_sent


def test_each_sent_digest_has_one_email_row_about_it(offline, tokyo_person, mailoutbox):
    with at(2025, 1, 15, 22, 0):
        digests_generate()
        digest_emails_send_due()

    digest = DailyDigest.objects.get()
    sent = Email.objects.get()
    assert sent.kind == Email.Kind.DIGEST
    assert sent.about == digest
    assert sent.about_type == ContentType.objects.get_for_model(DailyDigest)
    assert (sent.status, sent.to_address, sent.recipient) == (Email.Status.SENT, tokyo_person.email, tokyo_person.owner)
    assert sent.language == "en"
    assert sent.subject == digest.digest_title == mailoutbox[0].subject
    assert sent.sent_at == digest.email_sent_at
    assert mailoutbox[0].extra_headers["X-ContentOps-Email"] == str(sent.id)
    # The HTML carries links signed over this Email, and the digest keeps the same HTML.
    assert "/e/c/" in sent.html
    assert "/e/o/" in sent.html
    assert digest.digest_html == sent.html
    assert "/e/c/" in sent.text


def test_a_japanese_digest_email_is_japanese_with_phrase_breaks(sim, settings, mailoutbox):
    settings.DIGEST_LOCAL_HOUR = 7
    with at(2025, 1, 15, 12, 0):
        person = ProfileFactory(language="ja", time_zone="Asia/Tokyo")
        JobScoreFactory(profile=person, job__title="バックエンドエンジニア")

    with at(2025, 1, 15, 22, 0):
        digests_generate()
        digest_emails_send_due()

    sent = Email.objects.get()
    assert sent.language == "ja"
    assert 'lang="ja"' in sent.html
    assert "<wbr>" in sent.html  # BudouX phrase breaks


def test_a_redelivered_send_never_sends_twice(mailoutbox):
    digest = DigestFactory()
    composed = email_digest_compose(digest=digest)

    assert email_digest_compose(digest=digest).pk == composed.pk  # composed once
    assert email_send(email_id=composed.pk)
    assert not email_send(email_id=composed.pk)  # a redelivered task finds it claimed
    assert digest_emails_send_due().sent == 0

    assert len(mailoutbox) == 1
    assert Email.objects.count() == 1


def test_a_sender_that_died_after_the_hand_off_is_not_repeated_and_the_digest_hears_of_it(mailoutbox):
    digest = DigestFactory()
    composed = email_digest_compose(digest=digest)
    # What a worker dying between the SMTP hand-off and the digest's record leaves behind.
    Email.objects.filter(pk=composed.pk).update(status=Email.Status.SENT, sent_at=timezone.now())

    run = digest_emails_send_due()

    assert run.sent == 0
    assert mailoutbox == []
    digest.refresh_from_db()
    assert digest.email_sent


def test_a_digest_being_composed_is_not_sent():
    digest = DigestFactory()
    draft = Email.objects.create(
        kind=Email.Kind.DIGEST,
        about=digest,
        to_address="someone@example.com",
        status=Email.Status.DRAFT,
    )

    assert not email_send(email_id=draft.pk)
    assert Email.objects.get().status == Email.Status.DRAFT


def test_people_without_an_address_are_suppressed_once(mailoutbox):
    digest = DigestFactory(profile=ProfileFactory(email="", owner__email=""))

    first = digest_emails_send_due()
    second = digest_emails_send_due()

    assert (first.composed, first.suppressed, first.sent) == (1, 1, 0)
    assert (second.composed, second.suppressed) == (0, 1)
    assert Email.objects.get().status == Email.Status.SUPPRESSED
    assert mailoutbox == []
    digest.refresh_from_db()
    assert not digest.email_sent


def test_only_recent_unsent_digests_are_emailed(settings, mailoutbox):
    settings.DIGEST_EMAIL_MAX_AGE_HOURS = 24
    with time_machine.travel(timezone.now() - timedelta(hours=30)):
        DigestFactory()

    assert digest_emails_send_due().considered == 0
    assert mailoutbox == []


def test_one_failing_email_does_not_stop_the_others(monkeypatch, mailoutbox):
    from emails import services

    first, second = DigestFactory(), DigestFactory()
    deliver = services.message_deliver
    calls = []

    def flaky(**kwargs):
        calls.append(kwargs["headers"]["X-ContentOps-Digest"])
        if len(calls) == 1:
            raise OSError("connection reset")
        return deliver(**kwargs)

    monkeypatch.setattr(services, "message_deliver", flaky)
    run = digest_emails_send_due()

    assert (run.sent, run.failed) == (1, 1)
    assert len(mailoutbox) == 1
    assert digest_emails_send_due().sent == 1  # the failed one goes out on the next pass
    assert set(calls) == {str(first.id), str(second.id)}
    assert Email.objects.filter(status=Email.Status.SENT).count() == 2


def test_the_database_allows_one_email_per_digest():
    digest = DigestFactory()
    email_digest_compose(digest=digest)

    with pytest.raises(IntegrityError), transaction.atomic():
        Email.objects.create(kind=Email.Kind.DIGEST, about=digest, status=Email.Status.QUEUED)


@pytest.mark.parametrize(
    ("status", "sent_at"),
    [(Email.Status.SENT, None), (Email.Status.QUEUED, datetime(2025, 1, 1, tzinfo=UTC))],
)
def test_the_database_keeps_sent_at_set_exactly_when_sent(status, sent_at):
    with pytest.raises(IntegrityError), transaction.atomic():
        Email.objects.create(kind=Email.Kind.TEST, to_address="a@example.com", status=status, sent_at=sent_at)


def test_the_send_schedule_is_declared():
    crontabs = {spec.task: spec.crontab for spec in SCHEDULE}

    assert crontabs["emails.digest_emails_send_due"] == "*/10 * * * *"
    assert {spec.name for spec in SCHEDULE} <= {spec.name for spec in periodic_specs()}
