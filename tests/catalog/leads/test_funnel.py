"""The daily funnel, its command, its schedule, the demo step and the cost simulation."""

import io
import re
from decimal import Decimal

import pytest
from django.core.management import call_command

from batches.models import Batch
from catalog.leads.funnel import leads_funnel_run
from catalog.leads.models import Lead
from config.periodic import periodic_specs
from llm.breaker import get_breaker
from llm.models import LLMCall
from llm.providers import provider_config

pytestmark = pytest.mark.django_db

UNRELATED = "Care for patients on the ward at night. Rotating shifts, nursing licence required."


@pytest.fixture
def offline(settings):
    settings.LLM_PROVIDER = "offline"


@pytest.fixture
def postings(make_lead):
    """Three postings that fit our offerings and two that do not, as plain listings (no lead yet)."""
    fits = [make_lead().job for _ in range(3)]
    others = [make_lead(title=f"Night Nurse {n}", description=UNRELATED, skills=[]).job for n in range(2)]
    Lead.objects.all().delete()
    return fits, others


def test_the_funnel_qualifies_analyzes_and_converses_with_the_top_leads(offline, postings):
    fits, others = postings

    report = leads_funnel_run(top_n=2)

    assert report.new_leads == 5
    assert (report.qualify.mode, report.qualify.due, report.qualify.applied) == ("batch", 5, 5)
    assert (report.analyze.due, report.analyze.applied) == (3, 3)
    assert (report.conversations, report.drafts) == (2, 2)
    stages = dict(Lead.objects.values_list("job_id", "stage"))
    assert {stages[job.pk] for job in others} == {"disqualified"}
    assert sorted(stages[job.pk] for job in fits) == ["analyzed", "draft_ready", "draft_ready"]
    assert set(Batch.objects.values_list("task_name", "status")) == {
        ("lead_qualify", "ingested"),
        ("lead_analyze", "ingested"),
    }


def test_a_second_run_finds_nothing_due_and_keeps_to_the_days_cap(offline, postings):
    leads_funnel_run(top_n=2)
    batches = Batch.objects.count()

    report = leads_funnel_run(top_n=2)

    assert (report.new_leads, report.qualify.due, report.analyze.due, report.conversations) == (0, 0, 0, 0)
    assert report.notes == ["today's conversations are done (LEADS_TOP_N)"]
    assert Batch.objects.count() == batches


def test_now_mode_runs_the_steps_in_bulk_against_the_provider(sim, postings):
    report = leads_funnel_run(now=True, top_n=0)

    assert (report.qualify.mode, report.qualify.applied, report.qualify.fallbacks) == ("bulk", 5, 0)
    assert report.analyze.applied == report.analyze.due == Lead.objects.filter(stage="analyzed").count()
    assert set(LLMCall.objects.values_list("mode", flat=True)) == {"bulk"}
    assert not Batch.objects.exists()


def test_while_the_provider_refuses_calls_conversations_wait(sim, postings):
    leads_funnel_run(now=True, top_n=0)
    get_breaker(provider_config().name).record_failure(force_open=True)

    report = leads_funnel_run(top_n=5)

    assert report.conversations == 0
    assert "circuit open" in report.notes[0]
    assert not Lead.objects.filter(conversation__isnull=False).exists()


def test_the_command_runs_the_funnel_and_ends_with_a_summary(offline, postings):
    out = io.StringIO()

    call_command("leads_funnel", "--limit", "4", "--top", "1", stdout=out)

    text = out.getvalue()
    assert "qualify (batch): 4 due, 4 applied, 0 failed, 4 rule-based" in text
    assert "outreach drafts: 1" in text
    assert "Leads by stage:" in text
    assert Lead.objects.filter(qualified_at__isnull=False).count() == 4


def test_the_funnel_is_scheduled_and_its_task_is_registered():
    from celery import current_app

    spec = next(s for s in periodic_specs() if s.task == "catalog.leads_funnel_run")
    assert spec.crontab == "45 * * * *"
    assert "catalog.leads_funnel_run" in current_app.tasks


def test_the_demo_step_turns_the_bundled_postings_into_leads(offline):
    from catalog.jobs import demo as jobs_demo
    from catalog.leads import demo as leads_demo
    from config.demo import DemoReport

    report = DemoReport()
    jobs_demo.run(report=report)
    leads_demo.run(report=report)

    assert Lead.objects.filter(stage__in=["qualified", "analyzed", "draft_ready"]).count() >= 3
    assert Lead.objects.filter(conversation__isnull=False).count() == 1
    assert Lead.objects.filter(stage="draft_ready").exclude(draft_subject="").count() == 1
    assert any(line.startswith("leads: 6 demo offering(s) added") for line in report.done)


def test_a_simulated_day_is_priced_from_the_ledger(settings):
    out = io.StringIO()

    call_command("leads_simulate_day", "--postings", "40", "--top", "2", stdout=out)

    text = out.getvalue()
    assert "lead_qualify" in text
    assert "lead_conversation" in text
    cost = Decimal(re.search(r"LLM calls, \$([0-9.]+) for 40 postings", text).group(1))
    assert cost == sum(LLMCall.objects.values_list("cost_usd", flat=True)).quantize(Decimal("0.0001"))
    assert Decimal(0) < cost < Decimal("0.02")
    assert set(LLMCall.objects.values_list("model", flat=True)) == {"gpt-4o-mini"}


def test_process_jobs_batch_takes_listings_and_raw_postings_in_one_batch(offline, make_lead):
    from catalog.leads.agent import process_jobs_batch

    listing = make_lead().job
    raw = {"title": "Data Analyst", "company": "Maple", "description": "Weekly reports built by hand in Excel."}

    result = process_jobs_batch([listing, raw], task_type="parse", wait_for_completion=True)

    assert (result["status"], result["item_count"], result["applied"], result["waited"]) == ("ingested", 2, 2, True)
    assert Lead.objects.filter(source="scraped", job__title="Data Analyst").exclude(parsed={}).exists()
