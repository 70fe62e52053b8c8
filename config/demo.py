"""The demo: the project's main job on the embedded defaults, assembled from each app's steps.

An app joins by having a `demo.py` with `run(*, report: DemoReport) -> None`; steps run in
DEMO_APPS order and add lines to the closing summary.
"""

import secrets
from dataclasses import dataclass, field
from importlib import import_module

from django.contrib.auth import get_user_model
from django.core.management import call_command

from config.health import run_checks
from config.models import APIKey
from config.periodic import periodic_tasks_sync
from config.services import api_key_create

DEMO_APPS = ["config", "llm", "catalog", "batches", "profiles", "emails"]
ADMIN_USERNAME = "admin"
DEMO_KEY_SCOPES = ("read", "write", "staff")


@dataclass
class DemoReport:
    """What the demo did (one line per fact) and where to look afterwards."""

    done: list[str] = field(default_factory=list)
    look: list[str] = field(default_factory=list)
    secrets_once: list[str] = field(default_factory=list)


def run(*, report: DemoReport) -> None:
    """Platform step: admin user, a staff-scoped API key owned by it, schedules, health."""
    user_model = get_user_model()
    if not user_model.objects.filter(username=ADMIN_USERNAME).exists():
        password = secrets.token_urlsafe(12)
        user_model.objects.create_superuser(ADMIN_USERNAME, "admin@contentops.local", password)
        report.secrets_once.append(f"admin login: {ADMIN_USERNAME} / {password}")
        report.done.append("created the admin user")
    else:
        report.done.append("admin user already exists (its password was printed on the first run)")

    # The demo's service key acts as the admin with every scope, so it reaches the staff endpoints too.
    admin_user = user_model.objects.get(username=ADMIN_USERNAME)
    if not APIKey.objects.filter(user=admin_user, revoked_at__isnull=True).exists():
        _, raw_key = api_key_create(name="demo service client", user=admin_user, scopes=DEMO_KEY_SCOPES)
        report.secrets_once.append(f"staff API key (X-API-Key; scopes {', '.join(DEMO_KEY_SCOPES)}): {raw_key}")

    sync = periodic_tasks_sync()
    total = len(sync.created) + len(sync.updated) + len(sync.unchanged)
    report.done.append(f"synced {total} periodic task(s) into django-celery-beat")

    healthy, checks = run_checks()
    states = ", ".join(f"{name} {check['status']} ({check.get('backend', '?')})" for name, check in checks.items())
    report.done.append(f"health: {states}")
    if not healthy:
        report.done.append("WARNING: a dependency is unhealthy; see /healthz")
    report.look += [
        "python manage.py runserver, then http://127.0.0.1:8000/admin/ (log in as admin: the dashboard shows "
        "today's LLM spend, batches in flight, fallbacks, feeds, emails and leads)",
        "API docs (offline Swagger UI): http://127.0.0.1:8000/api/docs/",
        "API as staff: curl -H 'X-API-Key: <the staff key printed on the first run>' "
        "http://127.0.0.1:8000/api/v1/profiles/users "
        "(lost it? python manage.py create_api_key cli --user admin --staff)",
        "health: http://127.0.0.1:8000/healthz; Prometheus metrics: http://127.0.0.1:8000/metrics (signed in as staff)",
    ]


def demo_run(*, report: DemoReport, migrate: bool = True) -> DemoReport:
    """Migrate, then run every app's demo step in order."""
    if migrate:
        call_command("migrate", interactive=False, verbosity=0)
        report.done.append("applied database migrations")
    for app_name in DEMO_APPS:
        try:
            module = import_module(f"{app_name}.demo")
        except ModuleNotFoundError as exc:
            if exc.name != f"{app_name}.demo":
                raise
            continue
        module.run(report=report)
    return report
