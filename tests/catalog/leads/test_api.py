"""Leads, conversation and lead-batch endpoints: staff only, thin, and every answer JSON."""

import pytest

from batches.models import Batch
from catalog.leads.models import Lead
from catalog.leads.services import SCRAPED_FEED_URL

pytestmark = pytest.mark.django_db

ENDPOINTS = [
    ("get", "/api/v1/leads/", None),
    ("get", "/api/v1/leads/1", None),
    ("post", "/api/v1/conversation/start", {"job_id": 1}),
    ("post", "/api/v1/conversation/ask", {"job_id": 1, "question": "Why?"}),
    ("post", "/api/v1/conversation/roi", {"job_id": 1}),
    ("post", "/api/v1/conversation/pain-points", {"job_id": 1}),
    ("post", "/api/v1/conversation/services", {"job_id": 1}),
    ("post", "/api/v1/conversation/email", {"job_id": 1}),
    ("post", "/api/v1/conversation/summary", {"job_id": 1}),
    ("get", "/api/v1/conversation/complete/1", None),
    ("get", "/api/v1/conversation/1", None),
    ("post", "/api/v1/batch/create?task_type=qualify", {"job_ids": [1]}),
    ("post", "/api/v1/batch/process-scraped", {"jobs": [{"title": "x"}]}),
]


@pytest.fixture(autouse=True)
def offline(settings):
    settings.LLM_PROVIDER = "offline"


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS)
def test_anonymous_callers_are_refused(api_client, method, path, body):
    response = getattr(api_client, method)(path, body, format="json")

    assert response.status_code in (401, 403)
    assert "error" in response.json()


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS)
def test_a_signed_in_person_who_is_not_staff_is_refused(user_client, method, path, body):
    response = getattr(user_client, method)(path, body, format="json")

    assert response.status_code == 403
    assert not Lead.objects.exists()
    assert not Batch.objects.exists()


def test_leads_are_listed_best_first_filtered_by_stage_and_score(staff_client, make_lead, django_assert_num_queries):
    scored = []
    for score, stage in [(90, "qualified"), (40, "disqualified"), (75, "qualified")]:
        lead = make_lead()
        Lead.objects.filter(pk=lead.pk).update(score=score, verdict=stage, stage=stage)
        scored.append(lead)

    with django_assert_num_queries(2):  # count, page (listings joined): no query per lead
        body = staff_client.get("/api/v1/leads/", {"stage": "qualified", "min_score": 60}).json()

    assert [row["score"] for row in body["results"]] == [90, 75]
    assert body["results"][0]["job"]["title"] == scored[0].job.title
    assert staff_client.get("/api/v1/leads/", {"stage": "bogus"}).status_code == 400


def test_a_lead_shows_its_analysis_and_stage_history(staff_client, lead):
    staff_client.get(f"/api/v1/conversation/complete/{lead.job_id}")

    body = staff_client.get(f"/api/v1/leads/{lead.pk}").json()

    assert body["stage"] == "draft_ready"
    assert [c["to_stage"] for c in body["stage_changes"]] == ["in_conversation", "draft_ready"]
    assert body["draft_subject"]
    assert body["roi_assumptions"]
    assert body["provenance"]["lead_email"]["is_fallback"]
    assert staff_client.get("/api/v1/leads/999999").status_code == 404


def test_conversation_steps_by_job_id_and_the_conversation_with_its_tokens(staff_client, lead):
    start = staff_client.post("/api/v1/conversation/start", {"job_id": lead.job_id}, format="json")
    assert start.status_code == 200
    conversation_id = start.json()["conversation_id"]
    assert start.json()["stage"] == "in_conversation"
    assert set(start.json()["turn"]["output"]) >= {"company_need", "urgency", "risks"}

    for path in ("roi", "pain-points", "services", "email"):
        assert (
            staff_client.post(f"/api/v1/conversation/{path}", {"job_id": lead.job_id}, format="json").status_code == 200
        )
    ask = staff_client.post(
        "/api/v1/conversation/ask", {"job_id": lead.job_id, "question": "Who signs?"}, format="json"
    )
    assert ask.json()["turn"]["is_fallback"] is True

    detail = staff_client.get(f"/api/v1/conversation/{conversation_id}").json()
    assert [t["index"] for t in detail["turns"]] == [0, 1, 2, 3, 4, 5]
    assert detail["lead_id"] == lead.pk
    assert set(detail["turns"][0]) >= {"asked", "tokens_in", "tokens_cached", "tokens_out", "cost_usd"}
    assert detail["totals"]["turns"] == 6
    summary = staff_client.post("/api/v1/conversation/summary", {"job_id": lead.job_id}, format="json").json()
    assert summary["stage"] == "draft_ready"
    assert summary["draft"]["subject"]


