"""Matches, on-demand scoring and digests over the API: the ownership matrix (own / another
person's / staff / anonymous), bounds on parameters, read-only fields and pinned query counts."""

import pytest
from rest_framework.test import APIClient

from profiles.models import DailyDigest, JobScore
from tests.factories import DigestFactory, JobFactory, JobScoreFactory, ProfileFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _offline(settings):
    settings.LLM_PROVIDER = "offline"


@pytest.fixture
def mine(user):
    return ProfileFactory(owner=user, user_id=user.username)


@pytest.fixture
def theirs(other_user):
    return ProfileFactory(owner=other_user, user_id=other_user.username)


# --- matches ---------------------------------------------------------------------------------


def test_people_see_their_own_matches_best_first(user_client, mine):
    JobScoreFactory(profile=mine, compatibility_score=65)
    JobScoreFactory(profile=mine, compatibility_score=92)
    JobScoreFactory(profile=mine, compatibility_score=80, job__active=False)  # expired posting: hidden

    response = user_client.get(f"/api/v1/profiles/matches/{mine.user_id}")

    assert response.status_code == 200
    body = response.json()
    assert body["user_id"] == mine.user_id
    assert [m["compatibility_score"] for m in body["matches"]] == [92, 65]
    assert body["matches"][0]["job"]["title"]


def test_limit_and_min_score_filter_matches(user_client, mine):
    for score in (61, 70, 75, 90):
        JobScoreFactory(profile=mine, compatibility_score=score)

    body = user_client.get(f"/api/v1/profiles/matches/{mine.user_id}?limit=2&min_score=70").json()

    assert [m["compatibility_score"] for m in body["matches"]] == [90, 75]


@pytest.mark.parametrize("query", ["limit=0", "limit=101", "min_score=-1", "min_score=101", "limit=x"])
def test_bad_match_parameters_are_400(user_client, mine, query):
    response = user_client.get(f"/api/v1/profiles/matches/{mine.user_id}?{query}")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"


def test_another_persons_matches_are_404_and_staff_see_anyones(user_client, staff_client, theirs):
    JobScoreFactory(profile=theirs)

    assert user_client.get(f"/api/v1/profiles/matches/{theirs.user_id}").status_code == 404
    assert user_client.get("/api/v1/profiles/matches/nobody-at-all").status_code == 404
    staff = staff_client.get(f"/api/v1/profiles/matches/{theirs.user_id}")
    assert staff.status_code == 200
    assert staff.json()["count"] == 1


def test_anonymous_requests_are_401(api_client, mine):
    DigestFactory(profile=mine)

    assert api_client.get(f"/api/v1/profiles/matches/{mine.user_id}").status_code == 401
    assert api_client.post(f"/api/v1/profiles/score-jobs/{mine.user_id}").status_code == 401
    assert api_client.get("/api/v1/digests/").status_code == 401
    assert api_client.get(f"/api/v1/digests/{DailyDigest.objects.get().id}").status_code == 401


def test_match_list_query_count_does_not_grow_with_matches(user_client, mine, django_assert_num_queries):
    JobScoreFactory(profile=mine)
    with django_assert_num_queries(2) as few:  # the profile (with its owner), the matches with their jobs
        user_client.get(f"/api/v1/profiles/matches/{mine.user_id}")
    JobScoreFactory.create_batch(6, profile=mine)

    with django_assert_num_queries(len(few.captured_queries)):
        response = user_client.get(f"/api/v1/profiles/matches/{mine.user_id}")
    assert response.json()["count"] == 7


# --- on-demand scoring -----------------------------------------------------------------------


def test_people_score_their_own_new_jobs_now(user_client, mine):
    JobFactory.create_batch(3)

    response = user_client.post(f"/api/v1/profiles/score-jobs/{mine.user_id}?job_limit=50&days_back=1")

    assert response.status_code == 200
    body = response.json()
    assert body["user_id"] == mine.user_id
    assert body["jobs_considered"] == 3
    assert body["stored"] == JobScore.objects.filter(profile=mine).count() > 0
    assert body["sent_to_llm"] <= 20
    again = user_client.post(f"/api/v1/profiles/score-jobs/{mine.user_id}").json()
    assert again["jobs_considered"] == 0


def test_scoring_someone_else_is_404_but_staff_may(user_client, staff_client, theirs):
    JobFactory()

    assert user_client.post(f"/api/v1/profiles/score-jobs/{theirs.user_id}").status_code == 404
    assert not JobScore.objects.exists()
    assert staff_client.post(f"/api/v1/profiles/score-jobs/{theirs.user_id}").status_code == 200
    assert JobScore.objects.filter(profile=theirs).exists()


