"""Provider Batch API jobs and their items, for any LLM task (DESIGN.md §1, mode 3).

Three tables:

- `Batch` is the unit people and clients work with: one public `batch_id` to submit, poll, cancel
  and read results of, one task, one retry chain (`retry_of`), one progress and cost figure.
- `BatchPart` is one provider job: one JSONL input file, one provider batch id, its own output and
  error files and request counts. A batch has one part unless it exceeds the provider's limits
  (OpenAI 50,000 lines / 200 MB per file, Azure 100,000 lines). Parts, rather than one `Batch` per
  provider job tied by a group, because provider limits are an implementation detail: callers keep
  a single id whatever the size, the retry budget and "every item ends in exactly one state" are
  accounted once per batch, and a part can still be polled, retried (token limit) and ingested on
  its own as its provider job finishes.
- `BatchItem` is one task input (one JSONL line), joined to results by `custom_id`, never by order.

Invariants live in constraints: statuses are closed sets, `custom_id` is unique per batch, a failed
item always says why, an applied item says when, and the progress counters never exceed the total.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import F, Q


class Batch(models.Model):
    class Status(models.TextChoices):
        CREATED = "created", "created"  # items recorded, no file yet
        BUILT = "built", "built"  # JSONL part files written under the batch directory
        # Built, but its estimated cost is above BATCH_APPROVAL_USD: a staff member approves it first.
        AWAITING_APPROVAL = "awaiting_approval", "awaiting approval"
        SUBMITTING = "submitting", "submitting"  # uploading files / creating provider jobs
        SUBMITTED = "submitted", "submitted"  # every part accepted by the provider (validating)
        IN_PROGRESS = "in_progress", "in progress"
        FINALIZING = "finalizing", "finalizing"
        COMPLETED = "completed", "completed"
        FAILED = "failed", "failed"
        EXPIRED = "expired", "expired"
        CANCELLING = "cancelling", "cancelling"
        CANCELLED = "cancelled", "cancelled"
        INGESTED = "ingested", "ingested"  # results applied: every item applied, failed or resubmitted

    batch_id = models.CharField(max_length=64, unique=True, help_text="Public id, e.g. batch_<uuid hex>.")
    name = models.CharField(max_length=200, blank=True)
    task_name = models.CharField(max_length=100, db_index=True)
    task_version = models.PositiveIntegerField()
    provider = models.CharField(max_length=20, help_text="Provider kind at creation: openai, azure, offline, ...")
    model = models.CharField(max_length=100)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.CREATED, db_index=True)
    item_count = models.PositiveIntegerField(default=0)
    items_applied = models.PositiveIntegerField(default=0)
    items_failed = models.PositiveIntegerField(default=0)
    items_resubmitted = models.PositiveIntegerField(default=0)
    # What the provider reports, summed over parts.
    request_total = models.PositiveIntegerField(default=0)
    request_completed = models.PositiveIntegerField(default=0)
    request_failed = models.PositiveIntegerField(default=0)
    # Summed from the result lines as they are ingested (the ledger has the same figures per call).
    tokens_in = models.PositiveBigIntegerField(default=0)
    tokens_out = models.PositiveBigIntegerField(default=0)
    cost_usd = models.DecimalField(max_digits=14, decimal_places=6, default=0)
    estimated_cost_usd = models.DecimalField(
        max_digits=14,
        decimal_places=6,
        default=0,
        help_text="Before submitting: batch prices for the input as built and every answer at the task's "
        "output cap (a ceiling).",
    )
    approved_at = models.DateTimeField(null=True, blank=True, help_text="When staff approved a costly batch.")
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    error_message = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True, help_text="When every part reached a final state.")
    ingested_at = models.DateTimeField(null=True, blank=True)
    last_polled_at = models.DateTimeField(null=True, blank=True)
    cancel_requested_at = models.DateTimeField(null=True, blank=True)
    retry_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="retries", help_text="Resubmits this."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "batches"
        indexes = [models.Index(fields=["status", "last_polled_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    status__in=[
                        "created",
                        "built",
                        "awaiting_approval",
                        "submitting",
                        "submitted",
                        "in_progress",
                        "finalizing",
                        "completed",
                        "failed",
                        "expired",
                        "cancelling",
                        "cancelled",
                        "ingested",
                    ]
                ),
                name="batch_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(items_applied__lte=F("item_count") - F("items_failed") - F("items_resubmitted")),
                name="batch_item_counters_within_total",
            ),
            models.CheckConstraint(condition=Q(cost_usd__gte=0), name="batch_cost_non_negative"),
            models.CheckConstraint(condition=Q(estimated_cost_usd__gte=0), name="batch_estimate_non_negative"),
            models.CheckConstraint(
                condition=~Q(status="ingested") | Q(ingested_at__isnull=False), name="batch_ingested_has_time"
            ),
        ]

    def __str__(self) -> str:
        return self.batch_id

    @property
    def items_settled(self) -> int:
        return self.items_applied + self.items_failed + self.items_resubmitted


class BatchPart(models.Model):
    """One provider job of a batch: its input file, provider ids, status and counts."""

    class Status(models.TextChoices):
        BUILT = "built", "built"  # file on disk, not uploaded
        UPLOADED = "uploaded", "uploaded"  # input file at the provider; job not (yet, or again) created
        VALIDATING = "validating", "validating"
        IN_PROGRESS = "in_progress", "in progress"
        FINALIZING = "finalizing", "finalizing"
        COMPLETED = "completed", "completed"
        FAILED = "failed", "failed"
        EXPIRED = "expired", "expired"
        CANCELLING = "cancelling", "cancelling"
        CANCELLED = "cancelled", "cancelled"

    batch = models.ForeignKey(Batch, on_delete=models.CASCADE, related_name="parts")
    number = models.PositiveSmallIntegerField()
    filename = models.CharField(max_length=255, help_text="Input JSONL, relative to the batches directory.")
    line_count = models.PositiveIntegerField(default=0)
    byte_size = models.PositiveBigIntegerField(default=0)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.BUILT)
    input_file_id = models.CharField(max_length=100, blank=True)
    provider_job_id = models.CharField(max_length=100, blank=True, db_index=True)
    output_file_id = models.CharField(max_length=100, blank=True)
    error_file_id = models.CharField(max_length=100, blank=True)
    request_total = models.PositiveIntegerField(default=0)
    request_completed = models.PositiveIntegerField(default=0)
    request_failed = models.PositiveIntegerField(default=0)
    create_attempts = models.PositiveSmallIntegerField(default=0, help_text="Provider job creations tried.")
    retry_at = models.DateTimeField(null=True, blank=True, help_text="Create the job again from this time.")
    error_code = models.CharField(max_length=60, blank=True)
    error_message = models.TextField(blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    ingested_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["batch", "number"]
        constraints = [
            models.UniqueConstraint(fields=["batch", "number"], name="batch_part_unique_number"),
            models.CheckConstraint(
                condition=Q(
                    status__in=[
                        "built",
                        "uploaded",
                        "validating",
                        "in_progress",
                        "finalizing",
                        "completed",
                        "failed",
                        "expired",
                        "cancelling",
                        "cancelled",
                    ]
                ),
                name="batch_part_status_valid",
            ),
            models.CheckConstraint(condition=Q(number__gte=1), name="batch_part_number_positive"),
        ]

    def __str__(self) -> str:
        return f"part {self.number} of batch #{self.batch_id}"


class BatchItem(models.Model):
    """One task input of a batch (one JSONL line) and how it ended."""

    class Status(models.TextChoices):
        PENDING = "pending", "pending"
        SUBMITTED = "submitted", "submitted"
        APPLIED = "applied", "applied"
        FAILED = "failed", "failed"
        RESUBMITTED = "resubmitted", "resubmitted"

    # No single-column indexes where a composite one below starts with the column: ingest updates
    # tens of thousands of rows, and every index on the table is written on each status change.
    batch = models.ForeignKey(Batch, on_delete=models.CASCADE, related_name="items", db_index=False)
    part = models.ForeignKey(
        BatchPart, null=True, blank=True, on_delete=models.SET_NULL, related_name="items", db_index=False
    )
    custom_id = models.CharField(max_length=100)
    subject_type = models.ForeignKey(
        ContentType, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    subject_id = models.CharField(max_length=64, blank=True)
    subject = GenericForeignKey("subject_type", "subject_id")
    input = models.JSONField(help_text="The task input's model_dump: the line is rebuilt from it.")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0, help_text="Provider submissions, across resubmits.")
    error_class = models.CharField(max_length=40, blank=True)
    error_message = models.CharField(max_length=500, blank=True)
    output_summary = models.CharField(max_length=300, blank=True)
    is_fallback = models.BooleanField(default=False)
    applied_at = models.DateTimeField(null=True, blank=True)
    llm_call = models.ForeignKey("llm.LLMCall", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    retry_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="retried_as", help_text="Resubmits this."
    )

    class Meta:
        ordering = ["batch", "id"]
        indexes = [
            models.Index(fields=["batch", "status"]),
            models.Index(fields=["part", "status"]),
            models.Index(fields=["subject_type", "subject_id"]),
        ]
        constraints = [
            models.UniqueConstraint(fields=["batch", "custom_id"], name="batch_item_unique_custom_id"),
            models.CheckConstraint(
                condition=Q(status__in=["pending", "submitted", "applied", "failed", "resubmitted"]),
                name="batch_item_status_valid",
            ),
            models.CheckConstraint(condition=~Q(custom_id=""), name="batch_item_custom_id_not_empty"),
            # Every item that did not make it says why.
            models.CheckConstraint(
                condition=~Q(status__in=["failed", "resubmitted"]) | ~Q(error_message=""),
                name="batch_item_failure_has_reason",
            ),
            models.CheckConstraint(
                condition=~Q(status="applied") | Q(applied_at__isnull=False), name="batch_item_applied_has_time"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.batch_id}:{self.custom_id}"
