"""Profiles: a person's structured profile (from resumes), job scores, and daily digests (seed 004)."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q


def _list() -> list:
    return []


class UserProfile(models.Model):
    """One per user (`owner`); `user_id` is the external id used in API paths (defaults to the username)."""

    owner = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile")
    user_id = models.CharField(max_length=100, unique=True)

    # Personal information
    full_name = models.CharField(max_length=255, blank=True)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=50, blank=True)
    location = models.CharField(max_length=255, blank=True)
    work_authorization = models.CharField(max_length=100, blank=True)
    time_zone = models.CharField(max_length=64, default="UTC", help_text="IANA name; digests follow its local day.")
    language = models.CharField(max_length=5, default="en", choices=[("en", "English"), ("ja", "Japanese")])

    # Professional summary
    years_of_experience = models.FloatField(default=0.0)
    career_level = models.CharField(max_length=50, blank=True)
    professional_summary = models.TextField(blank=True)

    # Skills
    programming_languages = models.JSONField(default=_list, blank=True)
    frameworks_libraries = models.JSONField(default=_list, blank=True)
    tools_platforms = models.JSONField(default=_list, blank=True)
    soft_skills = models.JSONField(default=_list, blank=True)

    # Experience
    job_titles = models.JSONField(default=_list, blank=True)
    companies = models.JSONField(default=_list, blank=True)
    industries = models.JSONField(default=_list, blank=True)
    experience_descriptions = models.JSONField(default=_list, blank=True)

    # Education
    degrees = models.JSONField(default=_list, blank=True)
    institutions = models.JSONField(default=_list, blank=True)
    graduation_years = models.JSONField(default=_list, blank=True)
    relevant_coursework = models.JSONField(default=_list, blank=True)

    # Preferences
    desired_roles = models.JSONField(default=_list, blank=True)
    preferred_locations = models.JSONField(default=_list, blank=True)
    salary_range_min = models.PositiveIntegerField(null=True, blank=True)
    salary_range_max = models.PositiveIntegerField(null=True, blank=True)
    job_types = models.JSONField(default=_list, blank=True)
    company_size_preference = models.JSONField(default=_list, blank=True)

    # AI insights (server-owned)
    ai_profile_summary = models.TextField(blank=True)
    ai_strengths = models.JSONField(default=_list, blank=True)
    ai_improvement_areas = models.JSONField(default=_list, blank=True)
    ai_career_advice = models.TextField(blank=True)
    ai_is_fallback = models.BooleanField(default=False)

    # Metadata
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    last_resume_upload = models.DateTimeField(null=True, blank=True)
    last_scored_at = models.DateTimeField(null=True, blank=True)
    # What the person typed by hand (through the API): a new resume replaces the parsed fields
    # but never these (profiles.services.resume_parse_apply).
    manually_edited_fields = models.JSONField(default=_list, blank=True)
    # The person's prefilter weights as moved by their feedback reasons (skills, location, salary,
    # experience; within bounds), and why, in their language. Empty: the standard weights.
    match_weights = models.JSONField(default=dict, blank=True)
    match_weights_explained = models.JSONField(default=_list, blank=True)

    class Meta:
        ordering = ["user_id"]
        constraints = [
            models.CheckConstraint(condition=Q(years_of_experience__gte=0), name="profile_experience_non_negative"),
            models.CheckConstraint(
                condition=Q(salary_range_min__isnull=True)
                | Q(salary_range_max__isnull=True)
                | Q(salary_range_min__lte=F("salary_range_max")),
                name="profile_salary_range_ordered",
            ),
        ]

    def __str__(self) -> str:
        return self.user_id


class Resume(models.Model):
    """An uploaded resume and its extracted text (the file itself is not kept)."""

    class Kind(models.TextChoices):
        PDF = "pdf", "PDF"
        DOCX = "docx", "DOCX"
        TEXT = "text", "text"

    profile = models.ForeignKey(UserProfile, on_delete=models.CASCADE, related_name="resumes")
    filename = models.CharField(max_length=255)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    size_bytes = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    text = models.TextField()
    language = models.CharField(max_length=5, blank=True)
    uploaded_at = models.DateTimeField(auto_now_add=True)
    parsed_is_fallback = models.BooleanField(default=False)

    class Meta:
        ordering = ["-uploaded_at"]
        # One row per distinct content per person: re-applying a parse (a retry, a batch ingested
        # twice, the same file uploaded again) updates the row instead of adding one.
        constraints = [models.UniqueConstraint(fields=["profile", "sha256"], name="resume_unique_content")]

    def __str__(self) -> str:
        return f"{self.profile_id}: {self.filename}"


class JobScore(models.Model):
    """How well a job fits a person (seed 004's fields); stored only at or above the threshold."""

    class FeedbackReason(models.TextChoices):
        SKILLS = "skills", "skills"
        LOCATION = "location", "location"
        SALARY = "salary", "salary"
        EXPERIENCE = "experience", "experience"
        COMPANY = "company", "company"
        OTHER = "other", "other"

    profile = models.ForeignKey(UserProfile, on_delete=models.CASCADE, related_name="job_scores")
    job = models.ForeignKey("catalog.JobListing", on_delete=models.CASCADE, related_name="scores")
    compatibility_score = models.FloatField()
    confidence_score = models.FloatField(default=0.0)
    ai_reasoning = models.TextField(blank=True)
    match_factors = models.JSONField(default=_list, blank=True)
    mismatch_factors = models.JSONField(default=_list, blank=True)
    skills_match_score = models.FloatField(default=0.0)
    location_match_score = models.FloatField(default=0.0)
    experience_match_score = models.FloatField(default=0.0)
    salary_match_score = models.FloatField(default=0.0)
    culture_match_score = models.FloatField(default=0.0)
    is_fallback = models.BooleanField(default=False)
    # Why the score is rule-based (blank for a model score): outage and budget reasons are re-sent to
    # the model by a later scoring run (profiles/matching/store.py RESEND_REASONS); the rules' own don't.
    fallback_reason = models.CharField(max_length=40, blank=True)
    user_interested = models.BooleanField(null=True, blank=True)
    user_applied = models.BooleanField(default=False)
    user_feedback = models.CharField(
        max_length=20, blank=True, choices=FeedbackReason.choices, help_text="Why not interested, if they said."
    )
    user_feedback_comment = models.TextField(blank=True)
    user_feedback_at = models.DateTimeField(null=True, blank=True)
    scored_at = models.DateTimeField(auto_now_add=True, db_index=True)
    score_version = models.CharField(max_length=10, default="1")

    class Meta:
        ordering = ["-compatibility_score", "-scored_at"]
        constraints = [
            models.UniqueConstraint(fields=["profile", "job", "score_version"], name="job_score_unique_version"),
            models.CheckConstraint(
                condition=Q(compatibility_score__gte=0) & Q(compatibility_score__lte=100), name="job_score_in_range"
            ),
            models.CheckConstraint(
                condition=Q(confidence_score__gte=0) & Q(confidence_score__lte=1), name="job_score_confidence_in_range"
            ),
            models.CheckConstraint(
                condition=Q(user_feedback__in=["", "skills", "location", "salary", "experience", "company", "other"]),
                name="job_score_feedback_reason_valid",
            ),
            models.CheckConstraint(
                condition=Q(is_fallback=True) | Q(fallback_reason=""), name="job_score_model_has_no_fallback_reason"
            ),
        ]
        indexes = [models.Index(fields=["profile", "-compatibility_score"])]

    def __str__(self) -> str:
        return f"{self.profile_id} × {self.job_id}: {self.compatibility_score:.0f}"


class DailyDigest(models.Model):
    """At most one per person per local day (in the person's time zone)."""

    profile = models.ForeignKey(UserProfile, on_delete=models.CASCADE, related_name="digests")
    digest_date = models.DateField()
    digest_title = models.CharField(max_length=255, blank=True)
    digest_summary = models.TextField(blank=True)
    digest_html = models.TextField(blank=True)
    top_jobs = models.JSONField(default=_list, blank=True)
    total_new_jobs = models.PositiveIntegerField(default=0)
    total_matches = models.PositiveIntegerField(default=0)
    market_trends = models.JSONField(default=_list, blank=True)
    skill_recommendations = models.JSONField(default=_list, blank=True)
    is_fallback = models.BooleanField(default=False)
    email_sent = models.BooleanField(default=False)
    email_sent_at = models.DateTimeField(null=True, blank=True)
    email_opened = models.BooleanField(default=False)
    email_clicked = models.BooleanField(default=False)
    user_viewed = models.BooleanField(default=False)
    user_viewed_at = models.DateTimeField(null=True, blank=True)
    jobs_clicked = models.JSONField(default=_list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    generation_time_seconds = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ["-digest_date", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["profile", "digest_date"], name="daily_digest_one_per_local_day"),
        ]

    def __str__(self) -> str:
        return f"{self.profile_id} {self.digest_date}"
