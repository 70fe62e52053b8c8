"""Jobs: feeds of job postings and the listings they bring (app label `catalog`)."""

from django.db import models
from django.db.models import F, Q


class JobFeed(models.Model):
    """An RSS/Atom feed of job postings, fetched with conditional GET."""

    class FetchStatus(models.TextChoices):
        NEVER = "never", "never fetched"
        OK = "ok", "ok"
        NOT_MODIFIED = "not_modified", "not modified (304)"
        ERROR = "error", "error"

    url = models.URLField(max_length=500, unique=True)
    name = models.CharField(max_length=200)
    active = models.BooleanField(default=True)
    etag = models.CharField(max_length=255, blank=True)
    last_modified = models.CharField(max_length=100, blank=True)
    last_fetched_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    last_status = models.CharField(
        max_length=20, choices=FetchStatus.choices, default=FetchStatus.NEVER, help_text="Outcome of the last fetch."
    )
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_summary = models.CharField(max_length=200, blank=True, help_text="Counts of the last fetch.")
    last_problems = models.JSONField(
        default=list,
        blank=True,
        help_text="Items of the last fetch that were skipped or stored with corrections.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(last_status__in=["never", "ok", "not_modified", "error"]), name="job_feed_last_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class JobListing(models.Model):
    """A job posting from a feed (or entered by staff), deduplicated on (feed, guid)."""

    class SalaryPeriod(models.TextChoices):
        YEAR = "year", "per year"
        DAY = "day", "per day"
        HOUR = "hour", "per hour"

    feed = models.ForeignKey(JobFeed, null=True, blank=True, on_delete=models.SET_NULL, related_name="listings")
    guid = models.CharField(max_length=500)
    title = models.CharField(max_length=300)
    company = models.CharField(max_length=200, blank=True)
    location = models.CharField(max_length=200, blank=True)
    remote = models.BooleanField(default=False)
    salary_min = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    salary_max = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    salary_currency = models.CharField(max_length=3, blank=True)
    # Amounts are per year, monthly pay ×12; hourly/daily pay is kept as stated (catalog/jobs/parsing.py).
    salary_period = models.CharField(max_length=4, choices=SalaryPeriod.choices, blank=True)
    description = models.TextField(blank=True)
    url = models.URLField(max_length=1000, blank=True)
    posted_at = models.DateTimeField(null=True, blank=True, db_index=True)
    skills = models.JSONField(default=list, blank=True, help_text="Skills extracted at ingest.")
    language = models.CharField(max_length=8, blank=True, help_text="Language of the posting (en, ja), detected.")
    is_editorial_pick = models.BooleanField(default=False)
    # Counted by profiles (feedback "applied") and emails (a tracked click), with F() updates; they
    # feed the popular and you-might-like sections of the job emails.
    application_count = models.PositiveIntegerField(default=0)
    click_count = models.PositiveIntegerField(default=0)
    active = models.BooleanField(default=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-posted_at", "-id"]
        # The API's jobs pages (job_listings_list) read the partial index job_listing_active_newest
        # (active, posted_at DESC NULLS LAST, id DESC), made by migration catalog 0007: one definition
        # cannot serve PostgreSQL and SQLite.
        constraints = [
            models.UniqueConstraint(fields=["feed", "guid"], name="job_listing_unique_feed_guid"),
            models.CheckConstraint(
                condition=Q(salary_min__isnull=True) | Q(salary_max__isnull=True) | Q(salary_min__lte=F("salary_max")),
                name="job_listing_salary_range_ordered",
            ),
            models.CheckConstraint(
                condition=Q(salary_period__in=["", "year", "day", "hour"]), name="job_listing_salary_period_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} — {self.company}"
