"""Emails: one row per message we compose, whatever it is about (a digest today; job
recommendations and outreach later), with its rendered parts, delivery state and engagement."""

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q


class EmailKind(models.TextChoices):
    DIGEST = "digest", "daily digest"
    JOB_RECOMMENDATION = "job_recommendation", "job recommendation"
    OUTREACH = "outreach", "outreach"
    TEST = "test", "test"


class EmailStatus(models.TextChoices):
    DRAFT = "draft", "draft"  # being composed: never sent in this state
    QUEUED = "queued", "queued"
    SENT = "sent", "sent"
    FAILED = "failed", "failed"
    SUPPRESSED = "suppressed", "suppressed"  # not to be sent (no address, recipient refused)


class Email(models.Model):
    Kind = EmailKind
    Status = EmailStatus

    kind = models.CharField(max_length=32, choices=EmailKind.choices)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="emails"
    )
    to_address = models.EmailField(blank=True)
    language = models.CharField(max_length=5, default="en")
    subject = models.CharField(max_length=255, blank=True)
    html = models.TextField(blank=True)
    text = models.TextField(blank=True)
    status = models.CharField(max_length=16, choices=EmailStatus.choices, default=EmailStatus.DRAFT)
    sent_at = models.DateTimeField(null=True, blank=True)
    opened_at = models.DateTimeField(null=True, blank=True, help_text="The first open.")
    clicked_at = models.DateTimeField(null=True, blank=True, help_text="The first click.")
    open_count = models.PositiveIntegerField(default=0)
    click_count = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    # What the email is about (a DailyDigest today), without emails' model knowing each domain.
    about_type = models.ForeignKey(ContentType, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    about_id = models.PositiveBigIntegerField(null=True, blank=True)
    about = GenericForeignKey("about_type", "about_id")
    created_at = models.DateTimeField(auto_now_add=True)
    # Job emails (kind job_recommendation): the recipient's local ISO week ("2026-W49"), the six
    # sections as sent (keys, words, jobs with their lines) and how the words were generated.
    week = models.CharField(max_length=8, blank=True, default="")
    sections = models.JSONField(default=list, blank=True)
    generation = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=EmailKind.values), name="email_kind_valid"),
            models.CheckConstraint(condition=Q(status__in=EmailStatus.values), name="email_status_valid"),
            models.CheckConstraint(
                condition=(Q(status=EmailStatus.SENT) & Q(sent_at__isnull=False))
                | (~Q(status=EmailStatus.SENT) & Q(sent_at__isnull=True)),
                name="email_sent_at_iff_sent",
            ),
            models.CheckConstraint(
                condition=Q(about_type__isnull=True, about_id__isnull=True)
                | Q(about_type__isnull=False, about_id__isnull=False),
                name="email_about_complete",
            ),
            # A click proves an open: the first open is never later than the first click.
            models.CheckConstraint(
                condition=Q(clicked_at__isnull=True)
                | Q(opened_at__isnull=False, opened_at__lte=models.F("clicked_at")),
                name="email_clicked_implies_opened",
            ),
            # A digest is emailed at most once.
            models.UniqueConstraint(
                fields=["kind", "about_type", "about_id"],
                condition=Q(kind=EmailKind.DIGEST),
                name="email_one_per_digest",
            ),
            # At most one job email per person per (local ISO) week; every job email names its week.
            models.UniqueConstraint(
                fields=["recipient", "week"],
                condition=Q(kind=EmailKind.JOB_RECOMMENDATION),
                name="email_one_job_email_per_week",
            ),
            models.CheckConstraint(
                condition=~Q(kind=EmailKind.JOB_RECOMMENDATION) | Q(week__regex=r"^[0-9]{4}-W[0-9]{2}$"),
                name="email_job_email_has_week",
            ),
        ]
        indexes = [
            models.Index(fields=["kind", "status", "-created_at"], name="email_kind_status_created"),
            models.Index(fields=["status", "-created_at"], name="email_status_created"),
            models.Index(fields=["language", "-created_at"], name="email_language_created"),
            models.Index(fields=["about_type", "about_id"], name="email_about"),
            models.Index(fields=["-created_at"], name="email_created"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} to {self.to_address or '-'} ({self.status})"


class SuppressionScope(models.TextChoices):
    ALL = "all", "every email"
    DIGEST = "digest", "daily digests"
    JOB_RECOMMENDATION = "job_recommendation", "weekly job emails"


class SuppressionReason(models.TextChoices):
    UNSUBSCRIBED = "unsubscribed", "unsubscribed"
    BOUNCED = "bounced", "bounced"
    COMPLAINED = "complained", "complained (spam report)"
    MANUAL = "manual", "added by staff"


class Suppression(models.Model):
    """An address we must not send (some kinds of) email to: an unsubscribe, a hard bounce or a
    spam complaint. Every send checks it (emails.suppressions), one row per address and scope."""

    Scope = SuppressionScope
    Reason = SuppressionReason

    address = models.EmailField(help_text="Stored lowercased.")
    scope = models.CharField(max_length=32, choices=SuppressionScope.choices, default=SuppressionScope.ALL)
    reason = models.CharField(max_length=16, choices=SuppressionReason.choices)
    source = models.CharField(max_length=200, blank=True, help_text="Where it came from: a link, an ESP event.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["address", "scope"], name="suppression_unique_address_scope"),
            models.CheckConstraint(condition=Q(scope__in=SuppressionScope.values), name="suppression_scope_valid"),
            models.CheckConstraint(condition=Q(reason__in=SuppressionReason.values), name="suppression_reason_valid"),
            models.CheckConstraint(condition=~Q(address=""), name="suppression_address_not_empty"),
        ]

    def __str__(self) -> str:
        return f"{self.address} ({self.scope}: {self.reason})"


class EmailClick(models.Model):
    """One tracked click on a job link in an email: the popular and you-might-like sections read
    these (who clicked which job, when)."""

    email = models.ForeignKey(Email, on_delete=models.CASCADE, related_name="clicks")
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    job_id = models.PositiveBigIntegerField()
    clicked_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-clicked_at", "-id"]
        indexes = [
            models.Index(fields=["clicked_at", "job_id"], name="email_click_when_job"),
            models.Index(fields=["recipient", "job_id"], name="email_click_recipient_job"),
        ]

    def __str__(self) -> str:
        return f"email {self.email_id} → job {self.job_id}"


class EmailRunStatus(models.TextChoices):
    QUEUED = "queued", "queued"
    RUNNING = "running", "running"
    WAITING_FOR_BATCH = "waiting_for_batch", "waiting for the provider batch"
    DONE = "done", "done"
    FAILED = "failed", "failed"


class EmailRun(models.Model):
    """One `emails_generate_batch` run: whom it covers and how far it got (the API's run id)."""

    Status = EmailRunStatus

    class Mode(models.TextChoices):
        BULK = "bulk", "bulk (now, concurrent)"
        BATCH = "batch", "provider Batch API (not urgent)"

    status = models.CharField(max_length=20, choices=EmailRunStatus.choices, default=EmailRunStatus.QUEUED)
    mode = models.CharField(max_length=8, choices=Mode.choices, default=Mode.BULK)
    profile_ids = models.JSONField(default=list, blank=True)
    language = models.CharField(max_length=5, blank=True, help_text="Forced language; empty: each person's own.")
    mock = models.BooleanField(default=False)
    send = models.BooleanField(default=False)
    template_variables = models.JSONField(default=dict, blank=True)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0, help_text="Emails generated (or already there this week).")
    failed = models.PositiveIntegerField(default=0)
    sent = models.PositiveIntegerField(default=0)
    fallbacks = models.PositiveIntegerField(default=0)
    batch_pk = models.PositiveBigIntegerField(null=True, blank=True, help_text="The provider batch (batch mode).")
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=EmailRunStatus.values), name="email_run_status_valid"),
            models.CheckConstraint(condition=Q(mode__in=["bulk", "batch"]), name="email_run_mode_valid"),
            models.CheckConstraint(
                condition=Q(total__gte=models.F("done") + models.F("failed")),
                name="email_run_progress_bounded",
            ),
        ]

    def __str__(self) -> str:
        return f"email run #{self.pk} ({self.status}, {self.done}/{self.total})"
