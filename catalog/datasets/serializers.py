"""Input and output shapes of the data dictionary API."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from catalog.datasets.models import DataDictionary, DataDictionaryEntry
from catalog.datasets.selectors import EXPORT_FORMATS


class FieldSpecSerializer(serializers.Serializer):
    """One field in seed 001's shape."""

    field_path = serializers.CharField(max_length=300, help_text="e.g. customer.contact.email")
    field_name = serializers.CharField(  # type: ignore[assignment]  # a field, not Field.field_name
        max_length=120, required=False, help_text="Default: the path's last part."
    )
    data_type = serializers.CharField(max_length=40)
    semantic_type = serializers.CharField(max_length=40, required=False, allow_null=True, allow_blank=True)
    sample_values = serializers.ListField(
        child=serializers.CharField(max_length=500, allow_blank=True), max_length=10, required=False, default=list
    )


class DataDictionaryCreateSerializer(serializers.Serializer):
    """Exactly one source: `file` (multipart: CSV, JSON or JSON Lines), `fields` (JSON) or `models`."""

    name = serializers.CharField(
        max_length=200,
        required=False,
        help_text="Default: the file name or the model labels. An existing dictionary's name reruns it: "
        "entries a person edited are kept.",
    )
    file = serializers.FileField(required=False, help_text="CSV, JSON (array of objects) or JSON Lines.")
    format = serializers.ChoiceField(
        choices=["csv", "json", "jsonl"], required=False, help_text="The file's format; default: from its name."
    )
    fields = FieldSpecSerializer(many=True, required=False, help_text="Seed 001's field list.")  # type: ignore[assignment]
    models = serializers.ListField(
        child=serializers.CharField(max_length=100),
        required=False,
        max_length=50,
        help_text="Model labels of this project, e.g. catalog.Product.",
    )

    def validate_fields(self, value: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if not value:
            raise serializers.ValidationError("At least one field.")
        if len(value) > settings.DATA_DICTIONARY_MAX_FIELDS:
            raise serializers.ValidationError(f"At most {settings.DATA_DICTIONARY_MAX_FIELDS} fields.")
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        given = [key for key in ("file", "fields", "models") if attrs.get(key)]
        if len(given) != 1:
            raise serializers.ValidationError("Give exactly one source: `file`, `fields` or `models`.")
        return attrs


class DataDictionaryEntrySerializer(serializers.ModelSerializer):
    edited_by: serializers.SlugRelatedField = serializers.SlugRelatedField(slug_field="username", read_only=True)
    semantic_type = serializers.SerializerMethodField()

    class Meta:
        model = DataDictionaryEntry
        fields = [
            "id",
            "field_path",
            "field_name",
            "data_type",
            "semantic_type",
            "sample_values",
            "business_name",
            "description",
            "model",
            "prompt_version",
            "is_fallback",
            "generated_at",
            "edited_by",
            "edited_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_semantic_type(self, entry: DataDictionaryEntry) -> str | None:
        return entry.semantic_type or None


class DataDictionaryEntryEditSerializer(serializers.Serializer):
    business_name = serializers.CharField(max_length=120, required=False)
    description = serializers.CharField(max_length=2000, required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs:
            raise serializers.ValidationError("Change `business_name`, `description` or both.")
        return attrs


class DataDictionaryProgressSerializer(serializers.Serializer):
    fields_total = serializers.IntegerField()
    fields_done = serializers.IntegerField()


class DataDictionaryListSerializer(serializers.ModelSerializer):
    created_by: serializers.SlugRelatedField = serializers.SlugRelatedField(slug_field="username", read_only=True)
    # Text, not an enum: "status" enums of other components would collide in the schema's names.
    status = serializers.CharField(read_only=True, help_text="pending, running, completed or failed.")
    progress = serializers.SerializerMethodField()
    entry_count = serializers.IntegerField(read_only=True)
    edited_count = serializers.IntegerField(read_only=True, help_text="Entries a person edited (kept by reruns).")
    fallback_count = serializers.IntegerField(read_only=True, help_text="Entries with rule-based text.")

    class Meta:
        model = DataDictionary
        fields = [
            "id",
            "name",
            "source_kind",
            "source_name",
            "created_by",
            "status",
            "progress",
            "run_id",
            "error_message",
            "entry_count",
            "edited_count",
            "fallback_count",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(DataDictionaryProgressSerializer)
    def get_progress(self, dictionary: DataDictionary) -> dict[str, int]:
        return {"fields_total": dictionary.fields_total, "fields_done": dictionary.fields_done}


class DataDictionaryDetailSerializer(DataDictionaryListSerializer):
    entries = DataDictionaryEntrySerializer(many=True, source="entry_list", read_only=True)

    class Meta(DataDictionaryListSerializer.Meta):
        fields = [*DataDictionaryListSerializer.Meta.fields, "entries"]
        read_only_fields = fields


class DataDictionaryQueuedSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    status = serializers.CharField(help_text="pending until a worker takes the run.")
    run_id = serializers.CharField(help_text="The worker's task id; follow `GET /api/v1/data-dictionaries/{id}`.")
    progress = DataDictionaryProgressSerializer()


class DataDictionaryExportQuerySerializer(serializers.Serializer):
    format = serializers.ChoiceField(choices=list(EXPORT_FORMATS), default="md", help_text="md, csv or json.")


class FieldDescribeRequestSerializer(FieldSpecSerializer):
    fallback = serializers.BooleanField(
        required=False, allow_null=True, default=None, help_text="As the `fallback` query parameter."
    )


class FieldDescriptionSerializer(serializers.Serializer):
    field_path = serializers.CharField()
    business_name = serializers.CharField()
    description = serializers.CharField()
    is_fallback = serializers.BooleanField(help_text="True: the rule-based description, not the model's.")
    fallback_reason = serializers.CharField(help_text="Why the fallback answered ('' for the model's answer).")
    provider = serializers.CharField()
    model = serializers.CharField()
    cached = serializers.BooleanField()
