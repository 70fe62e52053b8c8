"""Seed 001's Python names (`AIDescriptionGenerator`), the single-field endpoint with its 429/503
mapping, the admin's inline edits, and `describe_fields --file`."""

import json

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from catalog.datasets.generator import AIDescriptionGenerator
from catalog.datasets.models import DataDictionary
from llm.cache import cache_set
from llm.models import LLMCall
from llm.requests import ProviderUnavailable
from tests.catalog.datasets.test_api import SEED_FIELDS
from tests.catalog.datasets.test_sources import CUSTOMERS_CSV

pytestmark = pytest.mark.django_db

DESCRIBE = "/api/v1/data-dictionaries/describe-field"
SEED_001_KEYS = {
    "total_requests",
    "successful_requests",
    "failed_requests",
    "cached_requests",
    "total_tokens",
    "prompt_tokens",
    "completion_tokens",
    "rate_limit_errors",
    "timeout_errors",
    "api_errors",
    "cache_hits",
    "cache_misses",
    "cache_size",
    "circuit_breaker_open",
}


def test_the_generator_keeps_the_seeds_names_and_shapes(sim):
    generator = AIDescriptionGenerator()

    description, business_name = generator.generate_description(
        field_path="user.email",
        field_name="email",
        data_type="string",
        semantic_type="email_address",
        sample_values=["user@example.com", "test@test.com"],
    )
    samples = ["user@example.com", "test@test.com"]
    again = generator.generate_description("user.email", "email", "string", "email_address", samples)
    results = generator.generate_batch(SEED_FIELDS[:12])

    assert description
    assert business_name
    assert again == (description, business_name)  # the second one is a cache hit
    assert len(results) == 12
    assert all(d and b for d, b in results)
    metrics = generator.get_metrics()
    assert set(metrics) >= SEED_001_KEYS
    assert (metrics["total_requests"], metrics["cached_requests"]) == (14, 1)
    assert not DataDictionary.objects.exists()  # bare calls store nothing

    generator.reset_metrics()
    assert generator.get_metrics()["total_requests"] == 0
    assert LLMCall.objects.count() == 14  # a reset moves a mark; the ledger is the bill


def test_clear_cache_drops_only_field_descriptions(sim):
    generator = AIDescriptionGenerator()
    generator.generate_description("user.email", "email", "string")
    cache_set(key="other", value={"output": 1}, task_name="product_content")

    assert generator.clear_cache() == 1

    generator.generate_description("user.email", "email", "string")
    assert LLMCall.objects.filter(status="cached").count() == 0  # asked the provider again
    assert len([c for c in sim.calls if c.endpoint == "chat.completions"]) == 2


def test_without_fallback_the_generator_raises_the_providers_failure(sim, settings):
    settings.OPENAI_MAX_RETRY_ATTEMPTS = 2
    sim.script("503", "503")

    with pytest.raises(ProviderUnavailable):
        AIDescriptionGenerator(allow_fallback=False).generate_description("user.email", "email", "string")


def test_the_single_field_endpoint_answers_or_maps_a_lasting_rate_limit_to_429(sim, settings, staff_client):
    settings.OPENAI_MAX_RETRY_ATTEMPTS = 2
    field = {"field_path": "customer.contact.email", "data_type": "string", "sample_values": ["a@example.com"]}

    ok = staff_client.post(DESCRIBE, field, format="json")
    sim.script(("429", {"retry_after_ms": 20}), ("429", {"retry_after_ms": 20}))
    limited = staff_client.post(f"{DESCRIBE}?fallback=false", {**field, "field_path": "other.email"}, format="json")

    assert ok.status_code == 200
    assert (ok.json()["is_fallback"], ok.json()["provider"], ok.json()["field_path"]) == (
        False,
        "openai",
        "customer.contact.email",
    )
    assert limited.status_code == 429
    assert limited.json()["error"]["code"] == "llm_rate_limited"
    assert limited["Retry-After"]


def test_the_admin_edits_entries_inline_as_a_persons_edit(settings, admin_client, admin_user):
    settings.LLM_PROVIDER = "offline"
    call_command("describe_fields", "config.APIKey")
    dictionary = DataDictionary.objects.get()
    entries = list(dictionary.entries.order_by("position"))
    url = reverse("admin:catalog_datadictionary_change", args=[dictionary.pk])
    page = admin_client.get(url)
    assert page.status_code == 200
    form = {"name": dictionary.name}
    prefix = "entries"
    form.update(
        {
            f"{prefix}-TOTAL_FORMS": len(entries),
            f"{prefix}-INITIAL_FORMS": len(entries),
            f"{prefix}-MIN_NUM_FORMS": 0,
            f"{prefix}-MAX_NUM_FORMS": 1000,
        }
    )
    for i, entry in enumerate(entries):
        form[f"{prefix}-{i}-id"] = entry.pk
        form[f"{prefix}-{i}-dictionary"] = dictionary.pk
        form[f"{prefix}-{i}-business_name"] = entry.business_name
        form[f"{prefix}-{i}-description"] = entry.description
    form[f"{prefix}-1-business_name"] = "Key Name"

    response = admin_client.post(url, form)

    assert response.status_code == 302, response.content
    edited = dictionary.entries.exclude(edited_at=None)
    assert [(e.field_path, e.business_name, e.edited_by) for e in edited] == [
        (entries[1].field_path, "Key Name", admin_user)
    ]
    call_command("describe_fields", "config.APIKey")  # a rerun keeps it
    assert dictionary.entries.get(pk=entries[1].pk).business_name == "Key Name"


def test_describe_fields_reads_a_file_and_says_what_it_did(settings, tmp_path, capsys):
    settings.LLM_PROVIDER = "offline"
    path = tmp_path / "customers.csv"
    path.write_text(CUSTOMERS_CSV, encoding="utf-8")
    fields = tmp_path / "fields.json"
    fields.write_text(json.dumps(SEED_FIELDS[:3]), encoding="utf-8")

    call_command("describe_fields", "--file", str(path))
    out = capsys.readouterr().out
    call_command("describe_fields", "--file", str(fields), "--name", "users", "--json")
    listed = json.loads(capsys.readouterr().out)

    assert "email  " in out
    assert "(fallback)" in out
    assert "Data dictionary 'customers.csv'" in out
    assert "12 fields" in out
    assert [e["field_path"] for e in listed] == ["user.field0", "user.field1", "user.field2"]
    assert DataDictionary.objects.get(name="users").source_kind == "fields"
    with pytest.raises(CommandError, match="one of the two"):
        call_command("describe_fields")
