"""The API's cheaper request path: API calls with their own credentials skip the session, auth and
messages middleware (config/middleware.py), with the same answers as the ordinary path."""

from datetime import date

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from config.services import api_key_create
from tests.factories import JobScoreFactory

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


def test_each_person_reads_their_own_digests_and_matches_on_the_fast_path(user, other_user):
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

    for _ in range(2):  # the second round with the tokens remembered
        alice = clients["alice"].get("/api/v1/digests/").json()
        bob = clients["bob"].get("/api/v1/digests/").json()
        assert (alice["count"], bob["count"]) == (2, 1)
        assert {row["user_id"] for row in alice["results"]} == {"alice"}
        assert clients["alice"].get("/api/v1/profiles/matches/alice?min_score=50").json()["count"] == 1
        assert clients["alice"].get("/api/v1/profiles/matches/alice").json()["count"] == 2
        bob_matches = clients["bob"].get("/api/v1/profiles/matches/bob").json()["matches"]
        assert [match["compatibility_score"] for match in bob_matches] == [95.0]
