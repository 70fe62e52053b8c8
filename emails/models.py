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
