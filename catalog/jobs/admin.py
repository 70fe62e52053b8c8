"""Admin for job feeds and listings.

Feed text (titles, descriptions, errors) is untrusted: shown only through autoescaping.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.validators import URLValidator
from django.db import models
from django.db.models import Count, QuerySet
from django.forms import Field
from django.http import HttpRequest
from django.utils.text import Truncator

from catalog.jobs.models import JobFeed, JobListing
from catalog.jobs.services import FeedFileError, job_feed_file_path
from catalog.jobs.tasks import job_feeds_refresh_request


class _HttpsURLs:
    """URL inputs without a scheme mean https (Django 6's default; silences its deprecation warning)."""

    def formfield_for_dbfield(self, db_field: models.Field, request: HttpRequest, **kwargs: Any) -> Field | None:
        if isinstance(db_field, models.URLField):
            kwargs.setdefault("assume_scheme", "https")
        return super().formfield_for_dbfield(db_field, request, **kwargs)  # type: ignore[misc]  # a ModelAdmin mixin


class JobFeedForm(forms.ModelForm):
    """A feed URL is http(s), or `file://` inside FEED_FILE_ROOTS (the bundled demo feeds): the model's
    URLField knows only web schemes, so the address is checked here instead."""

    url = forms.CharField(
        max_length=500,
        help_text="https://… for a web feed; file:///… for a feed file inside FEED_FILE_ROOTS (the demo feeds).",
        widget=forms.TextInput(attrs={"size": 80}),
    )

    class Meta:
        model = JobFeed
        fields = ["name", "url", "active"]

    def clean_url(self) -> str:
        url = self.cleaned_data["url"].strip()
        if url.lower().startswith("file:"):
            try:
                job_feed_file_path(url=url)
            except FeedFileError as exc:
                raise forms.ValidationError(str(exc)) from exc
            return url
        if "://" not in url:
            url = f"https://{url}"
        URLValidator(schemes=["http", "https"])(url)
        return url

    def _get_validation_exclusions(self) -> set[str]:
        # Checked by clean_url (file:// too); the private hook is missing from the stubs.
        return {*super()._get_validation_exclusions(), "url"}  # type: ignore[misc]


@admin.register(JobFeed)
class JobFeedAdmin(_HttpsURLs, admin.ModelAdmin):
    form = JobFeedForm
    list_display = [
        "name",
        "url",
        "active",
        "last_status",
        "last_fetched_at",
        "last_success_at",
        "last_summary",
        "error_preview",
        "listing_count",
    ]
    list_filter = ["active", "last_status"]
    search_fields = ["name", "url"]
    readonly_fields = [
        "etag",
        "last_modified",
        "last_fetched_at",
        "last_success_at",
        "last_status",
        "last_summary",
        "last_error",
        "last_problems",
        "created_at",
    ]
    fields = ["name", "url", "active", *readonly_fields]
    actions = ["refresh_now"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[JobFeed]:
        # The listing count comes with the page query: one query however many feeds are shown.
        return super().get_queryset(request).annotate(_listing_count=Count("listings"))

    @admin.display(description="listings", ordering="_listing_count")
    def listing_count(self, feed: JobFeed) -> int:
        return feed._listing_count  # type: ignore[attr-defined]  # annotated by get_queryset

    @admin.display(description="last error")
    def error_preview(self, feed: JobFeed) -> str:
        return Truncator(feed.last_error).chars(80) if feed.last_error else "-"

    @admin.action(description="Refresh now")
    def refresh_now(self, request: HttpRequest, queryset: QuerySet[JobFeed]) -> None:
        outcome = job_feeds_refresh_request(feed_ids=list(queryset.values_list("pk", flat=True)))
        report = outcome.report
        if outcome.queued or report is None:  # no report: queued
            self.message_user(request, f"Refresh queued (task {outcome.task_id}).", messages.INFO)
            return
        level = messages.WARNING if report.errors else messages.SUCCESS
        self.message_user(
            request,
            f"Refreshed {len(report.feeds)} feed(s): {report.new} new, {report.updated} updated, "
            f"{report.unchanged} unchanged, {report.errors} error(s).",
            level,
        )


@admin.register(JobListing)
class JobListingAdmin(_HttpsURLs, admin.ModelAdmin):
    list_display = [
        "title",
        "company",
        "location",
        "remote",
        "salary",
        "feed",
        "posted_at",
        "language",
        "active",
        "is_editorial_pick",
    ]
    list_filter = ["remote", "active", "is_editorial_pick", "language", "feed"]
    list_editable = ["active", "is_editorial_pick"]
    list_select_related = ["feed"]
    search_fields = ["title", "company", "location", "guid"]
    date_hierarchy = "posted_at"
    readonly_fields = [
        "feed",
        "guid",
        "skills",
        "language",
        "application_count",
        "click_count",
        "created_at",
        "updated_at",
    ]
    actions = ["mark_editorial_pick", "deactivate"]

    @admin.display(description="salary")
    def salary(self, listing: JobListing) -> str:
        if listing.salary_min is None and listing.salary_max is None:
            return "-"
        low = f"{listing.salary_min:,.0f}" if listing.salary_min is not None else ""
        high = f"{listing.salary_max:,.0f}" if listing.salary_max is not None else ""
        span = low if low == high else f"{low}–{high}"
        return f"{span} {listing.salary_currency}/{listing.salary_period or 'year'}"

    @admin.action(description="Mark as editorial pick")
    def mark_editorial_pick(self, request: HttpRequest, queryset: QuerySet[JobListing]) -> None:
        updated = queryset.update(is_editorial_pick=True)
        self.message_user(request, f"{updated} listing(s) marked as editorial picks.", messages.SUCCESS)

    @admin.action(description="Deactivate (hide from matching and the API)")
    def deactivate(self, request: HttpRequest, queryset: QuerySet[JobListing]) -> None:
        updated = queryset.update(active=False)
        self.message_user(request, f"{updated} listing(s) deactivated.", messages.SUCCESS)
