"""The API's cheaper request path: API calls with their own credentials skip the session, auth and
messages middleware (config/middleware.py), and the unfiltered jobs list runs SQL compiled once
(config/api/prepared.py) — with the same answers as the ordinary path."""

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from catalog.jobs.apis import UNFILTERED
from catalog.jobs.models import JobListing
from catalog.jobs.selectors import job_listings_list
from config.api.prepared import PreparedQuerySet
from config.services import api_key_create
from tests.factories import JobListingFactory, JobScoreFactory

pytestmark = pytest.mark.django_db


def test_a_token_call_without_cookies_skips_the_session_and_still_knows_its_user(user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")

    response = client.get("/api/v1/me")

    assert response.status_code == 200
    assert response.json()["username"] == "alice"
    assert not hasattr(response.wsgi_request, "session")
    assert "Cookie" not in response.get("Vary", "")
    assert not response.cookies


def test_a_key_call_without_cookies_skips_the_session_too(staff_user):
    _, raw_key = api_key_create(name="k", user=staff_user, scopes=["read", "staff"])
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=raw_key)

    response = client.get("/api/v1/batch/list")

    assert response.status_code == 200
    assert not hasattr(response.wsgi_request, "session")


def test_a_call_with_a_session_cookie_keeps_the_whole_chain_and_bad_tokens_still_fail(user):
    client = APIClient()
    client.force_login(user)  # a session cookie: the browser path, CSRF and all

    assert client.get("/api/v1/me").json()["username"] == "alice"
    assert hasattr(client.get("/api/v1/me").wsgi_request, "session")
    anonymous = APIClient()
    anonymous.credentials(HTTP_AUTHORIZATION="Token not-a-token")
    assert anonymous.get("/api/v1/me").status_code == 401


def test_the_prepared_jobs_list_is_the_selector_s_every_time(user):
    JobListingFactory.create_batch(7)
    JobListingFactory(feed=None, posted_at=None)
    prepared = PreparedQuerySet(job_listings_list)
    expected = list(job_listings_list())

    for _ in range(2):  # compiled on the first call, reused on the second
        assert prepared.count() == len(expected) == 8
        assert [job.pk for job in prepared[2:6]] == [job.pk for job in expected[2:6]]
    JobListing.objects.filter(pk=expected[0].pk).update(active=False, title="gone")  # fresh data each call
    assert prepared.count() == 7
    page = prepared[0:8]
    assert [job.pk for job in page] == [job.pk for job in expected[1:]]
    assert page[-1].feed is None
    assert page[0].feed.name == expected[1].feed.name


def test_the_unfiltered_jobs_page_takes_the_same_queries_as_a_filtered_one(user):
    JobListingFactory.create_batch(3)
    client = APIClient()
    client.force_authenticate(user)
    client.get("/api/v1/jobs/")  # compiles

    with CaptureQueriesContext(connection) as prepared:
        unfiltered = client.get("/api/v1/jobs/").json()
    with CaptureQueriesContext(connection) as ordinary:
        filtered = client.get("/api/v1/jobs/?location=Tokyo").json()

    assert unfiltered == filtered
    assert unfiltered["count"] == 3
    assert len(prepared.captured_queries) == len(ordinary.captured_queries) == 2
    assert UNFILTERED.count() == 3


def test_a_prepared_queryset_prefetches_like_django(user):
    JobScoreFactory.create_batch(2, job=JobListingFactory())
    prepared = PreparedQuerySet(lambda: JobListing.objects.prefetch_related("scores").order_by("pk"))
    prepared[0:5]

    with CaptureQueriesContext(connection) as queries:
        jobs = prepared[0:5]

    assert len(queries.captured_queries) == 2
    with CaptureQueriesContext(connection) as none:
        assert [len(job.scores.all()) for job in jobs] == [2]
    assert not none.captured_queries


def test_prepared_values_take_the_samples_places_so_each_person_reads_their_own(user, other_user):
    from profiles.models import UserProfile
    from tests.factories import DigestFactory

    mine = UserProfile.objects.create(owner=user, user_id="alice")
    theirs = UserProfile.objects.create(owner=other_user, user_id="bob")
    DigestFactory(profile=mine, digest_date=date(2025, 1, 16))
    DigestFactory(profile=mine, digest_date=date(2025, 1, 17))
    DigestFactory(profile=theirs)
    JobScoreFactory(profile=mine, compatibility_score=90.0)
    JobScoreFactory(profile=mine, compatibility_score=40.0)
    JobScoreFactory(profile=theirs, compatibility_score=95.0)
    clients = {}
    for person in (user, other_user):
        clients[person.username] = APIClient()
        clients[person.username].credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=person).key}")

    for _ in range(2):  # the second round runs the SQL compiled in the first
        alice = clients["alice"].get("/api/v1/digests/").json()
        bob = clients["bob"].get("/api/v1/digests/").json()
        assert (alice["count"], bob["count"]) == (2, 1)
        assert {row["user_id"] for row in alice["results"]} == {"alice"}
        assert clients["alice"].get("/api/v1/profiles/matches/alice?min_score=50").json()["count"] == 1
        assert clients["alice"].get("/api/v1/profiles/matches/alice").json()["count"] == 2
        bob_matches = clients["bob"].get("/api/v1/profiles/matches/bob").json()["matches"]
        assert [match["compatibility_score"] for match in bob_matches] == [95.0]


def test_a_sample_must_be_one_of_the_query_s_parameters_and_values_keep_their_type():
    unused = PreparedQuerySet(lambda feed_id: job_listings_list(), feed_id=-7_000_009)
    with pytest.raises(TypeError, match="must appear once"):
        unused.bind(feed_id=1)[0:1]

    by_feed = PreparedQuerySet(lambda feed_id: JobListing.objects.filter(feed_id=feed_id), feed_id=-7_000_010)
    assert list(by_feed.bind(feed_id=123)) == []
    with pytest.raises(TypeError, match="int is expected"):
        list(by_feed.bind(feed_id="123"))
