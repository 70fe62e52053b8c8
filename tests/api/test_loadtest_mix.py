"""The load test's request mix (loadtests/locustfile.py) on the data `loadtest_seed` makes: every
request answers 200 in a fixed number of queries, whatever the amount of data behind it."""

import json

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

# Queries per request, authentication included (a token or an API key: one query, none while the
# row is remembered, see tests/config/test_remembered.py).
EXPECTED = {
    "jobs": 3,  # token, count, page (feed joined)
    "matches": 3,  # token, the profile, the matches with their jobs
    "profile": 2,  # token, the profile
    "digests": 3,  # token, count, page
    "digest": 3,  # token, the digest with its profile, its first view recorded (later views: no update)
    "emails": 3,  # token, count, page
    "email": 2,  # token, the email
    "healthz": 1,  # the database probe
    "batches": 4,  # key, count, page, parts
    "batch_status": 3,  # key, the batch with its retry link, its parts (a finished batch: no poll)
    "batch_results": 4,  # key, the batch, count, page of items
}


def _requests(seed):
    person = seed["people"][0]
    user_id = person["user_id"]
    batch_id = seed["batches"][0]
    return {
        "jobs": ("person", "/api/v1/jobs/?page=2"),
        "matches": ("person", f"/api/v1/profiles/matches/{user_id}"),
        "profile": ("person", f"/api/v1/profiles/profile/{user_id}"),
        "digests": ("person", "/api/v1/digests/"),
        "digest": ("person", f"/api/v1/digests/{person['digest_ids'][0]}"),
        "emails": ("person", "/api/v1/emails/"),
        "email": ("person", f"/api/v1/emails/{person['email_ids'][0]}"),
        "healthz": ("person", "/healthz"),
        "batches": ("staff", "/api/v1/batch/list"),
        "batch_status": ("staff", f"/api/v1/batch/status/{batch_id}"),
        "batch_results": ("staff", f"/api/v1/batch/results/{batch_id}"),
    }


def _counts(tmp_path, django_assert_max_num_queries, **sizes):
    out = tmp_path / "seed.json"
    call_command("loadtest_seed", out=str(out), **sizes)
    seed = json.loads(out.read_text())
    clients = {"person": APIClient(), "staff": APIClient()}
    clients["person"].credentials(HTTP_AUTHORIZATION=f"Token {seed['people'][0]['token']}")
    clients["staff"].credentials(HTTP_X_API_KEY=seed["api_key"])
    for client in clients.values():
        assert client.get("/api/v1/me").status_code == 200  # a key's first use records it (once a minute)
    counts = {}
    for name, (who, url) in _requests(seed).items():
        with django_assert_max_num_queries(50) as queries:
            response = clients[who].get(url)
        assert response.status_code == 200, (name, response.content[:300])
        counts[name] = len(queries.captured_queries)
    return counts


def test_every_request_of_the_mix_takes_the_same_few_queries_small_or_large(tmp_path, django_assert_max_num_queries):
    small = _counts(tmp_path, django_assert_max_num_queries, jobs=60, people=2, scores=5, batches=2)
    large = _counts(tmp_path, django_assert_max_num_queries, jobs=300, people=3, scores=120, batches=4)

    assert small == EXPECTED
    assert large == EXPECTED
