"""Leases: named locks that expire (DESIGN.md §5.9 "no long locks").

A lease lives in the database, so it holds across processes and hosts, survives a Redis outage and
needs no transaction held open while the work runs. Taking one is a conditional UPDATE (take over
a row that is ours or expired) or an INSERT on the unique name: two callers never both win. The
holder renews it while working and releases it in `finally`; a holder that dies leaves a row that
expires after `ttl_s`, and the next caller takes it over.

    with lease_hold(name=f"batch:{pk}", ttl_s=600) as held:   # LeaseBusyError when someone holds it
        for chunk in work:
            ...
            held.renew()                                      # False: it expired and was taken over
            # or held.keep() after every item: renews at most once per third of the TTL
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from config.errors import ConflictError
from config.models import Lease

logger = logging.getLogger("contentops.leases")


class LeaseBusyError(ConflictError):
    code = "lease_busy"


def lease_holder_id() -> str:
    """A holder name that tells operators where the lease is held, unique per call."""
    return f"{socket.gethostname()[:100]}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


def lease_acquire(*, name: str, holder: str, ttl_s: float, now: datetime | None = None) -> bool:
    """Take (or renew) the lease `name` for `holder` for `ttl_s` seconds; False while another holds it."""
    now = now or timezone.now()
    expires_at = now + timedelta(seconds=ttl_s)
    # Ours already, or expired: take it over in one conditional UPDATE (one winner among racers).
    taken = Lease.objects.filter(Q(holder=holder) | Q(expires_at__lte=now), name=name).update(
        holder=holder, acquired_at=now, expires_at=expires_at
    )
    if taken:
        return True
    try:
        with transaction.atomic():
            Lease.objects.create(name=name, holder=holder, acquired_at=now, expires_at=expires_at)
    except IntegrityError:  # a live lease of someone else's (or a racer inserted first)
        return False
    return True


def lease_renew(*, name: str, holder: str, ttl_s: float, now: datetime | None = None) -> bool:
    """Extend a lease we hold; False when it is no longer ours (it expired and was taken over)."""
    now = now or timezone.now()
    return bool(Lease.objects.filter(name=name, holder=holder).update(expires_at=now + timedelta(seconds=ttl_s)))


def lease_release(*, name: str, holder: str) -> None:
    """Give the lease up (only if it is still ours): the next caller gets it at once.

    Called from `finally` blocks: when the database itself is what failed, the lease is left to
    expire rather than hiding the error that brought us here.
    """
    try:
        Lease.objects.filter(name=name, holder=holder).delete()
    except DatabaseError:
        logger.warning("lease %s: not released (database error); it expires on its own", name, exc_info=True)


def leases_expired_delete(*, prefix: str, now: datetime | None = None) -> list[str]:
    """Delete expired leases whose name starts with `prefix` (their holders died); returns their names."""
    now = now or timezone.now()
    expired = Lease.objects.filter(name__startswith=prefix, expires_at__lte=now)
    names = sorted(expired.values_list("name", flat=True))
    # The expiry is checked again in the DELETE: a lease renewed in between is kept.
    Lease.objects.filter(name__in=names, expires_at__lte=now).delete()
    return names


@dataclass
class HeldLease:
    name: str
    holder: str
    ttl_s: float
    renewed_at: datetime = field(default_factory=timezone.now)
    held: bool = True

    def renew(self) -> bool:
        """Keep the lease while long work is still making progress; False if it was lost."""
        now = timezone.now()
        self.held = lease_renew(name=self.name, holder=self.holder, ttl_s=self.ttl_s, now=now)
        self.renewed_at = now
        return self.held

    def keep(self) -> bool:
        """`renew`, at most once per third of the TTL (cheap to call per item); False once lost."""
        due = self.held and (timezone.now() - self.renewed_at).total_seconds() >= self.ttl_s / 3
        if due and not self.renew():
            logger.warning("lease %s expired and was taken over; the holder should stop", self.name)
        return self.held


@contextmanager
def lease_hold(*, name: str, ttl_s: float, busy_message: str | None = None) -> Iterator[HeldLease]:
    """Hold the lease `name` for the block (released in `finally`); LeaseBusyError (409) when taken."""
    holder = lease_holder_id()
    if not lease_acquire(name=name, holder=holder, ttl_s=ttl_s):
        raise LeaseBusyError(busy_message or f"{name} is busy; try again shortly.")
    try:
        yield HeldLease(name=name, holder=holder, ttl_s=ttl_s)
    finally:
        lease_release(name=name, holder=holder)
