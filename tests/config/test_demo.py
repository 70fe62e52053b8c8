import pytest
from django.core.management import call_command

from batches.models import Batch
from config.models import APIKey
from llm.models import LLMCall

pytestmark = pytest.mark.django_db(transaction=True)


def test_demo_runs_twice_and_prints_secrets_once(capsys):
    call_command("demo")
    first = capsys.readouterr().out
    calls, batches = LLMCall.objects.count(), Batch.objects.count()
    call_command("demo")
    second = capsys.readouterr().out

    assert "admin login: admin / " in first
    assert "X-API-Key" in first
    assert "admin login" not in second
    assert APIKey.objects.filter(revoked_at__isnull=True).count() == 1
    assert "Demo finished" in second
    # Idempotent in effect: the rerun adds no ledger rows and no batches, and says so.
    assert (LLMCall.objects.count(), Batch.objects.count()) == (calls, batches)
    assert "LLM call(s) recorded in the usage ledger by this run" in first
    assert "Nothing new: every step was done already; this run made no LLM calls." in second
    assert "nothing to do" in second
