"""Leads: job postings seen as possible clients for the services we sell (app label `catalog`).

A `Lead` belongs to one job listing. Its stage moves only through `lead_stage_change` (a
conditional UPDATE on the expected stage) and every move leaves a `LeadStageChange` row. The
conversation is the llm layer's (`llm.Conversation`, which persists turns and tokens): the lead
points at it, never the other way round (llm imports no domain app).
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q


class Offering(models.Model):
    """A service we sell, described by staff: what it solves, its price range, the time it saves."""

    name = models.CharField(max_length=120, unique=True)
    solves = models.TextField(help_text="The problem it solves, in the buyer's words.")
    keywords = models.JSONField(
        default=list, blank=True, help_text="Words in a posting that hint at this need (rule-based qualification)."
    )
    price_min = models.DecimalField(max_digits=10, decimal_places=2)
    price_max = models.DecimalField(max_digits=10, decimal_places=2)
    currency = models.CharField(max_length=3, default="USD")
    typical_hours_saved_per_week = models.DecimalField(
        max_digits=6, decimal_places=1, default=0, help_text="What a typical client saves, per week."
    )
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=Q(price_min__gte=0), name="offering_price_non_negative"),
            models.CheckConstraint(condition=Q(price_min__lte=F("price_max")), name="offering_price_range_ordered"),
            models.CheckConstraint(
                condition=Q(typical_hours_saved_per_week__gte=0), name="offering_hours_non_negative"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class LeadStage(models.TextChoices):
    NEW = "new", "new"
    QUALIFIED = "qualified", "qualified"
    DISQUALIFIED = "disqualified", "disqualified"
    ANALYZED = "analyzed", "analyzed"
    IN_CONVERSATION = "in_conversation", "in conversation"
    DRAFT_READY = "draft_ready", "draft ready"
    CONTACTED = "contacted", "contacted"
    DISMISSED = "dismissed", "dismissed"


class LeadVerdict(models.TextChoices):
    QUALIFIED = "qualified", "qualified"
    DISQUALIFIED = "disqualified", "disqualified"


class LeadSource(models.TextChoices):
    FEED = "feed", "feed"
    SCRAPED = "scraped", "scraped"
    STAFF = "staff", "staff"


class Lead(models.Model):
    Stage = LeadStage
    Verdict = LeadVerdict
    Source = LeadSource

    job = models.OneToOneField("catalog.JobListing", on_delete=models.CASCADE, related_name="lead")
    source = models.CharField(max_length=10, choices=LeadSource.choices, default=LeadSource.FEED)
    stage = models.CharField(max_length=20, choices=LeadStage.choices, default=LeadStage.NEW)
    stage_changed_at = models.DateTimeField(null=True, blank=True)
    # qualify
    score = models.PositiveSmallIntegerField(null=True, blank=True, help_text="Fit with our offerings, 0–100.")
    verdict = models.CharField(max_length=12, choices=LeadVerdict.choices, blank=True)
    reason = models.CharField(max_length=300, blank=True)
    qualified_at = models.DateTimeField(null=True, blank=True)
    # analyze, extract_pain_points, parse (model output: untrusted text)
    analysis = models.JSONField(default=dict, blank=True)
    analyzed_at = models.DateTimeField(null=True, blank=True)
    pain_points = models.JSONField(default=list, blank=True)
    parsed = models.JSONField(default=dict, blank=True, help_text="The posting as structured fields.")
    # conversation results
    suggested_offerings = models.JSONField(default=list, blank=True)
    roi_estimate = models.JSONField(default=dict, blank=True, help_text="Figures; read with their assumptions.")
    roi_assumptions = models.JSONField(default=list, blank=True)
    conversation = models.ForeignKey(
        "llm.Conversation", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    draft_subject = models.CharField(max_length=200, blank=True)
    draft_body = models.TextField(blank=True)
    draft_generated_at = models.DateTimeField(null=True, blank=True)
    draft_is_fallback = models.BooleanField(default=False)
    contacted_at = models.DateTimeField(null=True, blank=True)
    # where each stored result came from: {task: {provider, model, task_version, is_fallback, generated_at, call_id}}
    provenance = models.JSONField(default=dict, blank=True)
    failures = models.PositiveSmallIntegerField(default=0, help_text="Task runs that failed for good.")
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["stage", "-score"], name="lead_stage_score")]
        constraints = [
            models.CheckConstraint(condition=Q(stage__in=LeadStage.values), name="lead_stage_valid"),
            models.CheckConstraint(condition=Q(verdict__in=["", *LeadVerdict.values]), name="lead_verdict_valid"),
            models.CheckConstraint(condition=Q(source__in=LeadSource.values), name="lead_source_valid"),
            models.CheckConstraint(
                condition=Q(score__isnull=True) | Q(score__gte=0, score__lte=100), name="lead_score_0_100"
            ),
            # A verdict always comes with its score.
            models.CheckConstraint(condition=Q(verdict="") | Q(score__isnull=False), name="lead_verdict_has_score"),
        ]

    def __str__(self) -> str:
        return f"lead #{self.pk} ({self.stage})"


class LeadStageChange(models.Model):
    """One stage move of a lead: the small history staff read in the admin."""

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="stage_changes")
    from_stage = models.CharField(max_length=20, choices=LeadStage.choices)
    to_stage = models.CharField(max_length=20, choices=LeadStage.choices)
    changed_at = models.DateTimeField(auto_now_add=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["lead", "changed_at", "id"]
        constraints = [
            models.CheckConstraint(condition=~Q(from_stage=F("to_stage")), name="lead_stage_change_moves"),
        ]

    def __str__(self) -> str:
        return f"{self.lead_id}: {self.from_stage} → {self.to_stage}"
