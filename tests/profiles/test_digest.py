"""Daily digests: one per person per local day across time zones, who is due, the DIGEST task
(simulator, Japanese, offline fallback), the tasks and the declared schedules. (Their emails:
tests/emails/test_digest_emails.py.)"""

from datetime import UTC, date, datetime

import pytest
import time_machine
from django.db import IntegrityError, transaction

from config.periodic import periodic_specs
from profiles.matching.services.digests import digests_generate, local_date
from profiles.matching.text import mostly_japanese
from profiles.models import DailyDigest
from profiles.schedules import SCHEDULE
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
def tokyo_and_london():
    with at(2025, 1, 15, 12, 0):
        tokyo = ProfileFactory(time_zone="Asia/Tokyo")
        utc = ProfileFactory(time_zone="UTC", location="London", preferred_locations=["London"])
        JobScoreFactory(profile=tokyo)
        JobScoreFactory(profile=utc)
    return tokyo, utc


def test_local_date_follows_the_persons_time_zone():
    moment = datetime(2025, 1, 15, 22, 30, tzinfo=UTC)

    assert local_date(time_zone="Asia/Tokyo", now=moment) == date(2025, 1, 16)
    assert local_date(time_zone="UTC", now=moment) == date(2025, 1, 15)
    assert local_date(time_zone="Not/AZone", now=moment) == date(2025, 1, 15)  # unknown: UTC


def test_digests_go_to_each_person_in_their_own_morning_once_per_local_day(offline, tokyo_and_london):
    tokyo, utc = tokyo_and_london

    with at(2025, 1, 15, 22, 30):  # 07:30 in Tokyo on the 16th; 22:30 in UTC
        first = digests_generate()
    assert first.generated == 1
    assert DailyDigest.objects.get().profile == tokyo
    assert DailyDigest.objects.get().digest_date == date(2025, 1, 16)

    with at(2025, 1, 15, 23, 30):  # still Tokyo's morning of the 16th: nothing new
        again = digests_generate()
    assert again.due == 0
    assert DailyDigest.objects.count() == 1

    with at(2025, 1, 16, 7, 5):  # UTC's morning of the 16th; Tokyo's afternoon
        london_morning = digests_generate()
    assert london_morning.generated == 1
    assert DailyDigest.objects.get(profile=utc).digest_date == date(2025, 1, 16)

    with at(2025, 1, 16, 12, 0):
        JobScoreFactory(profile=tokyo)
    with at(2025, 1, 16, 22, 10):  # Tokyo's next morning: a new local day, a new digest
        digests_generate()
    assert list(DailyDigest.objects.filter(profile=tokyo).values_list("digest_date", flat=True)) == [
        date(2025, 1, 17),
        date(2025, 1, 16),
    ]


def test_people_without_new_matches_get_no_digest(offline):
    with at(2025, 1, 15, 12, 0):
        ProfileFactory(time_zone="UTC")

    with at(2025, 1, 16, 7, 0):
        summary = digests_generate()

    assert (summary.due, summary.no_new_matches, summary.generated) == (1, 1, 0)
    assert not DailyDigest.objects.exists()


def test_matches_already_in_a_digest_are_not_new_the_next_day(offline, tokyo_and_london):
    _tokyo, utc = tokyo_and_london
    with at(2025, 1, 16, 7, 0):
        digests_generate()

    with at(2025, 1, 17, 7, 0):
        next_day = digests_generate(profile_ids=[utc.id])

    assert next_day.no_new_matches == 1


def test_the_database_allows_one_digest_per_person_and_local_date():
    digest = DigestFactory()

    with pytest.raises(IntegrityError), transaction.atomic():
        DigestFactory(profile=digest.profile, digest_date=digest.digest_date)


def test_offline_digest_is_the_flagged_rule_based_text_with_the_top_jobs(offline, tokyo_and_london):
    tokyo, _ = tokyo_and_london
    with at(2025, 1, 15, 22, 0):
        digests_generate()

    digest = DailyDigest.objects.get(profile=tokyo)
    assert digest.is_fallback
    assert digest.digest_title == "1 new job match for Jan 16"
    assert "Your best match today is" in digest.digest_summary
    assert digest.top_jobs[0]["score"] == 80
    assert digest.total_matches == 1
    assert digest.generation_time_seconds is not None
    assert not digest.email_sent  # profiles never sends: the emails app does


def test_japanese_people_get_a_japanese_digest_from_the_model(sim, settings):
    settings.DIGEST_LOCAL_HOUR = 7
    with at(2025, 1, 15, 12, 0):
        person = ProfileFactory(language="ja", time_zone="Asia/Tokyo")
        JobScoreFactory(profile=person, job__title="バックエンドエンジニア")

    with at(2025, 1, 15, 22, 0):
        summary = digests_generate()

    assert summary.fallbacks == 0
    digest = DailyDigest.objects.get()
    assert not digest.is_fallback
    assert mostly_japanese(f"{digest.digest_title} {digest.digest_summary}")


def test_the_hourly_digest_task_writes_each_new_digest_once_and_sends_nothing(offline, tokyo_and_london, mailoutbox):
    with at(2025, 1, 15, 22, 0):
        result = digests_generate_task()
        again = digests_generate_task()  # a second beat's duplicate send: the hour's run happened
    with at(2025, 1, 15, 23, 0):
        next_hour = digests_generate_task()  # still Tokyo's morning: today's digest exists

    assert (result["generated"], again, next_hour["generated"]) == (1, None, 0)
    assert DailyDigest.objects.count() == 1
    assert mailoutbox == []
    assert not DailyDigest.objects.get().email_sent


def test_schedules_are_declared_offset_from_the_feed_refresh():
    crontabs = {spec.task: spec.crontab for spec in SCHEDULE}

    assert crontabs["profiles.job_scores_run_all"] == "30 * * * *"
    assert crontabs["profiles.digests_generate"] == "0 * * * *"
    assert crontabs["profiles.job_scores_cleanup"].split()[-1] == "0"  # weekly
    assert {spec.name for spec in SCHEDULE} <= {spec.name for spec in periodic_specs()}


def test_celery_autodiscovery_registers_every_scheduled_matching_and_email_task():
    from config.celery import app

    app.loader.import_default_modules()  # what a worker does at start: each app's `tasks` module

    scheduled = {spec.task for spec in periodic_specs() if spec.task.startswith(("profiles.", "emails."))}
    assert {"profiles.job_scores_run_all", "profiles.digests_generate", "emails.digest_emails_send_due"} <= scheduled
    assert scheduled <= set(app.tasks)
    assert "profiles.job_scores_run_for_profile" in app.tasks
