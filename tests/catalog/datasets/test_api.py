"""The data dictionary API: a CSV upload described (types inferred), a person's edit kept across a
rerun, seed 001's field list, large runs queued with progress, exports, and the error answers."""

import csv
import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from catalog.datasets.models import DataDictionary, DataDictionaryEntry
from catalog.datasets.services.entries import data_dictionary_entry_apply
from catalog.datasets.tasks import data_dictionary_describe_task
from llm.models import LLMCall
from llm.task import Provenance
from tests.catalog.datasets.test_sources import CUSTOMERS_CSV

pytestmark = pytest.mark.django_db

LIST = "/api/v1/data-dictionaries/"
SEED_FIELDS = [  # seed 001's batch example, as it builds it
    {
        "field_path": f"user.field{i}",
        "field_name": f"field{i}",
        "data_type": "string",
        "semantic_type": None,
        "sample_values": [f"value{i}"],
    }
    for i in range(100)
]


def upload(client, text: str = CUSTOMERS_CSV, name: str = "customers.csv", **extra):
    file = SimpleUploadedFile(name, text.encode(), content_type="text/csv")
    return client.post(LIST, {"file": file, **extra}, format="multipart")


def entry(body: dict, path: str) -> dict:
    return next(e for e in body["entries"] if e["field_path"] == path)


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["error"]["code"] == code
    return body["error"]


def test_a_csv_upload_is_described_with_inferred_types(sim, staff_client, staff_user):
    response = upload(staff_client)

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["name"], body["source_kind"], body["status"]) == ("customers.csv", "csv", "completed")
    assert body["created_by"] == staff_user.username
    assert body["progress"] == {"fields_total": 12, "fields_done": 12}
    semantic = {e["field_path"]: e["semantic_type"] for e in body["entries"]}
    assert semantic["email"] == "email_address"
    assert semantic["balance"] == "currency"
    assert semantic["plan"] == "category"
    email = entry(body, "email")
    assert email["business_name"]
    assert email["description"]
    assert (email["is_fallback"], email["prompt_version"], email["edited_by"]) == (False, 1, None)
    assert email["model"] == "gpt-4o-mini"
    assert LLMCall.objects.filter(task="field_description").count() == 12
    calls = LLMCall.objects.filter(task="field_description").select_related("subject_type")
    assert {(c.subject_type.model, int(c.subject_id)) for c in calls} == {
        ("datadictionaryentry", e["id"]) for e in body["entries"]
    }


def test_a_persons_edit_is_kept_when_the_dictionary_runs_again(settings, sim, staff_client):
    settings.LLM_PROVIDER = "offline"
    first = upload(staff_client).json()
    email, plan = entry(first, "email"), entry(first, "plan")
    assert email["is_fallback"]

    edit = staff_client.patch(
        f"{LIST}{first['id']}/entries/{email['id']}",
        {"business_name": "Customer Email", "description": "Where we send invoices."},
        format="json",
    )
    assert edit.status_code == 200
    assert (edit.json()["edited_by"], edit.json()["business_name"]) == ("staff", "Customer Email")

    settings.LLM_PROVIDER = "openai"  # the provider is back: the rerun writes model text
    again = upload(staff_client, CUSTOMERS_CSV.replace("plan", "tier"))

    assert again.status_code == 201
    body = again.json()
    assert body["id"] == first["id"]  # the same name: the same dictionary
    kept = entry(body, "email")
    assert (kept["business_name"], kept["description"]) == ("Customer Email", "Where we send invoices.")
    assert (kept["edited_by"], kept["is_fallback"]) == ("staff", True)
    assert not entry(body, "website")["is_fallback"]  # unedited fallbacks are replaced by the model's text
    paths = {e["field_path"] for e in body["entries"]}
    assert "tier" in paths
    assert "plan" not in paths
    assert not DataDictionaryEntry.objects.filter(pk=plan["id"]).exists()
    assert body["edited_count"] == 1
    # No call was spent on the edited field.
    assert LLMCall.objects.filter(task="field_description", subject_id=str(email["id"])).count() == 1


