"""Admin for profiles and their resumes. Resume text and AI insights are untrusted (uploaded files,
model output): shown only through autoescaping, never marked safe.
"""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.text import Truncator

from config.adminkit import changelist_link, json_block, links, object_link
from profiles.models import DailyDigest, JobScore, Resume, UserProfile

SERVER_OWNED = (
    "ai_profile_summary",
    "ai_strengths",
    "ai_improvement_areas",
    "ai_career_advice",
    "ai_is_fallback",
    "created_at",
    "updated_at",
    "last_resume_upload",
    "last_scored_at",
)


class ResumeInline(admin.TabularInline):
    model = Resume
    extra = 0
    can_delete = False
    fields = readonly_fields = (
        "filename",
        "kind",
        "size_bytes",
        "language",
        "parsed_is_fallback",
        "uploaded_at",
        "text_excerpt",
    )
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
    readonly_fields = [*SERVER_OWNED, "related", "skills_summary"]
    inlines = [ResumeInline]
    # The long lists (skills, experience, education, preferences) fold away: a profile page opens on who
    # the person is and what we made for them, not on screens of JSON.
    fieldsets = [
        (None, {"fields": ["owner", "user_id", "language", "time_zone", "related", "skills_summary"]}),
        ("Personal", {"fields": ["full_name", "email", "phone", "location", "work_authorization"]}),
        ("Professional", {"fields": ["years_of_experience", "career_level", "professional_summary"]}),
        (
            "Skills",
            {
                "fields": ["programming_languages", "frameworks_libraries", "tools_platforms", "soft_skills"],
                "classes": ["collapse"],
            },
        ),
        (
            "Experience",
            {
                "fields": ["job_titles", "companies", "industries", "experience_descriptions"],
                "classes": ["collapse"],
            },
        ),
        (
            "Education",
            {
                "fields": ["degrees", "institutions", "graduation_years", "relevant_coursework"],
                "classes": ["collapse"],
            },
        ),
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
                ],
                "classes": ["collapse"],
            },
        ),
        ("AI insights (server-owned)", {"fields": SERVER_OWNED[:5], "classes": ["collapse"]}),
        ("Timestamps", {"fields": SERVER_OWNED[5:], "classes": ["collapse"]}),
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[UserProfile]:
        return (
            super()
            .get_queryset(request)
            .annotate(n_scores=Count("job_scores", distinct=True), n_digests=Count("digests", distinct=True))
        )

    @admin.display(description="made for this person")
    def related(self, profile: UserProfile) -> str:
        """Links to the person's scores, digests, emails and LLM calls (filtered lists)."""
        if profile.pk is None:
            return "-"
        from llm.models import LLMCall

        n_scores = profile.n_scores  # type: ignore[attr-defined]  # annotated by get_queryset
        n_digests = profile.n_digests  # type: ignore[attr-defined]
        return format_html(
            '<span class="co-related">{}</span>',
            links(
                [
                    changelist_link(JobScore, f"{n_scores} job score(s)", profile__id__exact=profile.pk),
                    changelist_link(DailyDigest, f"{n_digests} digest(s)", profile__id__exact=profile.pk),
                    changelist_link("emails.Email", "emails", recipient__id__exact=profile.owner_id),
                    changelist_link(LLMCall, "LLM calls", user__id__exact=profile.owner_id),
                ]
            ),
        )

    @admin.display(description="skills")
    def skills_summary(self, profile: UserProfile) -> str:
        skills = [*profile.programming_languages, *profile.frameworks_libraries, *profile.tools_platforms]
        return Truncator(", ".join(str(s) for s in skills)).chars(300) or "-"


@admin.register(JobScore)
class JobScoreAdmin(admin.ModelAdmin):
    """How well each job fits each person; the reasoning and factors are model output (escaped)."""

    list_display = [
        "profile",
        "job_link",
        "compatibility_score",
        "confidence_score",
        "is_fallback",
        "user_interested",
        "user_applied",
        "user_feedback",
        "scored_at",
    ]
    list_filter = [
        "is_fallback",
        "fallback_reason",
        "user_interested",
        "user_applied",
        "user_feedback",
        "score_version",
    ]
    search_fields = ["profile__user_id", "job__title", "job__company"]
    list_select_related = ["profile", "job"]
    date_hierarchy = "scored_at"
    show_full_result_count = False
    readonly_fields = [
        "profile",
        "job_link",
        "compatibility_score",
        "confidence_score",
        "ai_reasoning",
        "factors",
        "skills_match_score",
        "location_match_score",
        "experience_match_score",
        "salary_match_score",
        "culture_match_score",
        "is_fallback",
        "fallback_reason",
        "user_interested",
        "user_applied",
        "user_feedback",
        "user_feedback_comment",
        "user_feedback_at",
        "scored_at",
        "score_version",
    ]
    exclude = ["job", "match_factors", "mismatch_factors"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # scores come from the matching run

    def has_change_permission(self, request: HttpRequest, obj: JobScore | None = None) -> bool:
        return False

    @admin.display(description="job", ordering="job__title")
    def job_link(self, score: JobScore) -> str:
        return object_link(score.job)

    @admin.display(description="match / mismatch factors")
    def factors(self, score: JobScore) -> str:
        return format_html(
            "<strong>match</strong> {}<br><strong>mismatch</strong> {}",
            json_block(score.match_factors, open_=True),
            json_block(score.mismatch_factors, open_=True),
        )


@admin.register(DailyDigest)
class DailyDigestAdmin(admin.ModelAdmin):
    """At most one per person per local day; the HTML is model-made and shown escaped in a sandboxed frame."""

    list_display = [
        "profile",
        "digest_date",
        "digest_title",
        "total_matches",
        "total_new_jobs",
        "is_fallback",
        "email_sent",
        "email_opened",
        "email_clicked",
    ]
    list_filter = ["is_fallback", "email_sent", "email_opened", "digest_date"]
    search_fields = ["profile__user_id", "digest_title"]
    list_select_related = ["profile"]
    date_hierarchy = "digest_date"
    readonly_fields = [
        "profile",
        "digest_date",
        "digest_title",
        "digest_summary",
        "top_jobs",
        "market_trends",
        "skill_recommendations",
        "total_new_jobs",
        "total_matches",
        "is_fallback",
        "email_sent",
        "email_sent_at",
        "email_opened",
        "email_clicked",
        "user_viewed",
        "user_viewed_at",
        "jobs_clicked",
        "created_at",
        "generation_time_seconds",
        "html_preview",
    ]
    exclude = ["digest_html"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: DailyDigest | None = None) -> bool:
        return False

    @admin.display(description="as emailed")
    def html_preview(self, digest: DailyDigest) -> str:
        if not digest.digest_html:
            return "-"
        # srcdoc is an attribute: format_html escapes it; the empty sandbox allows no scripts or origin.
        return format_html(
            '<iframe sandbox="" referrerpolicy="no-referrer" srcdoc="{}" title="digest" '
            'style="width:100%;max-width:680px;height:480px;border:1px solid var(--hairline-color)"></iframe>',
            digest.digest_html,
        )
