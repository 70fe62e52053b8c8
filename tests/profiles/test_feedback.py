"""The loop the seed promises: feedback on matches (own only; others 404; staff all), what it changes
next (hidden matches, excluded jobs, moved prefilter weights), digests viewed on read, application
and click counts on the job, and digests emailed at the person's local hour."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.utils import timezone

from catalog.jobs.services import job_listing_click_record
from catalog.models import JobListing
from emails.models import Email
from emails.services import digest_emails_send_due
from emails.tasks import digest_emails_send_due as digest_emails_send_due_task
from profiles.matching.prefilter import WEIGHTS
from profiles.matching.services.feedback import WEIGHT_MAX_FACTOR, job_score_feedback, match_weights_from_reasons
from profiles.matching.services.scoring import job_scores_run
from profiles.models import DailyDigest, JobScore
from profiles.services import profile_update
from tests.factories import DigestFactory, JobFactory, JobScoreFactory, ProfileFactory

pytestmark = pytest.mark.django_db


def at(*args):
    return time_machine.travel(datetime(*args, tzinfo=UTC), tick=False)


@pytest.fixture(autouse=True)
def _offline(settings):
    settings.LLM_PROVIDER = "offline"


@pytest.fixture
def mine(user):
    return ProfileFactory(owner=user, user_id=user.username)


@pytest.fixture
def theirs(other_user):
    return ProfileFactory(owner=other_user, user_id=other_user.username)


def _feedback(client, profile, job_id, **body):
    return client.post(f"/api/v1/profiles/matches/{profile.user_id}/{job_id}/feedback", body, format="json")


# --- the endpoint ---------------------------------------------------------------------------------


def test_a_person_gives_feedback_on_their_own_match(user_client, mine):
    score = JobScoreFactory(profile=mine)

    response = _feedback(user_client, mine, score.job_id, action="interested", comment="  looks great \x00 ")

    assert response.status_code == 200
    body = response.json()
    assert body["match"]["user_interested"] is True
    assert body["match"]["user_feedback_comment"] == "looks great"
    score.refresh_from_db()
    assert (score.user_interested, score.user_applied) == (True, False)
    assert score.user_feedback_at is not None


def test_another_persons_match_is_404_and_staff_reach_anyones(user_client, staff_client, mine, theirs):
    their_score = JobScoreFactory(profile=theirs)
    my_score = JobScoreFactory(profile=mine)

    # Neither their user_id nor their job under my user_id reaches their score
    assert _feedback(user_client, theirs, their_score.job_id, action="applied").status_code == 404
    assert _feedback(user_client, mine, their_score.job_id, action="applied").status_code == 404
    their_score.refresh_from_db()
    assert their_score.user_applied is False
    # Staff reach anyone's; my own still works
    assert _feedback(staff_client, theirs, their_score.job_id, action="interested").status_code == 200
    assert _feedback(user_client, mine, my_score.job_id, action="interested").status_code == 200


def test_anonymous_feedback_is_401(api_client, mine):
    score = JobScoreFactory(profile=mine)
    assert _feedback(api_client, mine, score.job_id, action="interested").status_code == 401


@pytest.mark.parametrize(
    "body",
    [
        {"action": "love"},
        {"action": "not_interested", "reason": "vibes"},
        {"action": "interested", "comment": "x" * 1001},
        {},
    ],
)
def test_bad_feedback_is_400_and_changes_nothing(user_client, mine, body):
    score = JobScoreFactory(profile=mine)

    response = _feedback(user_client, mine, score.job_id, **body)

    assert response.status_code == 400
    score.refresh_from_db()
    assert score.user_interested is None


def test_applying_counts_once_on_the_job(user_client, mine):
    score = JobScoreFactory(profile=mine)

    for _ in range(3):
        assert _feedback(user_client, mine, score.job_id, action="applied").status_code == 200

    score.refresh_from_db()
    assert (score.user_applied, score.user_interested) == (True, True)
    assert JobListing.objects.get(pk=score.job_id).application_count == 1


def test_clicks_count_on_the_job_with_f_updates():
    job = JobFactory()
    for _ in range(2):
        job_listing_click_record(job_id=job.pk)
    job.refresh_from_db()
    assert job.click_count == 2


# --- what feedback changes next ------------------------------------------------------------------


def test_not_interested_hides_the_match_and_the_job_is_never_scored_again(user_client, mine):
    with at(2026, 11, 1, 9, 0):
        kept, dropped = JobFactory(), JobFactory()
    with at(2026, 11, 1, 10, 0):
        job_scores_run(profile_ids=[mine.pk])
    assert JobScore.objects.filter(profile=mine).count() == 2

    _feedback(user_client, mine, dropped.pk, action="not_interested", reason="company", comment="not for me")

    listed = user_client.get(f"/api/v1/profiles/matches/{mine.user_id}").json()["matches"]
    assert [m["job"]["id"] for m in listed] == [kept.pk]
    # The person edits their profile: everything in the window is reconsidered, except that job
    with at(2026, 11, 1, 10, 30):
        profile_update(profile=mine, data={"desired_roles": ["Backend Engineer", "Data Engineer"]})
    with at(2026, 11, 1, 11, 0):
        summary = job_scores_run(profile_ids=[mine.pk])
    assert summary.considered == 1
    assert JobScore.objects.get(profile=mine, job=dropped).user_interested is False


def test_not_interested_jobs_are_left_out_of_the_digest(settings, mine):
    settings.DIGEST_LOCAL_HOUR = 7
    from profiles.matching.services.digests import digests_generate

    with at(2025, 1, 15, 12, 0):
        wanted = JobScoreFactory(profile=mine, compatibility_score=70)
        declined = JobScoreFactory(profile=mine, compatibility_score=95)
        job_score_feedback(profile=mine, job_id=declined.job_id, action="not_interested")
    with at(2025, 1, 15, 22, 0):
        digests_generate(profile_ids=[mine.pk])

    assert [job["job_id"] for job in DailyDigest.objects.get(profile=mine).top_jobs] == [wanted.job_id]


def test_reasons_move_the_persons_weights_within_bounds_explained_on_the_profile(user_client, mine):
    scores = [JobScoreFactory(profile=mine) for _ in range(12)]

    for score in scores:
        _feedback(user_client, mine, score.job_id, action="not_interested", reason="location")

    mine.refresh_from_db()
    weights = mine.match_weights
    assert sum(weights.values()) == pytest.approx(1.0, abs=0.01)
    assert weights["location"] > WEIGHTS["location"]
    # Bounded: however many reasons, no weight goes past twice or below half its standard
    for factor, standard in WEIGHTS.items():
        assert standard / WEIGHT_MAX_FACTOR - 0.001 <= weights[factor] <= standard * WEIGHT_MAX_FACTOR + 0.001
    profile = user_client.get(f"/api/v1/profiles/profile/{mine.user_id}").json()
    assert profile["match_weights"] == weights
    assert profile["match_weights_explained"] == [
        f"You turned down 12 jobs for their location: it now counts {round(weights['location'] * 100)}% "
        "of a match (standard 20%)."
    ]


def test_changing_ones_mind_takes_the_reason_back():
    assert match_weights_from_reasons({}) == {}
    person = ProfileFactory(language="ja")
    score = JobScoreFactory(profile=person)
    job_score_feedback(profile=person, job_id=score.job_id, action="not_interested", reason="salary")
    person.refresh_from_db()
    assert person.match_weights["salary"] > WEIGHTS["salary"]
    assert person.match_weights_explained[0].startswith("給与を理由に")

    job_score_feedback(profile=person, job_id=score.job_id, action="interested")

    person.refresh_from_db()
    assert person.match_weights == {}
    assert person.match_weights_explained == []


def test_feedback_changes_the_next_run(mine):
    # Given two new jobs: one matches more skills but is abroad, one is local with fewer skills,
    # and the person's run keeps only the best one (top K = 1).
    mine.preferred_locations = ["Tokyo"]
    mine.save()
    with at(2026, 11, 1, 9, 0):
        far = JobFactory(location="London, UK", skills=["Python", "Django", "AWS", "Kubernetes"])
        near = JobFactory(location="Tokyo, Japan", skills=["Python", "Django", "Go", "Rust"])
    with at(2026, 11, 1, 10, 0):
        before = job_scores_run(profile_ids=[mine.pk], top_k=1, days_back=1)
    assert before.considered == 2
    assert list(JobScore.objects.filter(profile=mine).values_list("job_id", flat=True)) == [far.pk]

    # When the person turns down several jobs for their location (older ones it had shown them)
    for _ in range(6):
        with at(2026, 10, 30, 9, 0):
            old = JobScoreFactory(profile=mine, job__location="Fukuoka, Japan")
        job_score_feedback(profile=mine, job_id=old.job_id, action="not_interested", reason="location")

    # Then the same choice, made again, goes the other way: location weighs more for them now
    JobScore.objects.filter(profile=mine, job=far).delete()
    with at(2026, 11, 1, 11, 0):
        mine.refresh_from_db()
        mine.last_scored_at = None
        mine.save(update_fields=["last_scored_at"])
        job_scores_run(profile_ids=[mine.pk], top_k=1, days_back=1)
    assert set(JobScore.objects.filter(profile=mine, job__in=[far, near]).values_list("job_id", flat=True)) == {
        near.pk
    }


# --- digests: viewed on read, sent at the local hour -------------------------------------------------


def test_reading_ones_own_digest_marks_it_viewed_once_and_staff_reading_does_not(
    user_client, staff_client, mine, theirs
):
    digest = DigestFactory(profile=mine)
    their_digest = DigestFactory(profile=theirs)

    staff_client.get(f"/api/v1/digests/{digest.pk}")
    digest.refresh_from_db()
    assert digest.user_viewed is False

    first = user_client.get(f"/api/v1/digests/{digest.pk}").json()
    seen_at = DailyDigest.objects.get(pk=digest.pk).user_viewed_at
    user_client.get(f"/api/v1/digests/{digest.pk}")

    assert first["user_viewed"] is True
    assert DailyDigest.objects.get(pk=digest.pk).user_viewed_at == seen_at
    assert user_client.get(f"/api/v1/digests/{their_digest.pk}").status_code == 404
    their_digest.refresh_from_db()
    assert their_digest.user_viewed is False


def test_the_schedule_emails_a_digest_at_the_persons_local_morning_only(settings, mailoutbox):
    settings.DIGEST_LOCAL_HOUR, settings.DIGEST_WINDOW_HOURS = 7, 3
    # A digest written on demand in the Tokyo afternoon (05:00 UTC = 14:00 JST)
    with at(2025, 1, 15, 5, 0):
        DigestFactory(profile=ProfileFactory(time_zone="Asia/Tokyo"))
        digest_emails_send_due_task()
    assert mailoutbox == []
    # Night in Tokyo (18:00 UTC = 03:00 JST): still waiting
    with at(2025, 1, 15, 18, 0):
        assert digest_emails_send_due_task()["sent"] == 0
    # 22:10 UTC = 07:10 JST: the morning pass sends it, once
    with at(2025, 1, 15, 22, 10):
        assert digest_emails_send_due_task()["sent"] == 1
        assert digest_emails_send_due_task()["sent"] == 0
    assert len(mailoutbox) == 1
    assert Email.objects.get().status == Email.Status.SENT


def test_an_explicit_send_is_not_held_for_the_morning(settings, mailoutbox):
    settings.DIGEST_LOCAL_HOUR = 7
    digest = DigestFactory(profile=ProfileFactory(time_zone="Asia/Tokyo"))
    now = timezone.now().astimezone(UTC).replace(hour=5) + timedelta(days=0)

    run = digest_emails_send_due(digest_ids=[digest.pk], now=now)

    assert run.sent == 1
