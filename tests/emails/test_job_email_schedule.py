"""The weekly send in each person's local morning (declared in code, at most one email per person
per ISO week, a provider outage deferred to the next hour), the commands, the admin and the demo."""

from datetime import UTC, datetime
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command

from config.demo import DemoReport
from config.periodic import periodic_specs
from emails import demo
from emails.jobmail.services import email_run_create, email_run_execute, job_emails_due, job_emails_send_due
from emails.models import Email, EmailRun, Suppression
from tests.factories import ProfileFactory

pytestmark = pytest.mark.django_db
# Monday 2026-11-30, 08:30 in Tokyo (Sunday 23:30 UTC): Tokyo's send morning, not London's.
TOKYO_MONDAY_0830 = datetime(2026, 11, 29, 23, 30, tzinfo=UTC)
TOKYO_MONDAY_1030 = datetime(2026, 11, 30, 1, 30, tzinfo=UTC)


@pytest.fixture
def tokyo(job_pool, person):
    return person  # ProfileFactory's person lives in Asia/Tokyo


@pytest.fixture
def london():
    return ProfileFactory(time_zone="Europe/London")


def test_the_weekly_send_is_declared_in_code():
    tasks = {spec.task: spec for spec in periodic_specs()}

    assert tasks["emails.job_emails_send_due"].crontab == "5 * * * *"
    assert "emails.job_emails_send_queued" in tasks


def test_people_are_due_in_their_own_morning(tokyo, london):
    due, last = job_emails_due(now=TOKYO_MONDAY_0830)
    assert (due, last) == ([tokyo.pk], [])

    due, last = job_emails_due(now=TOKYO_MONDAY_1030)
    assert (due, last) == ([], [tokyo.pk])  # the window's last hour

    assert job_emails_due(now=datetime(2026, 11, 30, 8, 30, tzinfo=UTC)) == ([london.pk], [])


def test_the_weekly_send_goes_once_a_week(tokyo, london, mailoutbox):
    with time_machine.travel(TOKYO_MONDAY_0830, tick=False):
        first = job_emails_send_due()
        second = job_emails_send_due()

    assert (first.generated, first.sent) == (1, 1)
    assert (second.generated, second.already) == (0, 1)
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == [tokyo.email]
    email = Email.objects.get(kind=Email.Kind.JOB_RECOMMENDATION)
    assert (email.status, email.week) == (Email.Status.SENT, "2026-W49")


def test_an_unavailable_provider_defers_until_the_window_s_last_hour(tokyo, sim, mailoutbox):
    sim.script("insufficient_quota")  # and the breaker opens: later calls don't reach the provider

    with time_machine.travel(TOKYO_MONDAY_0830, tick=False):
        early = job_emails_send_due()

    assert early.deferred == 1
    assert Email.objects.filter(kind=Email.Kind.JOB_RECOMMENDATION).count() == 0  # nothing half-made left
    assert mailoutbox == []

    with time_machine.travel(TOKYO_MONDAY_1030, tick=False):
        last = job_emails_send_due()

    assert (last.generated, last.deferred, last.sent) == (1, 0, 1)  # the last hour doesn't defer


def test_a_run_claimed_already_does_nothing(tokyo):
    run = email_run_create(profile_ids=[tokyo.pk], mock=True)

    first = email_run_execute(run_id=run.pk)
    second = email_run_execute(run_id=run.pk)

    assert first.status == second.status == EmailRun.Status.DONE
    assert Email.objects.filter(kind=Email.Kind.JOB_RECOMMENDATION).count() == 1


def test_generate_emails_command_prints_a_summary(tokyo, london):
    out = StringIO()

    call_command("generate_emails", "--users", tokyo.user_id, london.user_id, "--mock", "--language", "ja", stdout=out)

    text = out.getvalue()
    assert "emails generated: 2 (2 mock" in text
    assert "wall time:" in text
    assert set(Email.objects.values_list("language", flat=True)) == {"ja"}


def test_generate_emails_command_refuses_unknown_people(tokyo):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("generate_emails", "--users", "nobody", stdout=StringIO())


def test_the_demo_writes_ja_and_en_job_emails_once(job_pool, mailoutbox):
    jane = ProfileFactory(owner__username="demo-jane", language="en", email="jane@example.com")
    taro = ProfileFactory(owner__username="demo-yamada", language="ja", email="taro@example.jp")
    ProfileFactory()  # not a demo person

    first, second = DemoReport(), DemoReport()
    demo.run(report=first)
    demo.run(report=second)

    jobs = [m for m in mailoutbox if "X-ContentOps-Digest" not in m.extra_headers]
    assert sorted(m.to[0] for m in jobs) == ["jane@example.com", "taro@example.jp"]
    languages = dict(Email.objects.filter(kind=Email.Kind.JOB_RECOMMENDATION).values_list("recipient", "language"))
    assert languages == {jane.owner_id: "en", taro.owner_id: "ja"}
    assert any("job emails: 2 weekly 6-section email(s) (en, ja), 2 sent" in line for line in first.done)
    assert any("2 already had this week's" in line for line in second.done)


def test_the_admin_shows_metrics_and_sends_a_test_copy_to_me(admin_client, admin_user, tokyo, mailoutbox):
    from emails.jobmail.services import email_generate

    email = email_generate(profile=tokyo)
    listing = admin_client.get("/admin/emails/email/")
    assert b"Job email generation" in listing.content

    admin_client.post(
        "/admin/emails/email/", {"action": "send_test_to_me", "_selected_action": [email.pk]}, follow=True
    )

    copy = Email.objects.get(kind=Email.Kind.TEST)
    assert copy.subject.startswith("[TEST] ")
    assert mailoutbox[0].to == [admin_user.email]
    # The copy's links are its own: unsubscribing from it unsubscribes the staff member, not the person.
    unsubscribe = mailoutbox[0].extra_headers.get("List-Unsubscribe")
    assert unsubscribe is None  # a test is not bulk mail
    link = next(part for part in copy.html.split('"') if "/e/u/" in part)
    admin_client.post(link.removeprefix("http://localhost:8000"))
    assert list(Suppression.objects.values_list("address", flat=True)) == [admin_user.email.lower()]
    assert "/e/c/" in copy.html
    assert copy.html != email.html
