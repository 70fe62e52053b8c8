"""One scheduler at a time (DESIGN.md §5.8): django-celery-beat's DatabaseScheduler behind a lease.

Every `celery beat` process may run (on each host, in each deploy); only the one holding the
`celery-beat` lease (config.leases, in the database) sends anything. It renews the lease while it
ticks and releases it when it stops; the others tick idle, trying to take the lease, and one of
them takes over once a stopped or dead holder's lease expires (BEAT_LEASE_TTL_S, a minute).

The schedules stay in django-celery-beat's tables (admin-managed, synced from code by
`setup_periodic_tasks`), which is why this wraps the DatabaseScheduler rather than replacing it
with celery-redbeat (whose schedule lives in Redis). The leader saves an entry's last run time
right after sending it, and a beat that takes over re-reads the tables, so it starts from what its
predecessor really sent; a run sent in the instant before a crash, and sent again, is turned into a
no-op by `config.periodic.periodic_once`.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from django.conf import settings
from django.db import DatabaseError, InterfaceError, close_old_connections
from django_celery_beat.schedulers import DatabaseScheduler

from config.leases import lease_acquire, lease_holder_id, lease_release

logger = logging.getLogger("contentops.beat")

LEASE_NAME = "celery-beat"


class LeasedDatabaseScheduler(DatabaseScheduler):
    """DatabaseScheduler that ticks only while it holds the beat lease."""

    lease_name = LEASE_NAME

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.lease_holder = lease_holder_id()
        self.is_leader = False
        self._lease_renewed_at = 0.0  # time.monotonic() of the last successful take or renewal
        super().__init__(*args, **kwargs)
        # Save each entry's last run time right after sending it (one UPDATE per send), not every
        # 3 minutes: a beat that takes over then starts from what was really sent.
        self.sync_every_tasks = 1

    @property
    def lease_ttl_s(self) -> float:
        return float(settings.BEAT_LEASE_TTL_S)

    @property
    def standby_interval_s(self) -> float:
        """How often a standby beat tries the lease: a few times per TTL, never slower than a tick."""
        return max(min(self.lease_ttl_s / 4, float(self.max_interval)), 0.1)

    def tick(self, *args: Any, **kwargs: Any) -> float:
        if not self._hold_lease():
            return self.standby_interval_s
        interval = super().tick(*args, **kwargs)
        # Never sleep past the point where the lease must be renewed.
        return min(interval, self.lease_ttl_s / 3)

    def close(self) -> None:
        try:
            super().close()  # saves the last run times first, for whoever takes over
        finally:
            if self.is_leader:
                lease_release(name=self.lease_name, holder=self.lease_holder)
                self.is_leader = False
                logger.info("beat %s: released the scheduler lease", self.lease_holder)

    def _reload_schedule(self) -> None:
        """Start from the run times the previous holder saved, not from what this process read at
        start-up while it was idle.

        The change stamp is noted first, so the tick that follows does not detect a "change" while
        it builds its heap: DatabaseScheduler would then rebuild the heap once more from entries
        that do not know what was just sent, and send a due task twice.
        """
        self.schedule_changed()
        self._initial_read = True
        self._heap = None
        self.schedule  # noqa: B018 - the property re-reads the tables

    def _hold_lease(self) -> bool:
        """Take or renew the lease when due; False (idle) when another beat holds it or the
        database cannot say (a beat that cannot prove it leads must not send)."""
        now = time.monotonic()
        if self.is_leader and now - self._lease_renewed_at < self.lease_ttl_s / 3:
            return True
        try:
            close_old_connections()
            held = lease_acquire(name=self.lease_name, holder=self.lease_holder, ttl_s=self.lease_ttl_s)
        except (DatabaseError, InterfaceError):
            logger.warning("beat %s: the lease could not be checked; idle until it can", self.lease_holder)
            held = False
        if held:
            self._lease_renewed_at = now
            if not self.is_leader:
                logger.info("beat %s: took the scheduler lease; sending periodic tasks", self.lease_holder)
                self._reload_schedule()
        elif self.is_leader:
            logger.warning("beat %s: lost the scheduler lease; idle while another beat sends", self.lease_holder)
        self.is_leader = held
        return held
