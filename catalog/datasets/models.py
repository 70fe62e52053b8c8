"""Data dictionaries (seed 001): any dataset's fields with a business name and a description.

A dictionary is described from a source (this project's models, an uploaded CSV / JSON / JSON Lines
file, or a list of fields in the seed's shape); each field is one entry, unique per dictionary and
field path, carrying where its text came from. An entry a person edited is never overwritten by a
later run (the apply is a conditional UPDATE on `edited_at IS NULL`).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q


class DataDictionary(models.Model):
    class SourceKind(models.TextChoices):
        MODELS = "models", "this project's models"
        CSV = "csv", "CSV file"
        JSON = "json", "JSON file"
        JSONL = "jsonl", "JSON Lines file"
        FIELDS = "fields", "field list"

    class Status(models.TextChoices):
        PENDING = "pending", "pending"
        RUNNING = "running", "describing"
        COMPLETED = "completed", "completed"
        FAILED = "failed", "failed"

    name = models.CharField(max_length=200, unique=True)
    source_kind = models.CharField(max_length=10, choices=SourceKind.choices)
    source_name = models.CharField(max_length=255, blank=True, help_text="File name or model labels.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    # Progress of the current (or last) run; run_id is the Celery task id when it was queued.
    fields_total = models.PositiveIntegerField(default=0)
    fields_done = models.PositiveIntegerField(default=0)
    run_id = models.CharField(max_length=64, blank=True)
    error_message = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "data dictionaries"
        constraints = [
            models.CheckConstraint(
                condition=Q(source_kind__in=["models", "csv", "json", "jsonl", "fields"]),
                name="data_dictionary_source_kind_valid",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["pending", "running", "completed", "failed"]),
                name="data_dictionary_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(fields_done__lte=models.F("fields_total")), name="data_dictionary_progress_bounded"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class DataDictionaryEntry(models.Model):
    """One field: the seed's five inputs, the text, and its provenance (model or person)."""

    dictionary = models.ForeignKey(DataDictionary, on_delete=models.CASCADE, related_name="entries")
    position = models.PositiveIntegerField(default=0, help_text="Order of the field in its source.")
    field_path = models.CharField(max_length=300)
    field_name = models.CharField(max_length=120)
    data_type = models.CharField(max_length=40)
    semantic_type = models.CharField(max_length=40, blank=True)
    sample_values = models.JSONField(default=list, blank=True)
    business_name = models.CharField(max_length=120, blank=True)
    description = models.TextField(blank=True)
    # Provenance of the text: the model that wrote it (or "rule-based"), the prompt (task) version,
    # whether it is the fallback; or the person who edited it last.
    model = models.CharField(max_length=100, blank=True)
    prompt_version = models.PositiveIntegerField(null=True, blank=True)
    is_fallback = models.BooleanField(default=False)
    generated_at = models.DateTimeField(null=True, blank=True)
    llm_call_id = models.BigIntegerField(null=True, blank=True)
    edited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    edited_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["dictionary", "position", "id"]
        verbose_name_plural = "data dictionary entries"
        constraints = [
            models.UniqueConstraint(fields=["dictionary", "field_path"], name="data_dictionary_entry_unique_path"),
            models.CheckConstraint(
                condition=Q(edited_by__isnull=True) | Q(edited_at__isnull=False),
                name="data_dictionary_entry_edit_has_time",
            ),
        ]

    def __str__(self) -> str:
        return self.field_path

    @property
    def is_edited(self) -> bool:
        return self.edited_at is not None
