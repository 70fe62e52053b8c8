"""The emails API: people generate and read only their own emails (others answer 404); runs,
metrics, cache clearing and sending are staff-only; every error is JSON in the project's shape."""

import pytest
from django.utils import timezone

from emails.jobmail.llm import SECTION_KEYS
from emails.models import Email, EmailRun
from tests.factories import JobScoreFactory, ProfileFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice_profile(user, job_pool):
    profile = ProfileFactory(owner=user, language="ja", full_name="山田 花子")
    for job in job_pool["scored"][:4]:
        JobScoreFactory(profile=profile, job=job)
    return profile


def generate(client, user_id, **body):
    return client.post("/api/v1/emails/generate", {"user_id": user_id, **body}, format="json")


def test_a_person_generates_their_own_email(user_client, alice_profile, mailoutbox):
    response = generate(user_client, "alice", template_variables={"campaign_name": "Spring"}, send=True)

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["kind"] == "job_recommendation"
    assert body["language"] == "ja"
    assert [s["key"] for s in body["sections"]] == list(SECTION_KEYS)
    assert body["sections"][1]["jobs"][0]["title"]
    assert body["html"].startswith("<!DOCTYPE html>")
    assert body["text"]
    assert body["status"] == "draft"  # `send` is staff-only: ignored for a person
    assert mailoutbox == []


def test_someone_else_s_person_is_404(user_client, person):
    response = generate(user_client, person.user_id)

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_people_see_only_their_own_emails(user_client, staff_client, alice_profile, person, job_pool):
    own = generate(user_client, "alice").json()
    theirs = generate(staff_client, person.user_id).json()

    listing = user_client.get("/api/v1/emails/").json()
    assert [e["id"] for e in listing["results"]] == [own["id"]]
    assert user_client.get(f"/api/v1/emails/{own['id']}").status_code == 200
    other = user_client.get(f"/api/v1/emails/{theirs['id']}")
    assert other.status_code == 404
    assert other.json()["error"]["code"] == "not_found"
    staff_ids = {e["id"] for e in staff_client.get("/api/v1/emails/?kind=job_recommendation").json()["results"]}
    assert staff_ids == {own["id"], theirs["id"]}


def test_only_staff_send_and_each_email_goes_once(user_client, staff_client, alice_profile, mailoutbox):
    email_id = generate(user_client, "alice").json()["id"]

    refused = user_client.post(f"/api/v1/emails/{email_id}/send")
    sent = staff_client.post(f"/api/v1/emails/{email_id}/send")
    again = staff_client.post(f"/api/v1/emails/{email_id}/send")

    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "permission_denied"
    assert sent.json() == {"id": email_id, "sent": True, "status": "sent", "error": ""}
    assert again.json()["sent"] is False
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["alice@example.com"]


def test_a_sent_week_answers_409(staff_client, person, job_pool):
    email_id = generate(staff_client, person.user_id).json()["id"]
    Email.objects.filter(pk=email_id).update(status=Email.Status.SENT, sent_at=timezone.now())

    response = generate(staff_client, person.user_id)

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "email_already_sent"


def test_generation_beyond_the_rate_limit_answers_429(user_client, alice_profile, settings):
    settings.EMAIL_GENERATION_RATE_LIMIT = 1

    assert generate(user_client, "alice").status_code == 201
    response = generate(user_client, "alice")

    assert response.status_code == 429
    assert response.json()["error"]["code"] == "email_generation_rate_limited"
    assert int(response["Retry-After"]) >= 1


def test_bad_input_is_a_json_400(user_client, alice_profile):
    response = generate(user_client, "alice", language="fr")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"


def test_staff_generate_a_batch_and_follow_its_run(staff_client, user_client, person, alice_profile):
    assert user_client.post("/api/v1/emails/generate-batch", {"user_ids": ["alice"]}, format="json").status_code == 403

    response = staff_client.post(
        "/api/v1/emails/generate-batch", {"user_ids": ["alice", person.user_id], "mock": True}, format="json"
    )

    assert response.status_code == 200, response.content  # no broker: run within the request
    run = response.json()
    assert (run["status"], run["total"], run["done"], run["progress"]) == ("done", 2, 2, 1.0)
    detail = staff_client.get(f"/api/v1/emails/runs/{run['run_id']}")
    assert detail.json()["run_id"] == run["run_id"]
    subjects = set(Email.objects.filter(kind=Email.Kind.JOB_RECOMMENDATION).values_list("subject", flat=True))
    assert len(subjects) == 2
    assert all(s.startswith("[MOCK] ") for s in subjects)
    assert staff_client.get("/api/v1/emails/runs/999999").status_code == 404


def test_a_batch_by_filter(staff_client, person, alice_profile):
    response = staff_client.post(
        "/api/v1/emails/generate-batch", {"filter": {"language": "ja"}, "mock": True}, format="json"
    )

    assert response.json()["total"] == 1
    assert EmailRun.objects.get().profile_ids == [alice_profile.pk]
    assert staff_client.post("/api/v1/emails/generate-batch", {}, format="json").status_code == 400


def test_validate_a_person_s_sections_or_given_ones(user_client, alice_profile, person, job_pool):
    own = user_client.post("/api/v1/emails/validate", {"user_id": "alice"}, format="json")
    theirs = user_client.post("/api/v1/emails/validate", {"user_id": person.user_id}, format="json")
    given = user_client.post(
        "/api/v1/emails/validate",
        {"sections": {"editorial_picks": [job_pool["older"][0].pk, job_pool["older"][0].pk]}},
        format="json",
    )
    both = user_client.post("/api/v1/emails/validate", {"user_id": "alice", "sections": {}}, format="json")

    assert own.status_code == 200
    assert own.json()["is_valid"] is True
    assert own.json()["sections"][0]["note"]
    assert theirs.status_code == 404
    assert given.json()["is_valid"] is False
    assert given.json()["duplicates"] == [job_pool["older"][0].pk]
    assert both.status_code == 400


def test_metrics_and_cache_clearing_are_staff_only(user_client, staff_client, alice_profile):
    generate(user_client, "alice")

    assert user_client.get("/api/v1/emails/metrics").status_code == 403
    assert user_client.post("/api/v1/emails/cache/clear", {}, format="json").status_code == 403
    metrics = staff_client.get("/api/v1/emails/metrics").json()
    assert metrics["total_requests"] == 1
    assert metrics["by_language"]["ja"]["successful_requests"] == 1
    everyone = staff_client.post("/api/v1/emails/cache/clear", {}, format="json").json()
    one = staff_client.post("/api/v1/emails/cache/clear", {"user_id": "alice"}, format="json").json()
    assert everyone == {"scope": "all", "user_id": None}
    assert one == {"scope": "user", "user_id": "alice"}
