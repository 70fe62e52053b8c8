"""Platform periodic tasks: thin, each calling one service, idempotent per period."""

from celery import shared_task
from django.core.management import call_command

from config.periodic import periodic_once, periodic_runs_prune

DAY_S = 24 * 3600


@shared_task(name="config.sessions_clear_expired", acks_late=True, reject_on_worker_lost=True, ignore_result=True)
@periodic_once(period_s=DAY_S, name="config.sessions_clear_expired")
def clear_expired_sessions() -> None:
    call_command("clearsessions")


@shared_task(name="config.periodic_runs_prune", acks_late=True, reject_on_worker_lost=True, ignore_result=True)
@periodic_once(period_s=DAY_S, name="config.periodic_runs_prune")
def periodic_runs_prune_task() -> int:
    """Forget the per-period run records older than PERIODIC_RUN_RETENTION_DAYS."""
    return periodic_runs_prune()
