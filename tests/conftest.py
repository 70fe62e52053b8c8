"""Shared fixtures: API clients, users, and a clean cache per test."""

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from rest_framework.test import APIClient


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # PBKDF2 costs about a second a user on this machine; tests check behaviour, not hashing.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _batch_files_in_tmp(settings, tmp_path):
    # Batch JSONL files of one test must not land in the working tree or meet another test's.
    settings.BATCH_DIR = tmp_path / "batches"


@pytest.fixture(autouse=True)
def _admin_work_inline(settings):
    # Admin jobs run inside the request in tests (a thread would not see the test's transaction);
    # the browser suite (tests/browser) turns the embedded mode's background threads back on.
    settings.ADMIN_BACKGROUND_THREADS = False
    settings.ADMIN_BATCH_POLL_INTERVAL_S = 0.01


@pytest.fixture(autouse=True)
def _nothing_remembered(settings):
    # /healthz probes and API key/token rows are remembered a second or two per process (config/memo.py);
    # tests change them and look again at once (tests/config/test_remembered.py turns it back on).
    settings.HEALTHZ_CACHE_S = 0
    settings.API_AUTH_CACHE_S = 0


@pytest.fixture(autouse=True)
def _clean_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def user(db):
    return get_user_model().objects.create_user("alice", "alice@example.com", "pw-alice-123")


@pytest.fixture
def other_user(db):
    return get_user_model().objects.create_user("bob", "bob@example.com", "pw-bob-123")


@pytest.fixture
def staff_user(db):
    return get_user_model().objects.create_user("staff", "staff@example.com", "pw-staff-123", is_staff=True)


@pytest.fixture
def staff_client(staff_user) -> APIClient:
    client = APIClient()
    client.force_authenticate(staff_user)
    return client


@pytest.fixture
def user_client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


CANARY_KEY = "sk-canary-0123456789abcdefSECRET"


@pytest.fixture(autouse=True)
def _llm_shared_state():
    """Breaker, limits and cache index live in Redis or process memory: start each test clean."""
    from llm.providers import clients_reset
    from llm.redis import reset_shared_state_for_tests

    reset_shared_state_for_tests()
    yield
    reset_shared_state_for_tests()
    clients_reset()


@pytest.fixture
def openai_settings(settings):
    """The layer configured for the `openai` provider (the canary key), with fast retries; the test
    chooses the transport."""
    settings.LLM_PROVIDER = "openai"
    settings.OPENAI_API_KEY = CANARY_KEY
    settings.OPENAI_BASE_URL = ""
    settings.OPENAI_RETRY_MIN_WAIT = 0.01
    settings.OPENAI_RETRY_MAX_WAIT = 0.05
    settings.OPENAI_REQUEST_TIMEOUT = 2.0
    return settings


@pytest.fixture
def sim(openai_settings):
    """The layer pointed at an in-process simulator as the `openai` provider, with fast retries."""
    from llm.providers import use_transport
    from llm.simulator import Simulator

    simulator = Simulator(seed=1, require_api_key=CANARY_KEY)
    with use_transport(simulator.transport()):
        yield simulator
    simulator.close()
