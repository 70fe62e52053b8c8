"""Ledger rows commit call by call, never inside a domain transaction (DESIGN.md §4).

Transactional tests: a test case's own transaction would hide what a rolled-back caller loses.
"""

import os

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from llm.ledger import OWN_APPLICATION_NAME
from llm.models import LLMCall
from llm.runtime import run, run_many
from tests.llm.tasks import ECHO, echo_input

pytestmark = pytest.mark.django_db(transaction=True)


class Boom(Exception):
    pass


@pytest.fixture(autouse=True)
def _postgresql():
    if connection.vendor != "postgresql":
        if os.environ.get("CI"):
            pytest.fail("CI runs on PostgreSQL: the ledger's own connection must be tested there")
        pytest.skip("on SQLite a ledger row shares the caller's transaction (one writer at a time)")


def _in_a_transaction_that_fails(work):
    """Run `work()` inside a caller's atomic block that then raises (so rolls back); its result."""
    results = []

    def caller():
        with transaction.atomic():
            results.append(work())
            raise Boom

    with pytest.raises(Boom):
        caller()
    return results[0]


def test_a_rolled_back_caller_transaction_keeps_the_ledger_row(sim):
    result = _in_a_transaction_that_fails(lambda: run(ECHO, echo_input(), apply=False))

    row = LLMCall.objects.get()
    assert row.pk == result.provenance.call_id
    assert (row.status, row.tokens_in > 0) == (LLMCall.Status.SUCCEEDED, True)


def test_a_rolled_back_bulk_run_keeps_every_row_but_none_of_the_applies(sim, user):
    import dataclasses

    User = get_user_model()  # noqa: N806

    def apply(task_input, output, provenance):
        User.objects.filter(pk=user.pk).update(first_name=task_input.text[:30])

    task = dataclasses.replace(ECHO, name="ledger_tx_test", apply=apply)

    outcomes = _in_a_transaction_that_fails(lambda: run_many(task, [echo_input(i) for i in range(4)], user_id=user.pk))

    assert all(o.ok for o in outcomes)
    assert LLMCall.objects.filter(task="ledger_tx_test", user=user).count() == 4
    user.refresh_from_db()
    assert user.first_name == ""  # the domain's writes went with its transaction
    assert _ledger_connections() == 0  # the ledger's own connection was closed after the run


def test_a_row_the_own_connection_cannot_write_goes_with_the_caller(sim, user):
    # The caller holds its user row FOR UPDATE: the ledger's own connection would wait for the
    # caller (the row's foreign key), which waits for the ledger. Its lock timeout ends that wait.
    User = get_user_model()  # noqa: N806
    with transaction.atomic():
        User.objects.select_for_update().get(pk=user.pk)
        result = run(ECHO, echo_input(), apply=False, user_id=user.pk)

    row = LLMCall.objects.get()
    assert (row.pk, row.user_id, row.status) == (result.provenance.call_id, user.pk, LLMCall.Status.SUCCEEDED)


def test_outside_a_transaction_the_callers_connection_writes_the_row(sim):
    with CaptureQueriesContext(connection) as queries:
        run(ECHO, echo_input(), apply=False)

    assert LLMCall.objects.count() == 1
    assert [q["sql"] for q in queries.captured_queries if "llm_llmcall" in q["sql"]] != []
    assert _ledger_connections() == 0


def _ledger_connections() -> int:
    """Sessions of the ledger's own connection open on this database."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name = %s",
            [OWN_APPLICATION_NAME],
        )
        return cursor.fetchone()[0]
