"""Serializers for the emails API (/api/v1/emails/...). Emails are server-owned: read-only."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from emails.jobmail.llm import SECTION_KEYS
from emails.models import Email, EmailRun

MAX_BATCH_USERS = 10_000
MAX_TEMPLATE_VARIABLES = 20
LANGUAGES = ("en", "ja")


class TemplateVariablesField(serializers.DictField):
    """Campaign variables (e.g. `campaign_name`): short strings only, stored with the email."""

    child = serializers.CharField(max_length=200, allow_blank=True)

    def to_internal_value(self, data: Any) -> dict[str, str]:
        value = super().to_internal_value(data)
        if len(value) > MAX_TEMPLATE_VARIABLES:
            raise serializers.ValidationError(f"At most {MAX_TEMPLATE_VARIABLES} template variables.")
        if any(len(key) > 50 for key in value):
            raise serializers.ValidationError("Template variable names are at most 50 characters.")
        return value


class GenerateRequestSerializer(serializers.Serializer):
    user_id = serializers.CharField(max_length=100, help_text="The person's profile user_id (yours, unless staff).")
    language = serializers.ChoiceField(choices=LANGUAGES, required=False, help_text="Default: the person's own.")
    mock = serializers.BooleanField(
        required=False, allow_null=True, default=None, help_text="No provider call; default EMAIL_GENERATION_MOCK_MODE."
    )
    template_variables = TemplateVariablesField(required=False, default=dict)
    send = serializers.BooleanField(required=False, default=False, help_text="Send it right away (staff only).")


class BatchFilterSerializer(serializers.Serializer):
    language = serializers.ChoiceField(choices=LANGUAGES, required=False)
    time_zone = serializers.CharField(max_length=64, required=False)
    has_scores = serializers.BooleanField(required=False, allow_null=True, default=None)


class GenerateBatchRequestSerializer(serializers.Serializer):
    user_ids = serializers.ListField(
        child=serializers.CharField(max_length=100), required=False, max_length=MAX_BATCH_USERS, allow_empty=False
    )
    filter = BatchFilterSerializer(required=False, help_text="Everyone matching it (when no user_ids are given).")
    language = serializers.ChoiceField(choices=LANGUAGES, required=False, allow_blank=True, default="")
    mock = serializers.BooleanField(required=False, default=False)
    send = serializers.BooleanField(required=False, default=False)
    template_variables = TemplateVariablesField(required=False, default=dict)
    mode = serializers.ChoiceField(
        choices=EmailRun.Mode.choices,
        default=EmailRun.Mode.BULK,
        help_text="bulk: now, concurrently; batch: the provider's Batch API (about half the price, within 24 h).",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs.get("user_ids") and "filter" not in attrs:
            raise serializers.ValidationError("Give user_ids or a filter.")
        return attrs


class EmailRunSerializer(serializers.ModelSerializer):
    run_id = serializers.IntegerField(source="pk", read_only=True)
    progress = serializers.SerializerMethodField()

    class Meta:
        model = EmailRun
        fields = [
            "run_id",
            "status",
            "mode",
            "total",
            "done",
            "failed",
            "sent",
            "fallbacks",
            "progress",
            "language",
            "mock",
            "send",
            "batch_pk",
            "error",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields

    def get_progress(self, run: EmailRun) -> float:
        """Share of the run's people finished (0..1)."""
        return round((run.done + run.failed) / run.total, 3) if run.total else 1.0


