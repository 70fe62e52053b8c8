"""Platform models: API keys for service clients, leases, and the per-period record of periodic runs."""

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q


def api_key_default_scopes() -> list[str]:
    return ["read", "write"]


class APIKey(models.Model):
    """A key a service client sends as `X-API-Key`; only its SHA-256 digest is stored.

    The raw key is shown once, when it is created. A key acts as its `user` with at most its `scopes`
    (config.api.authentication): `read` allows safe methods, `write` changing ones, and `staff` keeps the
    owner's staff powers (without it the key acts as a non-staff user). Revoking is final: once
    `revoked_at` is set, no save clears or moves it.
    """

    class Scope(models.TextChoices):
        READ = "read", "read: GET, HEAD and OPTIONS requests"
        WRITE = "write", "write: POST, PUT, PATCH and DELETE requests"
        STAFF = "staff", "staff: staff endpoints, when the owner is staff too"

    name = models.CharField(max_length=100)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_keys")
    prefix = models.CharField(
        max_length=12, db_index=True, editable=False, help_text="First characters, to tell keys apart."
    )
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    scopes = models.JSONField(
        default=api_key_default_scopes,
        help_text="What the key may do, a list of: read, write, staff. It never exceeds its owner's powers.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = "API key"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            stored = type(self).objects.filter(pk=self.pk).values_list("revoked_at", flat=True).first()
            if stored is not None:
                # Revoking is final: whatever this instance holds (an admin form, a stale copy), the
                # stored revocation stays.
                self.revoked_at = stored
        super().save(*args, **kwargs)

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    def has_scope(self, scope: str) -> bool:
        return scope in (self.scopes or [])

    def clean(self) -> None:
        scopes = self.scopes if isinstance(self.scopes, list) else []
        if not scopes or not set(scopes) <= set(self.Scope.values):
            raise ValidationError({"scopes": f"Choose one or more of {', '.join(self.Scope.values)}."})


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
