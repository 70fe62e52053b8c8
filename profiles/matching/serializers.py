"""Serializers for matches, on-demand scoring and digests. Everything here is server-owned: read-only."""

from __future__ import annotations

from rest_framework import serializers

from catalog.models import JobListing
from profiles.matching.services.feedback import ACTIONS, COMMENT_MAX, REASONS
from profiles.models import DailyDigest, JobScore

MAX_MATCHES = 100
MAX_JOB_LIMIT = 200
MAX_DAYS_BACK = 30


class MatchQuerySerializer(serializers.Serializer):
    limit = serializers.IntegerField(min_value=1, max_value=MAX_MATCHES, default=10)
    min_score = serializers.FloatField(min_value=0, max_value=100, default=0)


class ScoreJobsQuerySerializer(serializers.Serializer):
    job_limit = serializers.IntegerField(min_value=1, max_value=MAX_JOB_LIMIT, default=50)
    days_back = serializers.IntegerField(min_value=1, max_value=MAX_DAYS_BACK, default=1)


class DigestQuerySerializer(serializers.Serializer):
    user_id = serializers.CharField(max_length=100, required=False, help_text="Staff: one person's digests.")


class MatchJobSerializer(serializers.ModelSerializer):
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
            "url",
            "posted_at",
            "skills",
        ]
        read_only_fields = fields


class MatchSerializer(serializers.ModelSerializer):
    job = MatchJobSerializer(read_only=True)

    class Meta:
        model = JobScore
        fields = [
            "id",
            "job",
            "compatibility_score",
            "confidence_score",
            "ai_reasoning",
            "match_factors",
            "mismatch_factors",
            "skills_match_score",
            "location_match_score",
            "experience_match_score",
            "salary_match_score",
            "culture_match_score",
            "is_fallback",
            "user_interested",
            "user_applied",
            "user_feedback",
            "user_feedback_comment",
            "user_feedback_at",
            "scored_at",
            "score_version",
        ]
        read_only_fields = fields


class MatchFeedbackSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=list(ACTIONS))
    reason = serializers.ChoiceField(choices=list(REASONS), required=False, allow_blank=True, default="")
    comment = serializers.CharField(max_length=COMMENT_MAX, required=False, allow_blank=True, default="")


class MatchFeedbackResultSerializer(serializers.Serializer):
    user_id = serializers.CharField(read_only=True)
    match = MatchSerializer(read_only=True)
    match_weights = serializers.DictField(child=serializers.FloatField(), read_only=True)
    match_weights_explained = serializers.ListField(child=serializers.CharField(), read_only=True)


class MatchListSerializer(serializers.Serializer):
    user_id = serializers.CharField(read_only=True)
    count = serializers.IntegerField(read_only=True)
    matches = MatchSerializer(many=True, read_only=True)


class ScoreRunSerializer(serializers.Serializer):
    """What an on-demand scoring run did."""

    user_id = serializers.CharField(read_only=True)
    as_of = serializers.DateTimeField(read_only=True)
    jobs_considered = serializers.IntegerField(source="considered", read_only=True)
    above_prefilter = serializers.IntegerField(source="above_floor", read_only=True)
    sent_to_llm = serializers.IntegerField(read_only=True)
    llm_fallbacks = serializers.IntegerField(read_only=True)
    cached = serializers.IntegerField(read_only=True)
    over_budget = serializers.IntegerField(read_only=True, help_text="Scored by rules: today's LLM budget was used.")
    stored = serializers.IntegerField(read_only=True, help_text="Scores at or above the threshold, stored.")
    truncated = serializers.BooleanField(read_only=True, help_text="More new jobs remain for the scheduled run.")


class DigestListSerializer(serializers.ModelSerializer):
    user_id = serializers.CharField(source="profile.user_id", read_only=True)

    class Meta:
        model = DailyDigest
        fields = [
            "id",
            "user_id",
            "digest_date",
            "digest_title",
            "digest_summary",
            "total_new_jobs",
            "total_matches",
            "is_fallback",
            "email_sent",
            "email_opened",
            "email_clicked",
            "user_viewed",
            "created_at",
        ]
        read_only_fields = fields


class DigestDetailSerializer(DigestListSerializer):
    class Meta(DigestListSerializer.Meta):
        fields = [
            *DigestListSerializer.Meta.fields,
            "top_jobs",
            "market_trends",
            "skill_recommendations",
            "digest_html",
            "email_sent_at",
            "user_viewed_at",
            "jobs_clicked",
            "generation_time_seconds",
        ]
        read_only_fields = fields