class ValidateRequestSerializer(serializers.Serializer):
    user_id = serializers.CharField(
        max_length=100, required=False, help_text="Validate the sections this person would get now."
    )
    language = serializers.ChoiceField(choices=LANGUAGES, required=False)
    sections = serializers.DictField(
        child=serializers.ListField(child=serializers.IntegerField(min_value=1), max_length=100),
        required=False,
        help_text=f"Section key → job ids, keys among: {', '.join(SECTION_KEYS)}.",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("user_id" in attrs) == ("sections" in attrs):
            raise serializers.ValidationError("Give either user_id or sections.")
        if "sections" in attrs and len(attrs["sections"]) > 20:
            raise serializers.ValidationError("At most 20 sections.")
        return attrs


class SectionReportSerializer(serializers.Serializer):
    key = serializers.CharField()
    wanted = serializers.IntegerField()
    count = serializers.IntegerField()
    job_ids = serializers.ListField(child=serializers.IntegerField())
    sources = serializers.DictField(child=serializers.IntegerField(), required=False)
    note = serializers.CharField(required=False)


class ValidationReportSerializer(serializers.Serializer):
    is_valid = serializers.BooleanField()  # type: ignore[assignment]  # a field, not Serializer.is_valid
    errors = serializers.ListField(child=serializers.CharField())  # type: ignore[assignment]  # a field
    warnings = serializers.ListField(child=serializers.CharField())
    sections = SectionReportSerializer(many=True)
    total_jobs = serializers.IntegerField()
    duplicates = serializers.ListField(child=serializers.IntegerField())


class MetricsBlockSerializer(serializers.Serializer):
    total_requests = serializers.IntegerField()
    successful_requests = serializers.IntegerField()
    failed_requests = serializers.IntegerField()
    cache_hits = serializers.IntegerField()
    avg_response_time = serializers.FloatField(help_text="Milliseconds per generated email.")
    total_tokens_used = serializers.IntegerField()
    fallbacks = serializers.IntegerField()
    mock = serializers.IntegerField()


class MetricsSerializer(MetricsBlockSerializer):
    line_lookups = serializers.IntegerField()
    line_cache_hits = serializers.IntegerField()
    line_cache_hit_rate = serializers.FloatField()
    by_language = serializers.DictField(child=MetricsBlockSerializer())


class CacheClearRequestSerializer(serializers.Serializer):
    user_id = serializers.CharField(max_length=100, required=False, help_text="Only this person's cached words.")


class CacheClearSerializer(serializers.Serializer):
    scope = serializers.ChoiceField(choices=["user", "all"])
    user_id = serializers.CharField(allow_null=True)


class EmailListSerializer(serializers.ModelSerializer):
    class Meta:
        model = Email
        fields = [
            "id",
            "kind",
            "subject",
            "language",
            "status",
            "week",
            "created_at",
            "sent_at",
            "opened_at",
            "clicked_at",
        ]
        read_only_fields = fields


class EmailJobSerializer(serializers.Serializer):
    job_id = serializers.IntegerField()
    title = serializers.CharField()
    company = serializers.CharField(allow_blank=True)
    location = serializers.CharField(allow_blank=True)
    remote = serializers.BooleanField()
    salary = serializers.CharField(allow_blank=True)
    line = serializers.CharField(allow_blank=True)
    source = serializers.CharField(allow_blank=True)  # type: ignore[assignment]  # a field, not Field.source


class EmailSectionSerializer(serializers.Serializer):
    key = serializers.CharField()
    title = serializers.CharField()
    intro = serializers.CharField()
    cta = serializers.CharField()
    jobs = EmailJobSerializer(many=True)


class EmailDetailSerializer(serializers.ModelSerializer):
    sections = EmailSectionSerializer(many=True, read_only=True)
    is_fallback = serializers.SerializerMethodField()
    mock = serializers.SerializerMethodField()

    class Meta:
        model = Email
        fields = [
            *EmailListSerializer.Meta.fields,
            "to_address",
            "sections",
            "html",
            "text",
            "is_fallback",
            "mock",
            "open_count",
            "click_count",
            "error",
        ]
        read_only_fields = fields

    def get_is_fallback(self, email: Email) -> bool:
        """The words are rule-based (no model, or the model's answer failed its checks)."""
        return bool((email.generation or {}).get("is_fallback"))

    def get_mock(self, email: Email) -> bool:
        return bool((email.generation or {}).get("mock"))


class SendResultSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    sent = serializers.BooleanField()
    status = serializers.CharField()
    error = serializers.CharField(allow_blank=True)
