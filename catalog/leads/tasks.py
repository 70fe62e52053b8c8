"""Celery tasks for leads: ids in, one service each.

The funnel is idempotent per hour (`periodic_once`) and per item: each step takes only leads not
done and not in a batch in flight, applies are upserts on the lead, and the conversation step
counts today's conversations against LEADS_TOP_N, so a redelivered run adds nothing.
"""

from __future__ import annotations

from celery import shared_task

from catalog.leads.funnel import leads_funnel_run
from config.periodic import periodic_once

TASK_OPTIONS = {"acks_late": True, "reject_on_worker_lost": True, "ignore_result": False}
FUNNEL_PERIOD_S = 3600


@shared_task(name="catalog.leads_funnel_run", **TASK_OPTIONS)
@periodic_once(period_s=FUNNEL_PERIOD_S, name="catalog.leads_funnel_run")
def leads_funnel_run_task() -> dict:
    """The funnel's next steps: qualify new postings and analyze the qualified (Batch API), then the
    day's top leads in conversation with an outreach draft."""
    return leads_funnel_run().as_dict()


@shared_task(name="catalog.lead_conversation_analyze", **TASK_OPTIONS)
def lead_conversation_analyze_task(lead_id: int, user_id: int | None = None) -> dict:
    """The whole conversational analysis of one lead (queued from the admin)."""
    from django.contrib.auth import get_user_model

    from catalog.leads.conversations import lead_analyze_conversationally
    from catalog.leads.models import Lead

    lead = Lead.objects.filter(pk=lead_id).first()
    if lead is None:
        return {}
    user = get_user_model().objects.filter(pk=user_id).first() if user_id else None
    summary = lead_analyze_conversationally(lead=lead, user=user)
    return {"lead_id": lead_id, "stage": summary["stage"], "turns": len(summary["turns"])}
