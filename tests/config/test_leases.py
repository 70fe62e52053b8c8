"""Leases: one holder at a time; a dead holder's lease expires and is taken over; release is final."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from config.leases import (
    LeaseBusyError,
    lease_acquire,
    lease_hold,
    lease_release,
    lease_renew,
    leases_expired_delete,
)
from config.models import Lease

pytestmark = pytest.mark.django_db


def test_one_holder_at_a_time_until_the_lease_expires():
    assert lease_acquire(name="job", holder="a", ttl_s=60)
    assert not lease_acquire(name="job", holder="b", ttl_s=60)
    assert lease_acquire(name="job", holder="a", ttl_s=60)  # its holder may take it again (renew)

    with time_machine.travel(timezone.now() + timedelta(seconds=61), tick=False):
        # a's process died without releasing: b takes the expired lease over, and a lost it
        assert lease_acquire(name="job", holder="b", ttl_s=60)
        assert not lease_renew(name="job", holder="a", ttl_s=60)
        assert lease_renew(name="job", holder="b", ttl_s=60)

    assert Lease.objects.get(name="job").holder == "b"


def test_release_is_only_by_the_holder_and_frees_the_lease_at_once():
    lease_acquire(name="job", holder="a", ttl_s=60)
    lease_release(name="job", holder="b")
    assert not lease_acquire(name="job", holder="b", ttl_s=60)

    lease_release(name="job", holder="a")
    assert lease_acquire(name="job", holder="b", ttl_s=60)


def test_hold_releases_in_finally_and_refuses_a_second_holder():
    renewed = []

    def work() -> None:
        with lease_hold(name="job", ttl_s=60) as held:
            with pytest.raises(LeaseBusyError), lease_hold(name="job", ttl_s=60):
                pass
            renewed.append(held.renew())
            raise RuntimeError("the work failed")

    with pytest.raises(RuntimeError):
        work()

    assert renewed == [True]
    assert not Lease.objects.exists()


def test_expired_leases_are_deleted_by_prefix_only():
    lease_acquire(name="batches:batch:1", holder="dead", ttl_s=60)
    lease_acquire(name="batches:batch:2", holder="alive", ttl_s=600)
    lease_acquire(name="celery-beat", holder="dead", ttl_s=60)

    with time_machine.travel(timezone.now() + timedelta(seconds=120), tick=False):
        assert leases_expired_delete(prefix="batches:") == ["batches:batch:1"]

    assert sorted(Lease.objects.values_list("name", flat=True)) == ["batches:batch:2", "celery-beat"]
