"""The data dictionaries' demo step: the bundled CSV and two models described, exported under var/."""

import pytest

from batches.models import Batch
from catalog.datasets import demo
from catalog.datasets.models import DataDictionary
from config.demo import DemoReport

pytestmark = pytest.mark.django_db


def test_the_demo_describes_the_bundled_csv_and_models_and_exports_markdown(settings, tmp_path):
    settings.LLM_PROVIDER = "offline"
    settings.VAR_DIR = tmp_path
    report = DemoReport()

    demo.run(report=report)
    again = DemoReport()
    demo.run(report=again)  # a rerun adds nothing and says so

    assert sorted(DataDictionary.objects.values_list("name", "source_kind")) == [
        ("customers.csv", "csv"),
        ("llm.LLMCall, config.APIKey", "models"),
    ]
    csv_dictionary = DataDictionary.objects.get(name="customers.csv")
    semantic = dict(csv_dictionary.entries.values_list("field_path", "semantic_type"))
    assert semantic["email"] == "email_address"
    assert (semantic["lifetime_value"], semantic["plan"]) == ("currency", "category")
    markdown = (tmp_path / "customers-csv.md").read_text(encoding="utf-8")
    assert markdown.startswith("# customers.csv")
    assert "| `email` |" in markdown
    assert Batch.objects.filter(status=Batch.Status.INGESTED).count() == 1  # the offline field batch, run once
    assert sum("nothing to do" in line for line in again.done) == 3
    assert any("data dictionary 'customers.csv': 10 fields" in line for line in report.done)
