"""Settings switch between embedded defaults and real services, driven only by the environment."""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVICE_VARS = ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "EMAIL_URL", "DJANGO_ENV", "SECRET_KEY", "DEBUG")
# Set by the test process itself (the browser suite's live server), never by a deployment.
TEST_PROCESS_VARS = ("DJANGO_ALLOW_ASYNC_UNSAFE",)

PROBE = """
import json, django
from django.conf import settings
django.setup()
print(json.dumps({
    "db": settings.DATABASES["default"]["ENGINE"],
    "db_name": str(settings.DATABASES["default"]["NAME"]),
    "cache": settings.CACHES["default"]["BACKEND"],
    "eager": settings.CELERY_TASK_ALWAYS_EAGER,
    "broker": settings.CELERY_BROKER_URL,
    "email": settings.EMAIL_BACKEND,
    "debug": settings.DEBUG,
}))
"""


def run_django(code_or_args: list[str], env_overrides: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in SERVICE_VARS + TEST_PROCESS_VARS}
    env.update({"DJANGO_SETTINGS_MODULE": "config.settings", "CONTENTOPS_VAR_DIR": str(tmp_path)}, **env_overrides)
    return subprocess.run(  # noqa: S603
        [sys.executable, *code_or_args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False
    )


def probe(env_overrides: dict[str, str], tmp_path: Path) -> dict:
    result = run_django(["-c", PROBE], env_overrides, tmp_path)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_nothing_set_gives_embedded_defaults(tmp_path):
    conf = probe({}, tmp_path)
    assert conf["db"] == "django.db.backends.sqlite3"
    assert conf["db_name"].startswith(str(tmp_path))
    assert conf["cache"] == "django.core.cache.backends.locmem.LocMemCache"
    assert conf["eager"] is True
    assert conf["email"] == "django.core.mail.backends.filebased.EmailBackend"


def test_service_urls_switch_to_real_services(tmp_path):
    conf = probe(
        {
            "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/test",
            "REDIS_URL": "redis://127.0.0.1:6379/0",
            "CELERY_BROKER_URL": "amqp://guest:guest@127.0.0.1:5672//",
            "EMAIL_URL": "smtp://mail.example.com:25",
        },
        tmp_path,
    )
    assert conf["db"] == "django.db.backends.postgresql"
    assert conf["cache"] == "django_redis.cache.RedisCache"
    assert conf["eager"] is False
    assert conf["broker"].startswith("amqp://")
    assert conf["email"] == "django.core.mail.backends.smtp.EmailBackend"


def test_production_refuses_to_start_without_secret_key(tmp_path):
    result = run_django(["-c", PROBE], {"DJANGO_ENV": "production"}, tmp_path)
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_production_profile_passes_check_deploy(tmp_path):
    result = run_django(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        {
            "DJANGO_ENV": "production",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "contentops.example.com",
        },
        tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.skipif(not os.environ.get("CI"), reason="only CI promises real services")
def test_ci_runs_against_real_services():
    """In CI the suite must run on PostgreSQL and Redis, never silently on the embedded defaults."""
    from django.conf import settings

    assert settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
    assert settings.CACHES["default"]["BACKEND"] == "django_redis.cache.RedisCache"
