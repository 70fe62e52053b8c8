"""Demo step for leads: the demo offerings, then the funnel over the bundled postings (offline: the
batches are answered locally by the rule-based fallbacks), with one conversation and its draft."""

from __future__ import annotations

from catalog.leads.funnel import leads_funnel_run
from catalog.leads.selectors import leads_stage_counts
from catalog.leads.services import offerings_ensure_defaults
from config.demo import DemoReport

DEMO_CONVERSATIONS = 1


def run(*, report: DemoReport) -> None:
    """Turn the bundled postings into leads: qualify and analyze them in batches, converse with the best one."""
    created = offerings_ensure_defaults()
    funnel = leads_funnel_run(top_n=DEMO_CONVERSATIONS)
    stages = {stage: count for stage, count in leads_stage_counts().items() if count}
    report.done.append(
        f"leads: {created} demo offering(s) added; {funnel.new_leads} new lead(s) from the postings; "
        f"qualified {funnel.qualify.applied} and analyzed {funnel.analyze.applied} through batches; "
        f"{funnel.conversations} conversation(s), {funnel.drafts} outreach draft(s); by stage: "
        + ", ".join(f"{stage} {count}" for stage, count in stages.items())
    )
    report.done += [f"leads: {note}" for note in funnel.notes]
    report.look += [
        "leads by stage and score: http://127.0.0.1:8000/admin/catalog/lead/ "
        "(actions: qualify, analyze, converse, dismiss)",
        "leads API: /api/v1/leads/?stage=qualified&min_score=60, conversations: /api/v1/conversation/complete/<job_id>",
        "the funnel by hand: python manage.py leads_funnel [--limit N] [--now]; "
        "its cost: python manage.py llm_costs --days 1",
    ]
