"""Batch test helpers: a small registered task whose apply writes rows a test can count, so
"applied exactly once" and rollbacks are observable in the database."""

from __future__ import annotations

import contextlib
import dataclasses

import pytest
from django.contrib.auth.models import Group

from batches.models import Batch, BatchItem
from batches.services import ItemSpec, batch_create
from catalog.datasets.llm import FIELD_DESCRIPTION, FieldDescription, FieldInput
from llm.task import Provenance, register


class WorkerDied(Exception):  # noqa: N818 - what it simulates
    """Not an apply error the layer handles: it propagates like a killed worker."""


# Set CRASH["after"] = N to make the N+1th apply raise WorkerDied (a crash mid-ingest).
CRASH: dict[str, int | None] = {"after": None, "applied": 0}


def _apply(task_input: FieldInput, output: FieldDescription, provenance: Provenance) -> None:
    if CRASH["after"] is not None and CRASH["applied"] >= CRASH["after"]:
        raise WorkerDied("simulated crash mid-ingest")
    CRASH["applied"] += 1
    # A plain INSERT on a unique name: applying the same item twice would raise IntegrityError.
    Group.objects.create(name=f"applied:{task_input.field_name}")


def _fail(task_input: FieldInput, reason: str) -> None:
    Group.objects.create(name=f"failed:{task_input.field_name}")


TEST_TASK = register(
    dataclasses.replace(
        FIELD_DESCRIPTION,
        name="batches_test_fields",
        apply=_apply,
        fail=_fail,
        checks=(),  # the simulator fills strings freely; length checks are tested separately
    )
)


def field_input(i: int) -> FieldInput:
    return FieldInput(
        field_path=f"customer.contact.email_{i}",
        field_name=f"f{i:05d}",
        data_type="string",
        semantic_type="email_address",
        sample_values=[f"user{i}@example.com"],
    )


def specs(count: int, *, start: int = 0) -> list[ItemSpec]:
    return [ItemSpec(f"item-{i}", field_input(i)) for i in range(start, start + count)]


def applied_names() -> list[str]:
    return sorted(Group.objects.filter(name__startswith="applied:").values_list("name", flat=True))


def failed_names() -> list[str]:
    return sorted(Group.objects.filter(name__startswith="failed:").values_list("name", flat=True))


def final_states(custom_ids: list[str]) -> dict[str, list[str]]:
    """Every status each custom_id had across a batch and its resubmissions, oldest first."""
    states: dict[str, list[str]] = {cid: [] for cid in custom_ids}
    for custom_id, status in (
        BatchItem.objects.filter(custom_id__in=custom_ids).order_by("pk").values_list("custom_id", "status")
    ):
        states[custom_id].append(status)
    return states


def assert_each_ends_once(custom_ids: list[str]) -> dict[str, str]:
    """Every custom_id ends in exactly one final state; earlier copies were resubmitted."""
    ends = {}
    for custom_id, statuses in final_states(custom_ids).items():
        assert statuses, custom_id
        assert all(status == "resubmitted" for status in statuses[:-1]), (custom_id, statuses)
        assert statuses[-1] in ("applied", "failed"), (custom_id, statuses)
        ends[custom_id] = statuses[-1]
    return ends


@pytest.fixture(autouse=True)
def _crash_switch():
    CRASH.update(after=None, applied=0)
    yield
    CRASH.update(after=None, applied=0)


@pytest.fixture(autouse=True)
def _batch_dir(settings, tmp_path):
    settings.BATCH_DIR = str(tmp_path / "batches")
    settings.BATCH_POLL_MIN_INTERVAL_S = 0
    settings.BATCH_CREATE_BACKOFF_S = 0
    return tmp_path / "batches"


@pytest.fixture
def make_batch(db):
    def make(count: int = 5, **kwargs) -> Batch:
        return batch_create(task=kwargs.pop("task", TEST_TASK), items=specs(count), **kwargs)

    return make


@pytest.fixture
def make_sim(settings):
    """Like the shared `sim` fixture, with simulator options fixed at construction (some, such as
    batch_create_token_limit_exceeded, are read only then)."""
    from llm.providers import use_transport
    from llm.simulator import Simulator
    from tests.conftest import CANARY_KEY

    settings.LLM_PROVIDER = "openai"
    settings.OPENAI_API_KEY = CANARY_KEY
    settings.OPENAI_BASE_URL = ""
    stack = contextlib.ExitStack()

    def make(**options):
        simulator = Simulator(**{"seed": 1, "require_api_key": CANARY_KEY, **options})
        stack.enter_context(use_transport(simulator.transport()))
        stack.callback(simulator.close)
        return simulator

    with stack:
        yield make
