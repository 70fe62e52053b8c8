"""Serializers for profiles and resumes. Server-owned fields are listed as read-only explicitly:
a PUT that sends them (e.g. a GET body sent back) is accepted and they stay unchanged; a field the
profile doesn't have at all is a 400, so typos don't pass silently.
"""

from __future__ import annotations

import zoneinfo
from typing import Any

from rest_framework import serializers

from profiles.llm import CAREER_LEVELS
from profiles.models import Resume, UserProfile
from profiles.services import EDITABLE_FIELDS

SERVER_OWNED_FIELDS = (
    "id", "user_id", "owner", "ai_profile_summary", "ai_strengths", "ai_improvement_areas",
    "ai_career_advice", "ai_is_fallback", "created_at", "updated_at", "last_resume_upload", "last_scored_at",
    "manually_edited_fields", "match_weights", "match_weights_explained",
)  # fmt: skip
# Seed 004's nested request shape, accepted besides the flat one:
# {"personal_info": {"full_name": ...}, "preferences": {"desired_roles": [...], "salary_range": {"min", "max"}}}
NESTED_GROUPS = {
    "personal_info": ("full_name", "email", "phone", "location", "work_authorization", "time_zone", "language"),
    "professional": ("years_of_experience", "career_level", "professional_summary"),
    "skills": ("programming_languages", "frameworks_libraries", "tools_platforms", "soft_skills"),
    "experience": ("job_titles", "companies", "industries", "experience_descriptions"),
    "education": ("degrees", "institutions", "graduation_years", "relevant_coursework"),
    "preferences": (
        "desired_roles", "preferred_locations", "salary_range_min", "salary_range_max", "job_types",
        "company_size_preference",
    ),
}  # fmt: skip


def _items(max_length: int = 200) -> serializers.ListField:
    return serializers.ListField(child=serializers.CharField(max_length=max_length), max_length=50, required=False)


class ProfileSerializer(serializers.ModelSerializer):
    owner = serializers.CharField(source="owner.get_username", read_only=True)
    career_level = serializers.ChoiceField(choices=["", *CAREER_LEVELS], required=False)
    years_of_experience = serializers.FloatField(min_value=0, max_value=60, required=False)
    salary_range_min = serializers.IntegerField(min_value=0, max_value=2_147_483_647, allow_null=True, required=False)
    salary_range_max = serializers.IntegerField(min_value=0, max_value=2_147_483_647, allow_null=True, required=False)
    programming_languages = _items(100)
    frameworks_libraries = _items(100)
    tools_platforms = _items(100)
    soft_skills = _items(100)
    job_titles = _items()
    companies = _items()
    industries = _items()
    experience_descriptions = _items(500)
    degrees = _items()
    institutions = _items()
    graduation_years = serializers.ListField(
        child=serializers.IntegerField(min_value=1950, max_value=2100), max_length=10, required=False
    )
    relevant_coursework = _items()
    desired_roles = _items()
    preferred_locations = _items()
    job_types = _items(50)
    company_size_preference = _items(50)
    ai_strengths = serializers.ListField(child=serializers.CharField(), read_only=True)
    ai_improvement_areas = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = UserProfile
        fields = [*SERVER_OWNED_FIELDS[:3], *EDITABLE_FIELDS, *SERVER_OWNED_FIELDS[3:]]
        read_only_fields = SERVER_OWNED_FIELDS

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        if hasattr(data, "getlist"):
            # A form (urlencoded or multipart): flat scalars, lists as repeated keys; DRF's fields read
            # it as a form themselves (dict() would turn every value into a list).
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({name: ["This field does not exist."] for name in unknown})
            return super().to_internal_value(data)
        if not isinstance(data, dict):
            return super().to_internal_value(data)
        flat = self._flatten(dict(data))
        unknown = sorted(set(flat) - set(self.fields))
        if unknown:
            raise serializers.ValidationError({name: ["This field does not exist."] for name in unknown})
        return super().to_internal_value(flat)

    @staticmethod
    def _flatten(data: dict[str, Any]) -> dict[str, Any]:
        for group in NESTED_GROUPS:
            nested = data.get(group)
            if not isinstance(nested, dict):
                continue
            data.pop(group)
            salary = nested.pop("salary_range", None) if group == "preferences" else None
            if isinstance(salary, dict):
                nested.setdefault("salary_range_min", salary.get("min"))
                nested.setdefault("salary_range_max", salary.get("max"))
            for key, value in nested.items():
                # Unknown keys inside a group surface as unknown fields, prefixed with the group.
                data[key if key in NESTED_GROUPS[group] else f"{group}.{key}"] = value
        return data

    def validate_time_zone(self, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            raise serializers.ValidationError("Not an IANA time zone name (e.g. Asia/Tokyo).") from exc
        return value


class ProfileListSerializer(serializers.ModelSerializer):
    owner = serializers.CharField(source="owner.get_username", read_only=True)
    resume_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = UserProfile
        fields = [
            "id", "user_id", "owner", "full_name", "email", "location", "language", "time_zone",
            "years_of_experience", "career_level", "resume_count", "last_resume_upload", "updated_at",
        ]  # fmt: skip
        read_only_fields = fields


class ResumeSerializer(serializers.ModelSerializer):
    characters = serializers.SerializerMethodField()

    class Meta:
        model = Resume
        fields = [
            "id",
            "filename",
            "kind",
            "size_bytes",
            "sha256",
            "language",
            "characters",
            "uploaded_at",
            "parsed_is_fallback",
        ]
        read_only_fields = fields

    def get_characters(self, resume: Resume) -> int:
        return len(resume.text)


class ResumeUploadSerializer(serializers.Serializer):
    file = serializers.FileField(allow_empty_file=True, help_text="A PDF, DOCX or TXT resume (5 MB at most).")


class ResumeTextSerializer(serializers.Serializer):
    text = serializers.CharField(required=False, trim_whitespace=False, allow_blank=True)
    resume_text = serializers.CharField(
        required=False, trim_whitespace=False, allow_blank=True, help_text="Seed 004's name for `text`."
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        text = attrs.get("text", attrs.get("resume_text"))
        if text is None:
            raise serializers.ValidationError({"text": ["This field is required."]})
        return {"text": text}


class ResumeParseResultSerializer(serializers.Serializer):
    profile = ProfileSerializer()
    resume = ResumeSerializer()
