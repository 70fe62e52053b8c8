"""Secrets, security headers and throttles (DESIGN.md §5.11)."""

import re

import pytest
from rest_framework.authtoken.models import Token

from tests.config.test_settings import PROBE, run_django
from tests.factories import ProfileFactory

pytestmark = pytest.mark.django_db


# --- the secret key ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "env",
    [
        {"DEBUG": "false"},  # development profile, DEBUG off, no secret: the public default
        {"DEBUG": "false", "SECRET_KEY": "django-insecure-contentops-development-only-key"},
        {"DJANGO_ENV": "production", "SECRET_KEY": "django-insecure-anything-at-all-that-is-long-enough-000"},
        {"DJANGO_ENV": "production", "DEBUG": "true"},  # production needs a secret even when debugging
    ],
)
def test_outside_debug_a_missing_or_development_secret_stops_start_up(tmp_path, env):
    result = run_django(["-c", PROBE], env, tmp_path)

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "SECRET_KEY must be set" in result.stderr


def test_debug_development_runs_on_the_default_secret(tmp_path):
    assert run_django(["-c", PROBE], {"DEBUG": "true"}, tmp_path).returncode == 0


# --- headers -------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/admin/login/", "/api/docs/", "/api/v1/", "/healthz"])
def test_pages_carry_a_content_security_policy_and_a_permissions_policy(client, path):
    response = client.get(path)

    csp = response["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    assert "frame-ancestors 'none'" in csp
    assert "camera=()" in response["Permissions-Policy"]


def test_swagger_ui_runs_under_the_policy_without_inline_scripts(client):
    page = client.get("/api/docs/").content.decode()

    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", page, flags=re.S)
    assert scripts
    assert all('src="' in attrs and not body.strip() for attrs, body in scripts)  # CSP: script-src 'self'
    assert "/static/drf_spectacular_sidecar/" in page


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/me",
        "/api/v1/profiles/profile/alice",
        "/api/v1/profiles/matches/alice",
        "/api/v1/digests/",
        "/api/v1/profiles/profile/nobody",  # errors too
    ],
)
def test_personal_data_answers_are_never_cached(user_client, user, path):
    ProfileFactory(owner=user, user_id="alice")

    response = user_client.get(path)

    assert "private" in response["Cache-Control"]
    assert "no-store" in response["Cache-Control"]


# --- throttles -----------------------------------------------------------------------------------


def test_the_token_endpoint_gives_a_token_and_throttles_guessing(api_client, user, settings):
    settings.API_THROTTLE_RATES = {**settings.API_THROTTLE_RATES, "token": "3/minute"}

    ok = api_client.post("/api/v1/auth/token", {"username": "alice", "password": "pw-alice-123"}, format="json")
    wrong = [
        api_client.post("/api/v1/auth/token", {"username": "alice", "password": f"guess-{i}"}, format="json")
        for i in range(3)
    ]

    assert ok.status_code == 200
    assert ok.json() == {"token": Token.objects.get(user=user).key}
    assert [r.status_code for r in wrong] == [400, 400, 429]
    assert wrong[-1].json()["error"]["code"] == "rate_limited"
    assert int(wrong[-1]["Retry-After"]) > 0


def test_admin_login_attempts_are_throttled_per_address(client, user, settings):
    settings.API_THROTTLE_RATES = {**settings.API_THROTTLE_RATES, "login": "2/minute"}

    answers = [client.post("/admin/login/", {"username": "alice", "password": f"guess-{i}"}) for i in range(3)]
    page = client.get("/admin/login/")

    assert [r.status_code for r in answers] == [200, 200, 429]
    assert int(answers[-1]["Retry-After"]) > 0
    assert page.status_code == 200  # looking at the form is not an attempt


def test_resume_uploads_are_throttled_per_user(user_client, user, settings):
    settings.API_THROTTLE_RATES = {**settings.API_THROTTLE_RATES, "upload": "1/minute"}
    ProfileFactory(owner=user, user_id="alice")
    path = "/api/v1/profiles/parse-text/alice"
    text = {"text": "Pat Example\nBackend engineer, 5 years of Python and Django in Tokyo.\n" * 3}

    first = user_client.post(path, text, format="json")
    second = user_client.post(path, text, format="json")

    assert first.status_code != 429
    assert second.status_code == 429
    assert second.json()["error"]["code"] == "rate_limited"
