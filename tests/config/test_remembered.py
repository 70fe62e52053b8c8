"""Answers remembered for a second or two per process (config/memo.py): /healthz probes and the rows
behind API keys and tokens. Frequent requests cost no repeated probe or auth query; what changes
takes effect once the entry expires."""

import time

import pytest
from rest_framework.authtoken.models import Token

from config import health
from config.api import authentication
from config.memo import MISSING, Memo
from config.services import api_key_create, api_key_revoke

pytestmark = pytest.mark.django_db

STAFF_ONLY = "/api/v1/llm/metrics"


@pytest.fixture
def remembering(settings):
    settings.HEALTHZ_CACHE_S = 60
    settings.API_AUTH_CACHE_S = 60
    health._recent.clear()
    authentication._remembered.clear()
    yield settings
    health._recent.clear()
    authentication._remembered.clear()


def test_an_entry_expires_and_the_oldest_goes_first_when_full(monkeypatch):
    memo = Memo(max_entries=2)
    clock = [100.0]
    monkeypatch.setattr(time, "monotonic", lambda: clock[0])
    memo.set("a", 1, ttl_s=5)
    memo.set("b", 2, ttl_s=5)
    memo.set("c", 3, ttl_s=5)

    assert memo.get("a") is MISSING
    assert (memo.get("b"), memo.get("c")) == (2, 3)
    clock[0] += 5
    assert memo.get("b") is MISSING
    memo.set("d", 4, ttl_s=0)
    assert memo.get("d") is MISSING


def test_healthz_probes_once_per_window(client, remembering, monkeypatch):
    probes = []
    monkeypatch.setitem(health.CHECKS, "database", lambda: probes.append(1) or {"status": "ok", "backend": "x"})

    for _ in range(5):
        assert client.get("/healthz").status_code == 200

    assert len(probes) == 1
    remembering.HEALTHZ_CACHE_S = 0
    client.get("/healthz")
    assert len(probes) == 2


def test_a_token_costs_no_query_while_remembered_and_a_copy_of_its_user_each_time(
    api_client, user, remembering, django_assert_num_queries
):
    token = Token.objects.create(user=user)
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert api_client.get("/api/v1/me").status_code == 200

    with django_assert_num_queries(0):
        first = authentication.CachedTokenAuthentication().authenticate_credentials(token.key)
    second = authentication.CachedTokenAuthentication().authenticate_credentials(token.key)
    assert first[0] == user
    assert first[0] is not second[0]


def test_a_staff_key_without_the_staff_scope_never_changes_the_remembered_user(api_client, staff_user, remembering):
    limited = api_key_create(name="limited", user=staff_user, scopes=["read"])[1]
    full = api_key_create(name="full", user=staff_user, scopes=["read", "staff"])[1]

    assert api_client.get(STAFF_ONLY, HTTP_X_API_KEY=limited).status_code == 403
    assert api_client.get(STAFF_ONLY, HTTP_X_API_KEY=full).status_code == 200
    assert api_client.get(STAFF_ONLY, HTTP_X_API_KEY=full).status_code == 200  # remembered, still staff


def test_a_revoked_key_is_refused_once_its_entry_expires(api_client, staff_user, remembering):
    api_key, raw_key = api_key_create(name="ops", user=staff_user, scopes=["read", "staff"])
    assert api_client.get(STAFF_ONLY, HTTP_X_API_KEY=raw_key).status_code == 200

    api_key_revoke(api_key=api_key)
    authentication._remembered.clear()  # as if API_AUTH_CACHE_S had passed

    assert api_client.get(STAFF_ONLY, HTTP_X_API_KEY=raw_key).status_code == 401
