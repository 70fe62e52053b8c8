"""This project's models as a source (as `describe_fields MODEL...` always did), now kept as a dictionary."""

import json

import pytest
from django.core.management import CommandError, call_command

from catalog.datasets.models import DataDictionary
from catalog.datasets.sources import dataset_source_read
from catalog.datasets.tasks import data_dictionary_request
from config.models import APIKey
from config.services import api_key_create

pytestmark = pytest.mark.django_db

API_KEY_FIELDS = [field.name for field in APIKey._meta.concrete_fields]


def describe_models(*labels: str) -> DataDictionary:
    source = dataset_source_read(model_labels=list(labels))
    outcome = data_dictionary_request(
        name=source.default_name, source_kind=source.source_kind, source_name=source.source_name, fields=source.fields
    )
    return outcome.dictionary


def test_offline_dictionary_describes_every_field_with_fallbacks(settings, user):
    settings.LLM_PROVIDER = "offline"
    api_key_create(name="storefront", user=user)

    dictionary = describe_models("config.APIKey")

    entries = list(dictionary.entries.order_by("position"))
    assert {"name", "created_at", "last_used_at", "revoked_at"} <= set(API_KEY_FIELDS)
    assert [e.field_path for e in entries] == [f"config.apikey.{name}" for name in API_KEY_FIELDS]
    assert all(e.is_fallback and e.model == "rule-based" for e in entries)
    by_path = {e.field_path: e for e in entries}
    assert by_path["config.apikey.last_used_at"].business_name == "Last Used At"
    assert "Date and time" in by_path["config.apikey.created_at"].description
    assert by_path["config.apikey.name"].sample_values == ["storefront"]
    assert (dictionary.source_kind, dictionary.status) == ("models", "completed")
    assert (dictionary.fields_done, dictionary.fields_total) == (len(API_KEY_FIELDS), len(API_KEY_FIELDS))


def test_dictionary_through_a_provider_is_not_flagged(sim):
    dictionary = describe_models("config.APIKey")

    entries = list(dictionary.entries.all())
    assert not any(e.is_fallback for e in entries)
    assert all(e.model and e.prompt_version == 1 and e.llm_call_id for e in entries)
    assert len([c for c in sim.calls if c.endpoint == "chat.completions"]) == len(entries)


def test_describe_fields_command_prints_json(settings, capsys):
    settings.LLM_PROVIDER = "offline"

    call_command("describe_fields", "config.APIKey", "--json")

    entries = json.loads(capsys.readouterr().out)
    assert {e["field_path"] for e in entries} >= {"config.apikey.name", "config.apikey.revoked_at"}
    assert DataDictionary.objects.get().name == "config.APIKey"


def test_an_unknown_model_is_a_clear_error(settings):
    settings.LLM_PROVIDER = "offline"

    with pytest.raises(CommandError, match="Unknown model 'catalog.Nope'"):
        call_command("describe_fields", "catalog.Nope")
    assert not DataDictionary.objects.exists()