def test_the_apply_never_overwrites_an_edit_and_a_fallback_never_replaces_model_text(staff_client, staff_user):
    dictionary = DataDictionary.objects.create(name="d", source_kind="fields")
    edited = dictionary.entries.create(
        field_path="a", field_name="a", data_type="string", edited_at="2024-01-01T00:00Z"
    )
    modeled = dictionary.entries.create(field_path="b", field_name="b", data_type="string", description="model text")
    fallback = Provenance(
        task="field_description",
        task_version=1,
        provider="fallback",
        model="rule-based",
        is_fallback=True,
        generated_at="2024-01-02T00:00Z",
    )
    model = Provenance(**{**fallback.__dict__, "provider": "openai", "model": "m", "is_fallback": False})

    assert not data_dictionary_entry_apply(entry_id=edited.pk, business_name="X", description="x", provenance=model)
    assert not data_dictionary_entry_apply(entry_id=modeled.pk, business_name="Y", description="y", provenance=fallback)
    assert data_dictionary_entry_apply(entry_id=modeled.pk, business_name="Z", description="z", provenance=model)

    edited.refresh_from_db()
    modeled.refresh_from_db()
    assert (edited.business_name, edited.description) == ("", "")
    assert (modeled.description, modeled.model, modeled.is_fallback) == ("z", "m", False)


def test_the_seeds_field_list_shape_is_accepted_as_json(settings, staff_client):
    settings.LLM_PROVIDER = "offline"

    response = staff_client.post(LIST, {"name": "users", "fields": SEED_FIELDS}, format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["source_kind"], len(body["entries"])) == ("fields", 100)
    first = body["entries"][0]
    assert (first["field_path"], first["field_name"], first["sample_values"]) == ("user.field0", "field0", ["value0"])
    assert first["semantic_type"] is None
    assert first["business_name"] == "Field0"


def test_a_field_list_needs_a_name_and_exactly_one_source(staff_client):
    assert_error(staff_client.post(LIST, {"fields": SEED_FIELDS[:1]}, format="json"), 400, "dataset_invalid")
    both = {"name": "x", "fields": SEED_FIELDS[:1], "models": ["config.APIKey"]}
    assert_error(staff_client.post(LIST, both, format="json"), 400, "validation_error")
    duplicate = {"name": "x", "fields": SEED_FIELDS[:1] * 2}
    error = assert_error(staff_client.post(LIST, duplicate, format="json"), 400, "dataset_invalid")
    assert error["detail"] == ["fields[1].field_path: 'user.field0' appears twice"]
    assert not DataDictionary.objects.exists()


def test_a_large_run_is_queued_with_a_run_id_and_progress(settings, staff_client, django_capture_on_commit_callbacks):
    settings.LLM_PROVIDER = "offline"
    settings.CELERY_TASK_ALWAYS_EAGER = False  # a broker is there
    settings.DATA_DICTIONARY_INLINE_MAX_FIELDS = 10

    with django_capture_on_commit_callbacks() as queued:
        response = staff_client.post(LIST, {"name": "users", "fields": SEED_FIELDS[:20]}, format="json")

    assert response.status_code == 202, response.content
    body = response.json()
    assert (body["status"], body["progress"]) == ("pending", {"fields_total": 20, "fields_done": 0})
    assert len(queued) == 1
    assert DataDictionary.objects.get().run_id == body["run_id"]
    assert not DataDictionaryEntry.objects.exclude(description="").exists()

    data_dictionary_describe_task(body["id"])  # what the worker runs

    detail = staff_client.get(f"{LIST}{body['id']}").json()
    assert (detail["status"], detail["progress"]) == ("completed", {"fields_total": 20, "fields_done": 20})
    assert all(e["description"] for e in detail["entries"])


