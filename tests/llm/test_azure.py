"""Azure OpenAI as seed 002 configures it (AZURE_OPENAI_ENDPOINT, AZURE_OPENAI_DEPLOYMENT_NAME and
OPENAI_API_KEY): provider selection, the wire shape of live calls, the simulator's Azure routes, and
the product content batch pipeline end to end against Azure's files and batches endpoints."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import httpx2
import pytest

from batches.models import Batch, BatchItem, BatchPart
from batches.services import batch_cancel, batch_ingest, batch_poll, batch_run_pipeline, batch_submit
from catalog.products.models import Product, ProductContent
from catalog.products.services.generation import product_content_batch_create
from llm.models import LLMCall
from llm.providers import provider_config, use_transport
from llm.runtime import run
from llm.simulator import Simulator
from tests.factories import ProductFactory
from tests.llm.tasks import ECHO, echo_input

pytestmark = pytest.mark.django_db

ENDPOINT = "https://contoso-contentops.openai.azure.com/"
HOST = "contoso-contentops.openai.azure.com"
DEPLOYMENT = "contentops-4o-mini-batch"
SEED_KEY = "seed002-azure-key-0123456789abcdef"
LOCALES = ["en-US", "de-DE"]
AZURE_STATUSES = {
    *("validating", "in_progress", "finalizing", "completed"),
    *("failed", "expired", "cancelling", "cancelled"),
}


@pytest.fixture
def seed_002(settings):
    """Exactly the variables seed 002 documents; nothing that would pick another provider."""
    settings.LLM_PROVIDER = ""
    settings.OPENAI_ENABLED = True
    settings.OPENAI_BASE_URL = ""
    settings.AZURE_OPENAI_API_KEY = ""
    settings.AZURE_OPENAI_ENDPOINT = ENDPOINT
    settings.AZURE_OPENAI_DEPLOYMENT_NAME = DEPLOYMENT
    settings.OPENAI_API_KEY = SEED_KEY
    settings.OPENAI_RETRY_MIN_WAIT = 0.01
    settings.OPENAI_RETRY_MAX_WAIT = 0.05
    settings.OPENAI_REQUEST_TIMEOUT = 2.0
    settings.BATCH_POLL_MIN_INTERVAL_S = 0
    settings.BATCH_CREATE_BACKOFF_S = 0
    return settings


@dataclass
class AzureSim:
    sim: Simulator
    hosts: set[str] = field(default_factory=set)
    batch_statuses: list[str] = field(default_factory=list)  # every batch object the provider returned

    def handle(self, request: httpx2.Request) -> httpx2.Response:
        self.hosts.add(request.url.host)
        response = self.sim.handle(request)
        if request.url.path.startswith("/openai/batches") and response.status_code == 200:
            body = json.loads(response.content)
            self.batch_statuses += [b["status"] for b in body.get("data", [body])]
        return response


def make_azure_sim(**options) -> AzureSim:
    sim = Simulator(**{"seed": 2, "require_api_key": SEED_KEY, "azure_deployments": (DEPLOYMENT,), **options})
    return AzureSim(sim)


@pytest.fixture
def azure(seed_002):
    """The seed's Azure settings, served by the simulator with only the seed's deployment and key."""
    recorder = make_azure_sim()
    with use_transport(httpx2.MockTransport(recorder.handle)):
        yield recorder
    recorder.sim.close()


def assert_azure_wire(recorder: AzureSim, *, api_version: str) -> None:
    """Every request went to the Azure resource, with the api-version and the api-key header only."""
    calls = list(recorder.sim.calls)
    assert calls
    assert recorder.hosts == {HOST}
    for call in calls:
        assert call.path.startswith("/openai/"), call.path
        assert call.query.get("api-version") == api_version, call.path
        assert call.headers.get("api-key") == SEED_KEY, call.path
        assert "authorization" not in {name.lower() for name in call.headers}, call.path
        assert call.status == 200, (call.path, call.status)


# --- selection ---------------------------------------------------------------------------------


def test_the_seed_002_variables_select_azure_with_the_deployment_as_the_model(seed_002):
    config = provider_config()

    assert config.kind == "azure"
    assert config.azure_deployment == config.wire_model == DEPLOYMENT
    assert config.api_key == SEED_KEY
    assert config.api_version == seed_002.AZURE_OPENAI_API_VERSION
    assert config.api_version >= "2024-10-21"  # batch and structured outputs are GA from this version
    assert config.endpoint == f"https://{HOST}"


def test_an_azure_key_of_its_own_wins_over_the_openai_key(seed_002):
    seed_002.AZURE_OPENAI_API_KEY = "azure-own-key-0123456789"

    assert provider_config().api_key == "azure-own-key-0123456789"


def test_azure_without_a_deployment_is_a_configuration_error(seed_002):
    from django.core.exceptions import ImproperlyConfigured

    seed_002.AZURE_OPENAI_DEPLOYMENT_NAME = ""

    with pytest.raises(ImproperlyConfigured, match="AZURE_OPENAI_DEPLOYMENT_NAME"):
        provider_config()


def test_a_live_call_goes_to_the_deployment_path_with_api_version_and_api_key(azure, seed_002):
    result = run(ECHO, echo_input(1))

    assert not result.is_fallback
    assert result.provenance.provider == "azure"
    assert_azure_wire(azure, api_version=seed_002.AZURE_OPENAI_API_VERSION)
    (call,) = azure.sim.calls
    assert (call.method, call.path) == ("POST", f"/openai/deployments/{DEPLOYMENT}/chat/completions")
    assert call.json["model"] == DEPLOYMENT
    assert "api.openai.com" not in azure.hosts


# --- the simulator's Azure routes ------------------------------------------------------------------


@pytest.fixture
def http():
    recorder = make_azure_sim()
    with httpx2.Client(transport=httpx2.MockTransport(recorder.handle), base_url=ENDPOINT) as client:
        yield client
    recorder.sim.close()


CHAT = {"model": DEPLOYMENT, "messages": [{"role": "user", "content": "hi"}]}
VERSION = {"api-version": "2024-10-21"}


def test_azure_routes_need_the_api_key_header(http):
    path = f"/openai/deployments/{DEPLOYMENT}/chat/completions"

    missing = http.post(path, params=VERSION, json=CHAT)
    bearer = http.post(path, params=VERSION, json=CHAT, headers={"authorization": f"Bearer {SEED_KEY}"})
    wrong = http.post(path, params=VERSION, json=CHAT, headers={"api-key": "not-the-key"})
    files = http.get("/openai/files", params=VERSION)

    for response in (missing, bearer, wrong, files):
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "401"
        assert "Access denied" in response.json()["error"]["message"]
    assert http.post(path, params=VERSION, json=CHAT, headers={"api-key": SEED_KEY}).status_code == 200


def test_azure_routes_need_the_api_version(http):
    response = http.get("/openai/batches", headers={"api-key": SEED_KEY})

    assert response.status_code == 404
    assert response.json() == {"error": {"code": "404", "message": "Resource not found"}}


def test_an_unknown_deployment_is_deployment_not_found(http):
    path = "/openai/deployments/no-such-deployment/chat/completions"

    response = http.post(path, params=VERSION, json=CHAT, headers={"api-key": SEED_KEY})

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "DeploymentNotFound"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", f"/openai/deployments/{DEPLOYMENT}/files"),  # files and batches are resource-wide
        ("GET", f"/openai/deployments/{DEPLOYMENT}/batches"),
        ("POST", "/openai/chat/completions"),  # chat completions need a deployment
    ],
)
def test_paths_azure_does_not_serve_are_404(http, method, path):
    response = http.request(method, path, params=VERSION, json=CHAT, headers={"api-key": SEED_KEY})

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "404"


def test_azure_batches_take_only_its_endpoint_and_one_known_deployment(http):
    auth = {"api-key": SEED_KEY}

    def upload(lines: list[dict]) -> str:
        content = b"".join(json.dumps(line).encode() + b"\n" for line in lines)
        files = {"file": ("in.jsonl", content, "application/jsonl")}
        response = http.post("/openai/files", params=VERSION, headers=auth, files=files, data={"purpose": "batch"})
        assert response.status_code == 200
        return response.json()["id"]

    def line(custom_id: str, *, url: str = "/chat/completions", model: str = DEPLOYMENT) -> dict:
        return {"custom_id": custom_id, "method": "POST", "url": url, "body": {**CHAT, "model": model}}

    def create(file_id: str, endpoint: str = "/chat/completions") -> httpx2.Response:
        body = {"input_file_id": file_id, "endpoint": endpoint, "completion_window": "24h"}
        return http.post("/openai/batches", params=VERSION, headers=auth, json=body)

    good = upload([line("a"), line("b")])
    assert create(good, endpoint="/v1/chat/completions").status_code == 400  # OpenAI's endpoint name
    created = create(good).json()
    assert created["status"] == "validating"
    polled = http.get(f"/openai/batches/{created['id']}", params=VERSION, headers=auth).json()
    assert polled["status"] == "in_progress"

    bad = upload([line("a", url="/v1/chat/completions"), line("b", model="gpt-4o-mini"), line("c", model="other")])
    failed = create(bad).json()
    failed = http.get(f"/openai/batches/{failed['id']}", params=VERSION, headers=auth).json()
    assert failed["status"] == "failed"
    codes = [(e["line"], e["code"]) for e in failed["errors"]["data"]]
    assert codes == [(1, "invalid_url"), (2, "model_not_found"), (3, "model_not_found")]


# --- the product content batch pipeline against Azure ----------------------------------------------


def products_batch(count: int = 2) -> Batch:
    products = ProductFactory.create_batch(count)
    return product_content_batch_create(product_ids=[p.pk for p in products], locales=LOCALES)


def test_product_content_batch_runs_end_to_end_against_azure(azure, seed_002):
    # Given two products and the seed's Azure settings
    batch = products_batch(2)

    # When the batch pipeline runs (build, upload, create, poll, download, ingest)
    result = batch_run_pipeline(batch=batch, poll_interval=0)

    # Then every product × locale got the model's content, written as Azure's
    assert (result.applied, result.failed) == (4, 0)
    rows = ProductContent.objects.all()
    assert rows.count() == 4
    assert {(row.provider, row.is_fallback) for row in rows} == {("azure", False)}
    assert all(row.llm_call_id for row in rows)
    ledger = LLMCall.objects.filter(mode=LLMCall.Mode.BATCH)
    assert set(ledger.values_list("provider", "status")) == {("azure", "succeeded")}
    assert ledger.count() == 4
    assert not Product.objects.filter(processing_status__in=["queued", "failed"]).exists()

    # And it spoke Azure's dialect on every request
    assert_azure_wire(azure, api_version=seed_002.AZURE_OPENAI_API_VERSION)
    calls = list(azure.sim.calls)
    upload = calls[0]
    assert (upload.method, upload.path) == ("POST", "/openai/files")
    (input_file,) = azure.sim.files.list("batch")
    lines = [json.loads(raw) for raw in azure.sim.files.iter_lines(input_file.id)]
    assert len(lines) == 4
    assert {(line["method"], line["url"], line["body"]["model"]) for line in lines} == {
        ("POST", "/chat/completions", DEPLOYMENT)
    }
    create = next(call for call in calls if (call.method, call.path) == ("POST", "/openai/batches"))
    assert create.json["endpoint"] == "/chat/completions"
    assert create.json["input_file_id"] == input_file.id
    assert create.json["completion_window"] == "24h"
    part = BatchPart.objects.get(batch=batch)
    assert any(call.path == f"/openai/batches/{part.provider_job_id}" and call.method == "GET" for call in calls)
    assert ("GET", f"/openai/files/{part.output_file_id}/content") in [(c.method, c.path) for c in calls]
    # Azure's statuses, in order, as the provider reported them
    seen = list(dict.fromkeys(azure.batch_statuses))
    assert seen == ["validating", "in_progress", "finalizing", "completed"]


def test_an_expired_azure_batch_applies_its_output_file_and_resubmits_from_its_error_file(seed_002):
    recorder = make_azure_sim(batch_expire=True)
    with use_transport(httpx2.MockTransport(recorder.handle)):
        batch = batch_submit(batch=products_batch(2))
        for _ in range(5):
            batch = batch_poll(batch=batch, min_interval_s=0)
            if batch.status == Batch.Status.EXPIRED:
                break
        report = batch_ingest(batch=batch)
    recorder.sim.close()

    assert batch.status == Batch.Status.EXPIRED
    assert "expired" in recorder.batch_statuses
    assert (report.applied, report.resubmitted) == (2, 2)
    assert set(BatchItem.objects.filter(batch=batch, status="resubmitted").values_list("error_class", flat=True)) == {
        "expired"
    }
    part = BatchPart.objects.get(batch=batch)
    downloaded = {c.path for c in recorder.sim.calls if c.method == "GET" and c.path.endswith("/content")}
    assert downloaded == {f"/openai/files/{part.output_file_id}/content", f"/openai/files/{part.error_file_id}/content"}
    assert_azure_wire(recorder, api_version=seed_002.AZURE_OPENAI_API_VERSION)


def test_a_cancelled_azure_batch_goes_through_cancelling_to_cancelled(azure, seed_002):
    batch = batch_submit(batch=products_batch(2))
    batch = batch_poll(batch=batch, min_interval_s=0)
    assert batch.status == Batch.Status.IN_PROGRESS

    batch = batch_cancel(batch=batch)
    assert batch.status == Batch.Status.CANCELLING
    for _ in range(5):
        batch = batch_poll(batch=batch, min_interval_s=0)
        if batch.status == Batch.Status.CANCELLED:
            break
    report = batch_ingest(batch=batch)

    assert batch.status == Batch.Status.CANCELLED
    part = BatchPart.objects.get(batch=batch)
    assert ("POST", f"/openai/batches/{part.provider_job_id}/cancel") in [(c.method, c.path) for c in azure.sim.calls]
    assert [s for s in dict.fromkeys(azure.batch_statuses) if s.startswith("cancel")] == ["cancelling", "cancelled"]
    assert (report.applied, report.failed) == (2, 2)
    assert set(BatchItem.objects.filter(status="failed").values_list("error_class", flat=True)) == {"cancelled"}
    assert_azure_wire(azure, api_version=seed_002.AZURE_OPENAI_API_VERSION)


def test_an_azure_batch_that_fails_validation_fails_its_items_with_the_reason(seed_002):
    # Given an Azure resource where the configured deployment does not exist
    recorder = make_azure_sim(azure_deployments=("some-other-deployment",))
    with use_transport(httpx2.MockTransport(recorder.handle)):
        result = batch_run_pipeline(batch=products_batch(1), poll_interval=0)
    recorder.sim.close()

    # Then the job failed at validation, and each item failed with Azure's reason (nothing applied)
    assert "failed" in recorder.batch_statuses
    assert set(recorder.batch_statuses) <= AZURE_STATUSES
    assert (result.applied, result.failed) == (0, 2)
    assert BatchPart.objects.get().error_code == "model_not_found"
    assert not ProductContent.objects.exists()
