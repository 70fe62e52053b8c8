"""The cost report: one grouped query over the usage ledger, and `manage.py llm_costs`."""

import json
from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from llm.models import LLMCall
from llm.selectors import llm_cost_report
from tests.factories import make_call

pytestmark = pytest.mark.django_db


@pytest.fixture
def ledger():
    """Three groups inside a 7-day window, plus rows outside it that must not count."""
    make_call(tokens_in=100, tokens_out=50, cost_usd=Decimal("0.001000"), days_ago=1)
    make_call(tokens_in=200, tokens_out=70, cost_usd=Decimal("0.002500"), days_ago=3)
    make_call(status=LLMCall.Status.CACHED, attempts=0, tokens_in=0, tokens_out=0, cost_usd=Decimal(0))
    make_call(status=LLMCall.Status.FALLBACK, tokens_in=0, tokens_out=0, cost_usd=Decimal(0), days_ago=2)
    make_call(
        task="resume_match", model="gpt-4o", tokens_in=1000, tokens_out=300, cost_usd=Decimal("0.123456"), days_ago=6
    )
    make_call(task="resume_match", model="gpt-4o", status=LLMCall.Status.FAILED, attempts=3, cost_usd=Decimal(0))
    make_call(
        task="product_copy",
        mode=LLMCall.Mode.BATCH,
        tokens_in=5000,
        tokens_out=2000,
        cost_usd=Decimal("0.001875"),
        days_ago=4,
    )
    # Outside the window.
    make_call(tokens_in=9999, tokens_out=9999, cost_usd=Decimal("9.999999"), days_ago=8)
    make_call(task="old_task", cost_usd=Decimal("1.000000"), days_ago=30)


def by_key(rows):
    return {(r.task, r.model, r.mode): r for r in rows}


def test_cost_report_groups_by_task_model_and_mode(ledger):
    report = llm_cost_report(since=timezone.now() - timedelta(days=7))

    rows = by_key(report.rows)
    assert set(rows) == {
        ("product_copy", "gpt-4o-mini", "now"),
        ("product_copy", "gpt-4o-mini", "batch"),
        ("resume_match", "gpt-4o", "now"),
    }
    now_copy = rows[("product_copy", "gpt-4o-mini", "now")]
    assert (now_copy.calls, now_copy.tokens_in, now_copy.tokens_out) == (4, 300, 120)
    assert now_copy.cost_usd == Decimal("0.003500")
    assert (now_copy.cached, now_copy.fallbacks, now_copy.failed) == (1, 1, 0)
    match = rows[("resume_match", "gpt-4o", "now")]
    assert (match.calls, match.failed, match.cost_usd) == (2, 1, Decimal("0.123456"))
    # Priciest first.
    assert [r.task for r in report.rows][0] == "resume_match"
    assert report.total.calls == 7
    assert report.total.tokens_in == 300 + 1100 + 5000
    assert report.total.cost_usd == Decimal("0.003500") + Decimal("0.123456") + Decimal("0.001875")
    assert (report.total.cached, report.total.fallbacks, report.total.failed) == (1, 1, 1)


def test_cost_report_until_is_exclusive_upper_bound(ledger):
    now = timezone.now()

    report = llm_cost_report(since=now - timedelta(days=40), until=now - timedelta(days=7))

    assert {r.task for r in report.rows} == {"product_copy", "old_task"}
    assert report.total.calls == 2
    assert report.total.cost_usd == Decimal("10.999999")


def test_cost_report_is_one_query_whatever_the_number_of_groups(django_assert_num_queries):
    for i in range(12):
        make_call(task=f"task_{i % 4}", model=f"model_{i % 3}")

    with django_assert_num_queries(1):
        report = llm_cost_report(since=timezone.now() - timedelta(days=1))

    assert len(report.rows) == 12
    assert report.total.calls == 12


def test_cost_report_of_an_empty_window_is_zeros():
    report = llm_cost_report(since=timezone.now() - timedelta(days=1))

    assert report.rows == []
    assert report.total.calls == 0
    assert report.total.cost_usd == Decimal(0)


def run_command(*args: str) -> str:
    out = StringIO()
    call_command("llm_costs", *args, stdout=out)
    return out.getvalue()


def test_command_prints_an_aligned_table_with_a_total_line(ledger):
    output = run_command("--days", "7")

    lines = output.strip().splitlines()
    header = next(line for line in lines if line.startswith("task"))
    for column in ("model", "mode", "calls", "tokens in", "tokens out", "fallbacks", "failed", "cost USD"):
        assert column in header
    data = [line for line in lines if line.startswith(("product_copy", "resume_match", "TOTAL"))]
    assert len(data) == 4
    # Numbers are right-aligned: every data line ends where the header ends.
    assert {len(line) for line in [header, *data]} == {len(header)}
    total = data[-1].split()
    assert total == ["TOTAL", "7", "6400", "2470", "1", "1", "0.128831"]
    match = next(line for line in data if line.startswith("resume_match")).split()
    assert match == ["resume_match", "gpt-4o", "now", "2", "1100", "350", "0", "1", "0.123456"]
    assert "old_task" not in output
    assert "9.999999" not in output


def test_command_days_window_includes_older_rows_when_widened(ledger):
    output = run_command("--days", "31")

    assert "old_task" in output
    total = next(line for line in output.splitlines() if line.startswith("TOTAL")).split()
    assert total[-1] == "11.128830"


def test_command_json_is_one_object_with_exact_sums(ledger):
    payload = json.loads(run_command("--days", "7", "--json"))

    assert payload["days"] == 7
    assert payload["total"] == {
        "calls": 7,
        "tokens_in": 6400,
        "tokens_out": 2470,
        "cost_usd": "0.128831",
        "cached": 1,
        "fallbacks": 1,
        "failed": 1,
    }
    rows = {(r["task"], r["model"], r["mode"]): r for r in payload["rows"]}
    assert rows[("product_copy", "gpt-4o-mini", "batch")]["cost_usd"] == "0.001875"
    assert rows[("product_copy", "gpt-4o-mini", "batch")]["tokens_out"] == 2000
    assert ("old_task", "gpt-4o-mini", "now") not in rows


def test_command_with_no_calls_says_so():
    assert "No LLM calls" in run_command("--days", "1")


@pytest.mark.parametrize("days", ["0", "-3", "1000"])
def test_command_rejects_out_of_range_days(days):
    with pytest.raises(CommandError, match="--days"):
        run_command("--days", days)