def test_exports_as_markdown_csv_and_json(settings, staff_client):
    settings.LLM_PROVIDER = "offline"
    body = upload(staff_client).json()
    email = entry(body, "email")
    staff_client.patch(
        f"{LIST}{body['id']}/entries/{email['id']}",
        {"business_name": "=HYPERLINK(\"http://evil\")", "description": "Contact | billing"},
        format="json",
    )
    export = f"{LIST}{body['id']}/export"

    markdown = staff_client.get(export)  # Markdown is the default
    as_csv = staff_client.get(export, {"format": "csv"})
    as_json = staff_client.get(export, {"format": "json"})

    assert markdown["Content-Type"].startswith("text/markdown")
    assert markdown["Content-Disposition"] == 'attachment; filename="customers-csv.md"'
    lines = markdown.content.decode().splitlines()
    assert lines[0] == "# customers.csv"
    email_row = next(line for line in lines if line.startswith("| `email`"))
    assert "Contact \\| billing" in email_row
    assert "edited by staff" in email_row
    assert len([line for line in lines if line.startswith("| `")]) == 12

    assert as_csv["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(as_csv.content.decode())))
    assert len(rows) == 12
    csv_email = next(row for row in rows if row["field_path"] == "email")
    assert csv_email["business_name"] == "'=HYPERLINK(\"http://evil\")"  # never a formula in a spreadsheet
    assert csv_email["semantic_type"] == "email_address"
    assert csv_email["edited_by"] == "staff"

    document = json.loads(as_json.content)
    assert (document["name"], document["source_kind"], len(document["entries"])) == ("customers.csv", "csv", 12)
    json_email = next(e for e in document["entries"] if e["field_path"] == "email")
    assert json_email["business_name"] == "=HYPERLINK(\"http://evil\")"  # JSON keeps the text as it is
    assert json_email["edited_at"]


def test_export_errors_answer_json(staff_client):
    dictionary = DataDictionary.objects.create(name="d", source_kind="fields")

    error = assert_error(staff_client.get(f"{LIST}{dictionary.pk}/export", {"format": "xml"}), 400, "validation_error")
    assert "format" in error["detail"]
    assert_error(staff_client.get(f"{LIST}{dictionary.pk + 1}/export"), 404, "data_dictionary_not_found")


def test_list_detail_and_entry_edit_answer_json_errors(settings, staff_client, user_client, api_client):
    settings.LLM_PROVIDER = "offline"
    body = upload(staff_client).json()
    other = DataDictionary.objects.create(name="other", source_kind="fields")
    foreign = other.entries.create(field_path="x", field_name="x", data_type="string")

    listing = staff_client.get(LIST).json()
    assert [d["name"] for d in listing["results"]] == ["other", "customers.csv"]
    assert listing["results"][1]["entry_count"] == 12
    assert_error(api_client.get(LIST), 401, "not_authenticated")
    assert_error(user_client.get(LIST), 403, "permission_denied")
    denied = user_client.post(LIST, {"name": "x", "fields": SEED_FIELDS[:1]}, format="json")
    assert_error(denied, 403, "permission_denied")
    assert_error(staff_client.get(f"{LIST}999999"), 404, "data_dictionary_not_found")
    path = f"{LIST}{body['id']}/entries/{foreign.pk}"  # an entry of another dictionary
    assert_error(staff_client.patch(path, {"description": "x"}, format="json"), 404, "data_dictionary_entry_not_found")
    own = f"{LIST}{body['id']}/entries/{body['entries'][0]['id']}"
    assert_error(staff_client.patch(own, {}, format="json"), 400, "validation_error")


def test_an_upload_over_the_cap_is_413_and_writes_nothing(settings, staff_client):
    settings.DATA_DICTIONARY_MAX_BYTES = 200

    assert_error(upload(staff_client), 413, "file_too_large")
    assert not DataDictionary.objects.exists()


def test_the_list_is_one_query_whatever_its_length(settings, staff_client, django_assert_num_queries):
    for i in range(5):
        dictionary = DataDictionary.objects.create(name=f"d{i}", source_kind="fields")
        dictionary.entries.create(field_path="a", field_name="a", data_type="string")

    with django_assert_num_queries(2):  # count + page
        response = staff_client.get(LIST)

    assert response.json()["count"] == 5
