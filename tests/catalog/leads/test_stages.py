"""Lead stages move only by conditional updates, each move kept in the history."""

import threading

import pytest
from django.db import IntegrityError, connection, transaction

from catalog.leads.models import Lead, LeadStageChange
from catalog.leads.services import StageConflictError, lead_stage_change
from config.errors import DomainError


@pytest.mark.django_db
def test_a_move_updates_the_stage_and_leaves_one_history_row(lead, staff_user):
    lead_stage_change(lead=lead, to="qualified", expected_from="new", user=staff_user, note="by hand")

    lead.refresh_from_db()
    assert lead.stage == "qualified"
    change = LeadStageChange.objects.get(lead=lead)
    assert (change.from_stage, change.to_stage, change.changed_by, change.note) == (
        "new",
        "qualified",
        staff_user,
        "by hand",
    )


@pytest.mark.django_db
def test_a_move_the_stage_machine_does_not_allow_is_refused(lead):
    with pytest.raises(DomainError) as refused:
        lead_stage_change(lead=lead, to="contacted", expected_from="new")

    assert refused.value.code == "invalid_stage_transition"
    lead.refresh_from_db()
    assert lead.stage == "new"
    assert not LeadStageChange.objects.exists()


@pytest.mark.django_db
def test_a_move_from_a_stage_the_lead_has_left_is_a_conflict(lead):
    Lead.objects.filter(pk=lead.pk).update(stage="dismissed")

    with pytest.raises(StageConflictError) as conflict:
        lead_stage_change(lead=lead, to="qualified", expected_from="new")

    assert conflict.value.status_code == 409
    assert Lead.objects.get(pk=lead.pk).stage == "dismissed"
    assert not LeadStageChange.objects.exists()


@pytest.mark.django_db
def test_the_database_refuses_a_score_outside_0_to_100(lead):
    with pytest.raises(IntegrityError), transaction.atomic():
        Lead.objects.filter(pk=lead.pk).update(score=101, verdict="qualified")


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_moves_from_the_same_stage_one_wins(make_lead):
    """A holds its move uncommitted while B, which also read `new`, tries to move: B must lose."""
    lead = make_lead()
    a_moved, b_done = threading.Event(), threading.Event()
    outcomes: dict[str, str] = {}

    def mover(name: str, to: str) -> None:
        try:
            if name == "b":
                a_moved.wait(5)
            with transaction.atomic():
                lead_stage_change(lead=Lead.objects.get(pk=lead.pk), to=to, expected_from="new")
                if name == "a":
                    a_moved.set()
                    b_done.wait(1)  # B is now blocked on our row lock (or already lost)
            outcomes[name] = to
        except StageConflictError:
            outcomes[name] = "conflict"
        finally:
            if name == "b":
                b_done.set()
            connection.close()

    threads = [
        threading.Thread(target=mover, args=("a", "qualified")),
        threading.Thread(target=mover, args=("b", "disqualified")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)

    assert outcomes == {"a": "qualified", "b": "conflict"}
    lead.refresh_from_db()
    assert lead.stage == "qualified"
    assert list(LeadStageChange.objects.filter(lead=lead).values_list("to_stage", flat=True)) == ["qualified"]
