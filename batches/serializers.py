"""Output shapes of the batch API (read-only: batches are created by domain services)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from batches.models import Batch, BatchItem, BatchPart
from config.compiled import compiled


class _BatchParts(serializers.ListSerializer):
    """A batch's parts as `batch.parts.all()` gives them: the prefetched list (a listing), or else
    the query compiled once per thread (a status read, `config.compiled`), not on every read."""

    def get_attribute(self, instance: Any) -> Any:
        parts = instance.parts.all()
        if parts._result_cache is not None:  # prefetched
            return parts
        return compiled(parts, key="batch.parts")


class BatchPartSerializer(serializers.ModelSerializer):
    class Meta:
        model = BatchPart
        fields = [
            "number",
            "status",
            "line_count",
            "byte_size",
            "provider_job_id",
            "input_file_id",
            "output_file_id",
            "error_file_id",
            "request_total",
            "request_completed",
            "request_failed",
            "create_attempts",
            "retry_at",
            "error_code",
            "error_message",
            "submitted_at",
            "completed_at",
            "ingested_at",
        ]
        read_only_fields = fields


class _RequestCounts(serializers.Serializer):
    total = serializers.IntegerField(source="request_total")
    completed = serializers.IntegerField(source="request_completed")
    failed = serializers.IntegerField(source="request_failed")


class _ItemCounts(serializers.Serializer):
    total = serializers.IntegerField(source="item_count")
    applied = serializers.IntegerField(source="items_applied")
    failed = serializers.IntegerField(source="items_failed")
    resubmitted = serializers.IntegerField(source="items_resubmitted")
    open = serializers.SerializerMethodField(help_text="Not yet applied, failed or resubmitted.")

    def get_open(self, batch: Batch) -> int:
        return batch.item_count - batch.items_settled


class BatchSerializer(serializers.ModelSerializer):
    task = serializers.CharField(source="task_name")
    request_counts = _RequestCounts(source="*")
    items = _ItemCounts(source="*")
    # A string, so JSON clients never round a spend figure through a float.
    cost_usd = serializers.DecimalField(max_digits=14, decimal_places=6)
    retry_of: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="batch_id", read_only=True, allow_null=True
    )
    parts = _BatchParts(child=BatchPartSerializer(), read_only=True)

    class Meta:
        model = Batch
        fields = [
            "batch_id",
            "name",
            "task",
            "task_version",
            "provider",
            "model",
            "status",
            "request_counts",
            "items",
            "tokens_in",
            "tokens_out",
            "cost_usd",
            "error_message",
            "created_at",
            "submitted_at",
            "completed_at",
            "ingested_at",
            "last_polled_at",
            "cancel_requested_at",
            "retry_of",
            "parts",
        ]
        read_only_fields = fields


class BatchItemSerializer(serializers.ModelSerializer):
    subject = serializers.SerializerMethodField()
    output_summary = serializers.CharField(help_text="The start of the output JSON (model text: untrusted).")
    result = serializers.SerializerMethodField(
        help_text="The parsed result as the task's domain stored it (tasks that offer it, e.g. the lead tasks); "
        "null otherwise or when the item was not applied."
    )

    class Meta:
        model = BatchItem
        fields = [
            "custom_id",
            "status",
            "attempts",
            "error_class",
            "error_message",
            "output_summary",
            "is_fallback",
            "applied_at",
            "subject",
            "result",
        ]
        read_only_fields = fields

    @extend_schema_field({"type": "object", "additionalProperties": {}, "nullable": True})
    def get_result(self, item: BatchItem) -> dict[str, Any] | None:
        return self.context.get("results", {}).get(item.pk)

    def get_subject(self, item: BatchItem) -> str | None:
        if item.subject_type is None:
            return None
        return f"{item.subject_type.app_label}.{item.subject_type.model}:{item.subject_id}"


class BatchListQuerySerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Batch.Status.choices, required=False)
    task = serializers.CharField(required=False, max_length=100)


class BatchResultsQuerySerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=BatchItem.Status.choices, required=False)
