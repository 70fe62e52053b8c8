"""The four lead tasks, each run now, in bulk and through the Batch API (simulator), and offline."""

import pytest

from batches.services import batch_run_pipeline
from catalog.leads.funnel import lead_batch_create, lead_task_run_now, lead_tasks_run_bulk
from catalog.leads.llm import LEAD_TASKS, POSTING_CLOSE, POSTING_OPEN, UNTRUSTED_RULE
from catalog.leads.models import Lead
from catalog.leads.selectors import posting_input
from catalog.leads.services import lead_parsed_apply
from llm.models import LLMCall
from llm.task import Provenance

pytestmark = pytest.mark.django_db

TASK_TYPES = list(LEAD_TASKS)


def stored(lead: Lead, task_type: str) -> object:
    """What the lead keeps for a task type (empty/None when nothing was applied)."""
    return {
        "qualify": lead.verdict,
        "analyze": lead.analysis,
        "extract_pain_points": lead.provenance.get("lead_extract_pain_points"),
        "parse": lead.parsed,
    }[task_type]


def assert_model_output_applied(lead: Lead, task_type: str, *, mode: str) -> None:
    lead.refresh_from_db()
    provenance = lead.provenance[LEAD_TASKS[task_type].name]
    assert provenance["is_fallback"] is False
    assert provenance["provider"] == "openai"
    assert stored(lead, task_type)
    call = LLMCall.objects.get(pk=provenance["call_id"])
    assert (call.mode, call.status) == (mode, "succeeded")
    assert call.subject_id == str(lead.pk)


@pytest.mark.parametrize("task_type", TASK_TYPES)
def test_now_applies_the_models_output_to_the_lead(sim, lead, task_type):
    result = lead_task_run_now(task_type=task_type, lead=lead)

    assert not result.is_fallback
    assert_model_output_applied(lead, task_type, mode="now")
    # Instructions only in the system message; the posting only inside the delimited user block.
    messages = next(c for c in sim.calls if c.endpoint == "chat.completions").json["messages"]
    assert UNTRUSTED_RULE in messages[0]["content"]
    assert lead.job.description not in messages[0]["content"]
    user = messages[1]["content"]
    assert user.index(POSTING_OPEN) < user.index(lead.job.description[:60]) < user.index(POSTING_CLOSE)


@pytest.mark.parametrize("task_type", TASK_TYPES)
def test_bulk_applies_to_every_lead(sim, make_lead, task_type):
    leads = [make_lead() for _ in range(3)]

    outcomes = lead_tasks_run_bulk(task_type=task_type, leads=leads, background=True)

    assert [o.ok for o in outcomes] == [True, True, True]
    for lead in leads:
        assert_model_output_applied(lead, task_type, mode="bulk")


@pytest.mark.parametrize("task_type", TASK_TYPES)
def test_batch_applies_through_the_same_task(sim, make_lead, task_type):
    leads = [make_lead() for _ in range(3)]

    batch = lead_batch_create(task_type=task_type, leads=leads)
    result = batch_run_pipeline(batch=batch, poll_interval=0)

    assert (result.applied, result.failed) == (3, 0)
    assert sorted(batch.items.values_list("custom_id", flat=True)) == sorted(
        f"lead-{lead.pk}-{task_type}" for lead in leads
    )
    for lead in leads:
        assert_model_output_applied(lead, task_type, mode="batch")


def test_qualification_moves_a_new_lead_to_its_verdicts_stage(sim, make_lead):
    leads = [make_lead() for _ in range(4)]

    lead_tasks_run_bulk(task_type="qualify", leads=leads)

    for lead in leads:
        lead.refresh_from_db()
        assert lead.stage == lead.verdict
        assert 0 <= lead.score <= 100
        change = lead.stage_changes.get()
        assert (change.from_stage, change.to_stage) == ("new", lead.verdict)


@pytest.fixture
def offline(settings):
    settings.LLM_PROVIDER = "offline"


def test_offline_fallbacks_read_the_posting_and_say_they_are_rule_based(offline, lead):
    for task_type in TASK_TYPES:
        assert lead_task_run_now(task_type=task_type, lead=lead).is_fallback

    lead.refresh_from_db()
    assert lead.verdict == "qualified"
    assert lead.stage == "analyzed"  # qualified, then analyzed
    assert lead.reason.startswith("Rule-based: fits Cloud & DevOps setup")
    assert lead.analysis["decision_maker_hints"] == ["Report to the CTO."]
    assert lead.parsed["contact"] == {"kind": "email", "value": "hiring@shiba-infra.example.com"}
    assert lead.pain_points, "the posting names manual deployments and on-call incidents"
    assert all(point["evidence_found"] for point in lead.pain_points)
    assert all(lead.provenance[task.name]["is_fallback"] for task in LEAD_TASKS.values())


def test_an_unrelated_posting_is_disqualified_by_the_fallback(offline, make_lead):
    nurse = make_lead(title="Night Nurse", description="Care for patients on the ward at night.", skills=[])

    lead_task_run_now(task_type="qualify", lead=nurse)

    nurse.refresh_from_db()
    assert (nurse.verdict, nurse.stage) == ("disqualified", "disqualified")
    assert nurse.score < 60


def test_a_fallback_never_replaces_a_models_output(sim, settings, lead):
    lead_task_run_now(task_type="analyze", lead=lead)
    lead.refresh_from_db()
    model_analysis = lead.analysis

    settings.LLM_PROVIDER = "offline"
    assert lead_task_run_now(task_type="analyze", lead=lead).is_fallback

    lead.refresh_from_db()
    assert lead.analysis == model_analysis
    assert lead.provenance["lead_analyze"]["is_fallback"] is False


def test_pain_points_whose_evidence_is_not_in_the_posting_are_marked(sim, lead):
    lead_task_run_now(task_type="extract_pain_points", lead=lead)

    lead.refresh_from_db()
    # The simulator invents its quotes: none of them is in the posting, and the lead says so.
    assert lead.pain_points
    assert not any(point["evidence_found"] for point in lead.pain_points)


def test_a_pay_range_given_upside_down_is_stored_the_right_way_round(lead):
    output = LEAD_TASKS["parse"].fallback_output(posting_input(lead=lead)).model_dump()
    provenance = Provenance(
        task="lead_parse",
        task_version=1,
        provider="openai",
        model="gpt-4o-mini",
        is_fallback=False,
        generated_at=lead.created_at,
    )

    lead_parsed_apply(lead_id=lead.pk, output={**output, "pay_min": 90.0, "pay_max": 50.0}, provenance=provenance)

    lead.refresh_from_db()
    assert (lead.parsed["pay_min"], lead.parsed["pay_max"]) == (50.0, 90.0)


def test_a_task_that_failed_for_good_is_counted_on_the_lead(lead):
    task = LEAD_TASKS["analyze"]

    task.fail(posting_input(lead=lead), "quality: summary is empty")
    task.fail(posting_input(lead=lead), "quality: summary is empty")

    lead.refresh_from_db()
    assert lead.failures == 2
    assert lead.last_error == "lead_analyze: quality: summary is empty"
