import pytest
from django.core.management import call_command

from config.models import APIKey

pytestmark = pytest.mark.django_db(transaction=True)


def test_demo_runs_twice_and_prints_secrets_once(capsys):
    call_command("demo")
    first = capsys.readouterr().out
    call_command("demo")
    second = capsys.readouterr().out

    assert "admin login: admin / " in first
    assert "X-API-Key" in first
    assert "admin login" not in second
    assert APIKey.objects.filter(revoked_at__isnull=True).count() == 1
    assert "Demo finished" in second
