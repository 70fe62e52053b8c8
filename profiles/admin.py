"""Admin for profiles and their resumes. Resume text and AI insights are untrusted (uploaded files,
model output): shown only through autoescaping, never marked safe.
"""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.text import Truncator

from profiles.models import Resume, UserProfile

SERVER_OWNED = [
    "ai_profile_summary",
    "ai_strengths",
    "ai_improvement_areas",
    "ai_career_advice",
    "ai_is_fallback",
    "created_at",
    "updated_at",
    "last_resume_upload",
    "last_scored_at",
]


class ResumeInline(admin.TabularInline):
    model = Resume
    extra = 0
    can_delete = False
    fields = ["filename", "kind", "size_bytes", "language", "parsed_is_fallback", "uploaded_at", "text_excerpt"]
    readonly_fields = fields
    ordering = ["-uploaded_at"]

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    @admin.display(description="text")
    def text_excerpt(self, resume: Resume) -> str:
        # format_html escapes its arguments: a resume containing <script> shows as text.
        return format_html(
            '<div style="white-space: pre-wrap; max-width: 60em">{}</div>', Truncator(resume.text).chars(1500)
        )


@admin.register(UserProfile)
class UserProfileAdmin(admin.ModelAdmin):
    list_display = [
        "user_id",
        "full_name",
        "email",
        "owner",
        "language",
        "time_zone",
        "career_level",
        "years_of_experience",
        "ai_is_fallback",
        "last_resume_upload",
    ]
    list_select_related = ["owner"]
    list_filter = ["language", "career_level", "ai_is_fallback"]
    search_fields = ["user_id", "full_name", "email", "owner__username"]
    raw_id_fields = ["owner"]
    readonly_fields = SERVER_OWNED
    inlines = [ResumeInline]
    fieldsets = [
        (None, {"fields": ["owner", "user_id", "language", "time_zone"]}),
        ("Personal", {"fields": ["full_name", "email", "phone", "location", "work_authorization"]}),
        ("Professional", {"fields": ["years_of_experience", "career_level", "professional_summary"]}),
        ("Skills", {"fields": ["programming_languages", "frameworks_libraries", "tools_platforms", "soft_skills"]}),
        ("Experience", {"fields": ["job_titles", "companies", "industries", "experience_descriptions"]}),
        ("Education", {"fields": ["degrees", "institutions", "graduation_years", "relevant_coursework"]}),
        (
            "Preferences",
            {
                "fields": [
                    "desired_roles",
                    "preferred_locations",
                    "salary_range_min",
                    "salary_range_max",
                    "job_types",
                    "company_size_preference",
                ]
            },
        ),
        ("AI insights (server-owned)", {"fields": SERVER_OWNED[:5]}),
        ("Timestamps", {"fields": SERVER_OWNED[5:]}),
    ]