@pytest.mark.parametrize("query", ["job_limit=0", "job_limit=201", "days_back=0", "days_back=31"])
def test_scoring_is_bounded(user_client, mine, query):
    assert user_client.post(f"/api/v1/profiles/score-jobs/{mine.user_id}?{query}").status_code == 400


def test_server_owned_score_fields_cannot_be_written(user_client, mine):
    score = JobScoreFactory(profile=mine, compatibility_score=70)

    for method in ("put", "patch", "delete"):
        response = getattr(user_client, method)(
            f"/api/v1/profiles/matches/{mine.user_id}", {"compatibility_score": 100}, format="json"
        )
        assert response.status_code == 405
    score.refresh_from_db()
    assert score.compatibility_score == 70


# --- digests ---------------------------------------------------------------------------------


def test_people_list_only_their_own_digests(user_client, mine, theirs):
    own = DigestFactory(profile=mine)
    DigestFactory(profile=theirs)

    body = user_client.get("/api/v1/digests/").json()

    assert [d["id"] for d in body["results"]] == [own.id]
    assert body["results"][0]["user_id"] == mine.user_id
    assert "digest_html" not in body["results"][0]


def test_staff_list_everyones_digests_or_one_persons(staff_client, mine, theirs):
    DigestFactory(profile=mine)
    other = DigestFactory(profile=theirs)

    assert staff_client.get("/api/v1/digests/").json()["count"] == 2
    one = staff_client.get(f"/api/v1/digests/?user_id={theirs.user_id}").json()
    assert [d["id"] for d in one["results"]] == [other.id]


def test_asking_for_someone_elses_digests_by_user_id_is_404(user_client, mine, theirs):
    DigestFactory(profile=theirs)

    assert user_client.get(f"/api/v1/digests/?user_id={theirs.user_id}").status_code == 404
    assert user_client.get(f"/api/v1/digests/?user_id={mine.user_id}").status_code == 200


def test_digest_detail_is_own_only_and_read_only(user_client, staff_client, mine, theirs):
    own = DigestFactory(profile=mine, digest_html="<p>hi</p>")
    other = DigestFactory(profile=theirs)

    detail = user_client.get(f"/api/v1/digests/{own.id}")
    assert detail.status_code == 200
    assert detail.json()["digest_html"] == "<p>hi</p>"
    assert user_client.get(f"/api/v1/digests/{other.id}").status_code == 404
    assert user_client.get("/api/v1/digests/999999").status_code == 404
    assert staff_client.get(f"/api/v1/digests/{other.id}").status_code == 200
    assert user_client.patch(f"/api/v1/digests/{own.id}", {"email_opened": True}, format="json").status_code == 405
    own.refresh_from_db()
    assert not own.email_opened


def test_digest_list_query_count_is_constant(mine, theirs, staff_user, django_assert_num_queries):
    client = APIClient()
    client.force_authenticate(staff_user)
    DigestFactory(profile=mine)
    with django_assert_num_queries(2) as few:  # count, page with profiles joined
        client.get("/api/v1/digests/")
    for n in range(5):
        DigestFactory(profile=theirs, digest_date=f"2025-02-0{n + 1}")

    with django_assert_num_queries(len(few.captured_queries)):
        assert client.get("/api/v1/digests/").json()["count"] == 6


# --- reading only the ids a caller uses ----------------------------------------------------------


def test_a_profile_read_for_its_ids_keeps_the_ownership_rules_and_leaves_its_json_unread(
    user, other_user, staff_user, mine, theirs
):
    from config.errors import NotFoundError
    from profiles.selectors import profile_for_request

    own = profile_for_request(user=user, user_id=mine.user_id, only_ids=True)
    seen_by_staff = profile_for_request(user=staff_user, user_id=theirs.user_id, only_ids=True)

    assert (own.pk, own.user_id, own.owner_id) == (mine.pk, mine.user_id, user.pk)
    assert seen_by_staff.pk == theirs.pk
    assert "match_weights" in own.get_deferred_fields()
    with pytest.raises(NotFoundError):
        profile_for_request(user=user, user_id=theirs.user_id, only_ids=True)


def test_a_digest_read_loads_only_the_ids_of_its_person(user, mine):
    from profiles.matching.selectors import digest_for_user

    digest = digest_for_user(user=user, digest_id=DigestFactory(profile=mine).pk)

    assert (digest.profile.user_id, digest.profile.owner_id) == (mine.user_id, user.pk)
    assert "match_weights" in digest.profile.get_deferred_fields()
    assert not digest.get_deferred_fields()
