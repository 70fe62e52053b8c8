"""Platform models: API keys for service clients, leases, and the per-period record of periodic runs."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q


class APIKey(models.Model):
    """A key a service client sends as `X-API-Key`; only its SHA-256 digest is stored.

    The raw key is shown once, when it is created. A key acts as its `user`; revoking is final.
    """

    name = models.CharField(max_length=100)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_keys")
    prefix = models.CharField(
        max_length=12, db_index=True, editable=False, help_text="First characters, to tell keys apart."
    )
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "API key"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class Lease(models.Model):
    """A named lock that is a lease (DESIGN.md §5.9): one holder until `expires_at`.

    Its holder renews it while working and deletes it in `finally`; a dead holder's lease simply
    expires and the next caller takes it over (config.leases). Used by the one-beat scheduler lock
    and the per-batch submit/ingest lock.
    """

    name = models.CharField(max_length=200, unique=True)
    holder = models.CharField(max_length=200, help_text="Who holds it: host, process and a random token.")
    acquired_at = models.DateTimeField()
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=~Q(holder=""), name="lease_holder_not_empty"),
            models.CheckConstraint(condition=Q(expires_at__gte=F("acquired_at")), name="lease_expires_after_acquired"),
        ]

    def __str__(self) -> str:
        return f"{self.name} held by {self.holder}"


class PeriodicRun(models.Model):
    """One run of a periodic task for one period (e.g. the minute or the day it started in).

    The unique (name, period_key) pair makes a duplicate run for the same period a no-op, whoever
    sent it (a second beat, a failover re-send). See config.periodic.periodic_once.
    """

    name = models.CharField(max_length=200)
    period_key = models.CharField(max_length=40, help_text="Start of the period, UTC, e.g. 2026-01-01T03:00Z.")
    task_id = models.CharField(
        max_length=64, blank=True, help_text="The Celery message that claimed it: its redelivery may finish it."
    )
    started_at = models.DateTimeField(db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["name", "period_key"], name="periodic_run_unique_period"),
            models.CheckConstraint(
                condition=Q(finished_at__isnull=True) | Q(finished_at__gte=F("started_at")),
                name="periodic_run_finished_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} @ {self.period_key}"