def test_conversation_errors_are_json(staff_client, lead):
    assert staff_client.post("/api/v1/conversation/start", {"job_id": 999999}, format="json").status_code == 404
    assert staff_client.post("/api/v1/conversation/start", {}, format="json").json()["error"]["code"]
    empty = staff_client.post("/api/v1/conversation/ask", {"job_id": lead.job_id, "question": ""}, format="json")
    assert empty.status_code == 400
    # A conversation that is not a lead's is not served here.
    from llm.conversations import conversation_start

    other = conversation_start(title="not a lead")
    assert staff_client.get(f"/api/v1/conversation/{other.pk}").status_code == 404


def test_batch_create_makes_a_lead_batch_for_job_ids(staff_client, make_lead):
    jobs = [make_lead().job_id for _ in range(2)]

    response = staff_client.post("/api/v1/batch/create?task_type=qualify", {"job_ids": jobs}, format="json")

    assert response.status_code == 201
    body = response.json()
    assert (body["task_type"], body["task_name"], body["item_count"]) == ("qualify", "lead_qualify", 2)
    batch = Batch.objects.get(batch_id=body["batch_id"])
    assert batch.items.filter(subject_type__model="lead").count() == 2


def test_batch_create_takes_a_filter_and_the_task_type_in_the_body(staff_client, make_lead):
    qualified = make_lead()
    make_lead()
    Lead.objects.filter(pk=qualified.pk).update(stage="qualified", score=80, verdict="qualified")

    body = staff_client.post(
        "/api/v1/batch/create", {"task_type": "analyze", "stage": "qualified"}, format="json"
    ).json()

    assert body["item_count"] == 1
    assert Batch.objects.get(batch_id=body["batch_id"]).items.get().custom_id == f"lead-{qualified.pk}-analyze"


def test_batch_create_refuses_an_unknown_task_type_and_a_lead_task_without_a_selection(staff_client):
    unknown = staff_client.post("/api/v1/batch/create?task_type=poetry")
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (400, "invalid_task_type")
    assert staff_client.post("/api/v1/batch/create?task_type=parse", {}, format="json").status_code == 400
    missing = staff_client.post("/api/v1/batch/create?task_type=parse", {"job_ids": [999999]}, format="json")
    assert missing.json()["error"]["code"] == "job_not_found"
    assert not Batch.objects.exists()


def test_process_scraped_upserts_listings_and_runs_the_batch_when_it_can_finish_now(staff_client, offerings):
    jobs = [
        {
            "title": "Junior DevOps Engineer",
            "company": "Shiba Infra",
            "description": "Automate our AWS and Kubernetes deployments; today they are manual.",
            "url": "https://jobs.example.org/postings/1",
        },
        {"title": "Night Nurse", "company": "Ward 7", "description": "Care for patients.", "url": ""},
    ]

    response = staff_client.post(
        "/api/v1/batch/process-scraped",
        {"jobs": jobs, "task_type": "qualify", "wait_for_completion": True},
        format="json",
    )

    assert response.status_code == 200
    body = response.json()
    assert (body["waited"], body["status"], body["applied"], body["fallbacks"]) == (True, "ingested", 2, 2)
    leads = Lead.objects.filter(job_id__in=body["job_ids"]).select_related("job__feed")
    assert {(lead.source, lead.job.feed.url) for lead in leads} == {("scraped", SCRAPED_FEED_URL)}
    assert {lead.job.title: lead.verdict for lead in leads} == {
        "Junior DevOps Engineer": "qualified",
        "Night Nurse": "disqualified",
    }
    # The same postings again: the same listings, updated, not duplicated.
    again = staff_client.post("/api/v1/batch/process-scraped", {"jobs": jobs, "task_type": "parse"}, format="json")
    assert again.status_code == 202
    assert again.json()["job_ids"] == body["job_ids"]
    assert Lead.objects.count() == 2

    results = staff_client.get(f"/api/v1/batch/results/{body['batch_id']}").json()["results"]
    assert {r["result"]["verdict"] for r in results} == {"qualified", "disqualified"}
    assert all(r["result"]["is_fallback"] for r in results)


def test_process_scraped_refuses_a_posting_without_a_title(staff_client):
    response = staff_client.post("/api/v1/batch/process-scraped", {"jobs": [{"company": "x"}]}, format="json")

    assert response.status_code == 400
    assert not Lead.objects.exists()
