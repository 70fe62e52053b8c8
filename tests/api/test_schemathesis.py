"""The API keeps its OpenAPI promise (DESIGN.md §5.10): schemathesis fuzzes every operation of
`/api/schema/` through the WSGI app as anonymous, a person (their own token and profile) and staff
(a staff-scoped API key), with every response check: no 5xx, only documented status codes, content
types, headers and bodies that match the schema.

Bounded and reproducible: MAX_EXAMPLES random cases per operation and persona (positive and negative
data; fewer as anonymous), plus schemathesis' coverage phase (boundary values, missing and unexpected
parameters, other methods) as staff, who reach every operation; a fixed seed (`derandomize`), no
deadline. Known ids (the person's user_id, a product slug, a batch id, a digest and a job) replace
generated path parameters in two requests out of three, so the fuzzing reaches past the 404s. The LLM
provider is the in-process simulator (a healthy provider: `fallback=false` gets model answers, not a
503) and no job feed exists, so no operation reaches the network; mail goes to Django's test outbox.
No operation is excluded.
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
ANONYMOUS_EXAMPLES = 8  # every answer is a 401 (or 404/405 before authentication): fewer prove it
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]


def _config(*, max_examples: int, coverage: bool) -> schemathesis.Config:
    # The coverage phase adds each operation's boundary cases (limits of numbers and lengths, missing and
    # unexpected values, other methods) to the random ones.
    return schemathesis.Config.from_dict(
        {
            "generation": {"with-security-parameters": False, "deterministic": True, "max-examples": max_examples},
            "phases": {"coverage": {"enabled": coverage}},
        }
    )


HYPOTHESIS = settings(
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
# Requests sent and status codes seen, per persona (printed with -s; the counts in the report).
SENT: dict[str, Counter] = {}


@pytest.fixture
def world(settings, sim, tmp_path, staff_user, user):
    """A small world to fuzz: a person with a profile, scores and a digest; products; a built batch."""
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
def _wsgi_requests_keep_the_connection():
    # Like Django's test client: requests must not close the test's connection (it holds the transaction).
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def _load(max_examples: int, *, coverage: bool):
    return schemathesis.openapi.from_wsgi(
        "/api/schema/", get_wsgi_application(), config=_config(max_examples=max_examples, coverage=coverage)
    )


@pytest.fixture
def anonymous_api_schema(world, _wsgi_requests_keep_the_connection):
    return _load(ANONYMOUS_EXAMPLES, coverage=False)


@pytest.fixture
def person_api_schema(world, _wsgi_requests_keep_the_connection):
    return _load(MAX_EXAMPLES, coverage=False)


@pytest.fixture
def staff_api_schema(world, _wsgi_requests_keep_the_connection):
    # Staff reach every operation (and the person's own objects), so the boundary cases run here once.
    return _load(MAX_EXAMPLES, coverage=True)


anonymous_schema = schemathesis.pytest.from_fixture("anonymous_api_schema")
person_schema = schemathesis.pytest.from_fixture("person_api_schema")
staff_schema = schemathesis.pytest.from_fixture("staff_api_schema")
_turn = itertools.count()


def _use_known_ids(case, known: dict) -> None:
    for name in list(case.path_parameters or {}):
        if name in known and next(_turn) % 3:
            case.path_parameters[name] = known[name]


def _fuzz(case, world: dict, persona: str) -> None:
    _use_known_ids(case, world["known"])
    response = case.call_and_validate(headers=world["headers"][persona], checks=CHECKS)
    SENT.setdefault(persona, Counter())[response.status_code] += 1


@anonymous_schema.parametrize()
@settings(HYPOTHESIS, max_examples=ANONYMOUS_EXAMPLES)
def test_api_as_anonymous(case, world):
    _fuzz(case, world, "anonymous")


@person_schema.parametrize()
@settings(HYPOTHESIS, max_examples=MAX_EXAMPLES)
def test_api_as_a_person(case, world):
    _fuzz(case, world, "person")


@staff_schema.parametrize()
@settings(HYPOTHESIS, max_examples=MAX_EXAMPLES)
def test_api_as_staff(case, world):
    _fuzz(case, world, "staff")


def test_zz_fuzzing_sent_requests_as_each_persona():
    """Reported last: how much the fuzzing above did (a run that sent nothing proves nothing)."""
    if not SENT:
        pytest.skip("the fuzzing tests were not selected")
    for persona, statuses in sorted(SENT.items()):
        print(f"schemathesis {persona}: {sum(statuses.values())} requests, statuses {dict(sorted(statuses.items()))}")
        assert sum(statuses.values()) >= 100
        assert not [status for status in statuses if status >= 500]
