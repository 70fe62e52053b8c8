"""The API keeps its OpenAPI promise (DESIGN.md §5.10): schemathesis fuzzes every operation of
`/api/schema/` through the WSGI app as anonymous, a person (their own token and profile) and staff
(a staff-scoped API key), with every response check: no 5xx, only documented status codes, content
types, headers and bodies that match the schema.

Bounded and reproducible: MAX_EXAMPLES per operation and persona (positive and negative data), a
fixed seed (`derandomize`), no deadline. Known ids (the person's user_id, a product slug, a batch id,
a digest and a job) replace generated path parameters in two requests out of three, so the fuzzing
reaches past the 404s. The LLM runs offline (rule-based fallbacks) and no job feed exists, so no
operation reaches the network or sends mail; no operation is excluded.
"""

from __future__ import annotations

import itertools
from collections import Counter

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from catalog.products.services.generation import product_content_batch_create
from config.services import api_key_create
from tests.factories import CategoryFactory, DigestFactory, JobFactory, JobScoreFactory, ProductFactory, ProfileFactory

pytestmark = [pytest.mark.schemathesis, pytest.mark.django_db]

MAX_EXAMPLES = 15
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]
CONFIG = schemathesis.Config.from_dict(
    {
        "generation": {"with-security-parameters": False, "deterministic": True, "max-examples": MAX_EXAMPLES},
        "phases": {"coverage": {"enabled": __import__("os").environ.get("STCOV") == "1"}},
    }
)
HYPOTHESIS = settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
# Requests sent and status codes seen, per persona (printed with -s; the counts in the report).
SENT: dict[str, Counter] = {}


@pytest.fixture
def world(settings, tmp_path, staff_user, user):
    """A small world to fuzz: a person with a profile, scores and a digest; products; a built batch."""
    settings.LLM_PROVIDER = "offline"
    settings.BATCH_POLL_MIN_INTERVAL_S = 0
    settings.BATCH_DIR = str(tmp_path / "batches")
    profile = ProfileFactory(owner=user, user_id="alice")
    job = JobFactory()
    JobScoreFactory(profile=profile, job=job)
    digest = DigestFactory(profile=profile)
    for category in range(2):
        ProductFactory(category=CategoryFactory(name=f"Fuzz {category}"))
    batch = product_content_batch_create(
        category_limit=1, locales=("en-US",), include_completed=True, created_by=staff_user, name="fuzz"
    )
    _, staff_key = api_key_create(name="fuzz staff", user=staff_user, scopes=["read", "write", "staff"])
    person_token = Token.objects.create(user=user)
    return {
        "known": {
            "user_id": profile.user_id,
            "slug": ProductFactory._meta.model.objects.order_by("pk").first().slug,
            "batch_id": batch.batch_id,
            "digest_id": digest.pk,
            "job_id": job.pk,
        },
        "headers": {
            "anonymous": {},
            "person": {"Authorization": f"Token {person_token.key}"},
            "staff": {"X-API-Key": staff_key},
        },
    }


@pytest.fixture
def api_schema(world):
    # Like Django's test client: requests must not close the test's connection (it holds the transaction).
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application(), config=CONFIG)
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


schema = schemathesis.pytest.from_fixture("api_schema")
_turn = itertools.count()


def _use_known_ids(case, known: dict) -> None:
    for name in list(case.path_parameters or {}):
        if name in known and next(_turn) % 3:
            case.path_parameters[name] = known[name]


def _fuzz(case, world: dict, persona: str) -> None:
    _use_known_ids(case, world["known"])
    response = case.call_and_validate(headers=world["headers"][persona], checks=CHECKS)
    SENT.setdefault(persona, Counter())[response.status_code] += 1
    SENT.setdefault("ops", Counter())[f"{case.method} {case.path}"] += 1


@schema.parametrize()
@HYPOTHESIS
def test_api_as_anonymous(case, world):
    _fuzz(case, world, "anonymous")


@schema.parametrize()
@HYPOTHESIS
def test_api_as_a_person(case, world):
    _fuzz(case, world, "person")


@schema.parametrize()
@HYPOTHESIS
def test_api_as_staff(case, world):
    _fuzz(case, world, "staff")


def test_zz_fuzzing_sent_requests_as_each_persona():
    """Reported last: how much the fuzzing above did (a run that sent nothing proves nothing)."""
    if not SENT:
        pytest.skip("the fuzzing tests were not selected")
    for persona, statuses in sorted(SENT.items()):
        if persona == "ops":
            print(statuses.most_common())
            continue
        print(f"schemathesis {persona}: {sum(statuses.values())} requests, statuses {dict(sorted(statuses.items()))}")
        assert sum(statuses.values()) >= 100
        assert not [status for status in statuses if status >= 500]
