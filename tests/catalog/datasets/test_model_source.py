import json

import pytest
from django.core.management import call_command

from config.services import api_key_create
from llm.services import data_dictionary_generate

pytestmark = pytest.mark.django_db


def test_offline_dictionary_describes_every_field_with_fallbacks(settings, user):
    settings.LLM_PROVIDER = "offline"
    api_key_create(name="storefront", user=user)

    entries = data_dictionary_generate(model_labels=["config.APIKey"])

    fields = [e["field"] for e in entries]
    assert fields == [
        f"config.apikey.{name}"
        for name in ("id", "name", "user", "prefix", "key_hash", "created_at", "last_used_at", "revoked_at")
    ]
    assert all(e["is_fallback"] for e in entries)
    by_field = {e["field"]: e for e in entries}
    assert by_field["config.apikey.last_used_at"]["business_name"] == "Last Used At"
    assert "Date and time" in by_field["config.apikey.created_at"]["description"]


def test_dictionary_through_a_provider_is_not_flagged(sim):
    entries = data_dictionary_generate(model_labels=["config.APIKey"])

    assert not any(e["is_fallback"] for e in entries)
    assert len([c for c in sim.calls if c.endpoint == "chat.completions"]) == len(entries)


def test_describe_fields_command_prints_json(settings, capsys):
    settings.LLM_PROVIDER = "offline"

    call_command("describe_fields", "config.APIKey", "--json")

    entries = json.loads(capsys.readouterr().out)
    assert {e["field"] for e in entries} >= {"config.apikey.name", "config.apikey.revoked_at"}
