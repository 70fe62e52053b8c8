"""Input and output shapes of the jobs API."""

from __future__ import annotations

from rest_framework import serializers

from catalog.jobs.models import JobFeed, JobListing
from config.api.fields import DB_BIGINT_MAX


class JobListingQuerySerializer(serializers.Serializer):
    q = serializers.CharField(required=False, default="", max_length=200, help_text="Words in title, company or text.")
    location = serializers.CharField(
        required=False, default="", max_length=200, help_text="Part of the location (e.g. Tokyo, 大阪, Remote)."
    )
    remote = serializers.BooleanField(
        required=False, allow_null=True, default=None, help_text="true: remote or hybrid only; false: on-site only."
    )
    skill = serializers.CharField(
        required=False, default="", max_length=100, help_text='A skill or alias: "JS", "k8s", "パイソン", "Python".'
    )
    posted_since = serializers.DateTimeField(
        required=False, default=None, help_text="Only postings published at or after this ISO 8601 date/time."
    )


class JobFeedBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = JobFeed
        fields = ["id", "name"]


class JobListingSerializer(serializers.ModelSerializer):
    feed = JobFeedBriefSerializer(read_only=True, allow_null=True)

    class Meta:
        model = JobListing
        fields = [
            "id",
            "title",
            "company",
            "location",
            "remote",
            "salary_min",
            "salary_max",
            "salary_currency",
            "salary_period",
            "description",
            "url",
            "posted_at",
            "skills",
            "language",
            "is_editorial_pick",
            "application_count",
            "feed",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields
        extra_kwargs = {"skills": {"help_text": "Canonical skill names extracted at ingest."}}


class JobRefreshRequestSerializer(serializers.Serializer):
    feed_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=DB_BIGINT_MAX),
        required=False,
        allow_empty=True,
        max_length=500,
        help_text="Feeds to refresh; empty or absent: every active http(s) feed.",
    )

    def validate_feed_ids(self, value: list[int]) -> list[int]:
        ids = sorted(set(value))
        known = set(JobFeed.objects.filter(pk__in=ids).values_list("pk", flat=True))
        missing = [pk for pk in ids if pk not in known]
        if missing:
            raise serializers.ValidationError(f"unknown feed ids: {missing}")
        return ids


class FeedOutcomeSerializer(serializers.Serializer):
    feed_id = serializers.IntegerField()
    feed_name = serializers.CharField()
    status = serializers.ChoiceField(choices=["ok", "not_modified", "error", "skipped"])
    new = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    error = serializers.CharField(allow_blank=True)
    warning = serializers.CharField(allow_blank=True)


class RefreshTotalsSerializer(serializers.Serializer):
    feeds = serializers.IntegerField()
    new = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    errors = serializers.IntegerField()  # type: ignore[assignment]  # a field, not Serializer.errors


class JobRefreshResponseSerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=["queued", "done"], help_text="queued: a worker will run it; done: ran now."
    )
    task_id = serializers.CharField(allow_null=True, help_text="Celery task id when queued.")
    feeds = FeedOutcomeSerializer(many=True, allow_null=True, help_text="Per-feed outcome when it ran now.")
    totals = RefreshTotalsSerializer(allow_null=True)
