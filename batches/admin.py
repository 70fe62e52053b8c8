"""Admin for batches: progress and cost at a glance, parts with their files, items (limited inline,
paginated in their own list), and thin actions that call the services.

Model output (`output_summary`, provider error text) is untrusted: shown only through Django's
autoescaping or `format_html`.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from batches.models import Batch, BatchItem, BatchPart
from batches.selectors import batches_list
from batches.services import batch_cancel, batch_poll
from batches.services.common import FILE_KINDS, part_path
from batches.tasks import batch_ingest_enqueue, batch_retry_failed_enqueue, batch_submit_enqueue
from config.errors import DomainError

ITEMS_SHOWN = 50


class _FirstItemsFormSet(BaseInlineFormSet):
    """Only the first ITEMS_SHOWN items: a 50,000-item batch must not render 50,000 rows."""

    def get_queryset(self) -> QuerySet[BatchItem]:
        if not hasattr(self, "_first_items"):
            self._first_items = super().get_queryset().order_by("pk")[:ITEMS_SHOWN]
        return self._first_items


class _ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class BatchPartInline(_ReadOnlyInline):
    model = BatchPart
    fields = readonly_fields = [
        "number",
        "status",
        "line_count",
        "byte_size",
        "provider_job_id",
        "request_total",
        "request_completed",
        "request_failed",
        "create_attempts",
        "error_message",
        "files",
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[BatchPart]:
        return super().get_queryset(request).select_related("batch")  # file paths use batch_id

    @admin.display(description="files")
    def files(self, part: BatchPart) -> str:
        links = [
            (reverse("admin:batches_batch_file", args=[part.batch_id, part.number, kind]), kind)
            for kind in FILE_KINDS
            if part_path(part, kind).exists()
        ]
        return format_html_join(" · ", '<a href="{}">{}</a>', links) or "-"


class BatchItemInline(_ReadOnlyInline):
    model = BatchItem
    formset = _FirstItemsFormSet
    verbose_name_plural = f"items (first {ITEMS_SHOWN}; all of them under “Batch items”)"
    fields = readonly_fields = [
        "custom_id",
        "status",
        "attempts",
        "error_class",
        "error_message",
        "output_summary",
        "is_fallback",
        "applied_at",
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[BatchItem]:
        return super().get_queryset(request).defer("input")


@admin.register(Batch)
class BatchAdmin(admin.ModelAdmin):
    list_display = [
        "batch_id",
        "name",
        "task_name",
        "provider",
        "status",
        "progress",
        "request_progress",
        "cost_usd",
        "retry_of",
        "created_at",
    ]
    list_filter = ["status", "task_name", "provider", "created_at"]
    search_fields = ["batch_id", "name", "parts__provider_job_id"]
    list_select_related = ["retry_of"]
    date_hierarchy = "created_at"
    inlines = [BatchPartInline, BatchItemInline]
    actions = ["submit", "poll_now", "ingest", "cancel", "retry_failed"]
    exclude = ["created_by"]
    readonly_fields = [
        "batch_id",
        "name",
        "task_name",
        "task_version",
        "provider",
        "model",
        "status",
        "progress",
        "all_items",
        "item_count",
        "items_applied",
        "items_failed",
        "items_resubmitted",
        "request_total",
        "request_completed",
        "request_failed",
        "tokens_in",
        "tokens_out",
        "cost_usd",
        "error_message",
        "created_at",
        "submitted_at",
        "completed_at",
        "ingested_at",
        "last_polled_at",
        "cancel_requested_at",
        "retry_of",
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Batch]:
        return batches_list()

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # batches come from domain services (a task and its inputs), not a form

    @admin.display(description="items applied / failed / total")
    def progress(self, batch: Batch) -> str:
        resubmitted = f" (+{batch.items_resubmitted} resubmitted)" if batch.items_resubmitted else ""
        return f"{batch.items_applied} / {batch.items_failed} / {batch.item_count}{resubmitted}"

    @admin.display(description="provider done / total")
    def request_progress(self, batch: Batch) -> str:
        return f"{batch.request_completed + batch.request_failed} / {batch.request_total}"

    @admin.display(description="all items")
    def all_items(self, batch: Batch) -> str:
        url = reverse("admin:batches_batchitem_changelist") + f"?batch__id__exact={batch.pk}"
        return format_html('<a href="{}">all {} items</a>', url, batch.item_count)

    # --- files -------------------------------------------------------------------------------

    def get_urls(self) -> list:
        view = self.admin_site.admin_view(self.file_view)
        return [
            path("<int:batch_pk>/file/<int:number>/<str:kind>/", view, name="batches_batch_file"),
            *super().get_urls(),
        ]

    def file_view(self, request: HttpRequest, batch_pk: int, number: int, kind: str) -> HttpResponse:
        """Stream a part's input, output or error JSONL from disk (paths come from our ids only)."""
        if not self.has_view_permission(request) or kind not in FILE_KINDS:
            raise Http404
        part = BatchPart.objects.select_related("batch").filter(batch_id=batch_pk, number=number).first()
        if part is None:
            raise Http404
        file_path = part_path(part, kind)
        if not file_path.exists():
            raise Http404("This file is not on disk (not built, or not downloaded yet).")
        filename = f"{part.batch.batch_id}-{file_path.name}"
        return FileResponse(
            file_path.open("rb"), as_attachment=True, filename=filename, content_type="application/jsonl"
        )

    # --- actions: thin, one service each -------------------------------------------------------

    def _each(self, request: HttpRequest, queryset: QuerySet[Batch], verb: str, call: Any) -> None:
        done = 0
        for batch in queryset:
            try:
                call(batch)
                done += 1
            except DomainError as exc:
                self.message_user(request, f"{batch.batch_id}: {exc.message}", messages.ERROR)
        if done:
            self.message_user(request, f"{verb} {done} batch(es).", messages.SUCCESS)

    @admin.action(description="Submit to the provider", permissions=["change"])
    def submit(self, request: HttpRequest, queryset: QuerySet[Batch]) -> None:
        self._each(request, queryset, "Queued submission of", lambda b: batch_submit_enqueue(batch=b))

    @admin.action(description="Poll the provider now", permissions=["change"])
    def poll_now(self, request: HttpRequest, queryset: QuerySet[Batch]) -> None:
        self._each(request, queryset, "Polled", lambda b: batch_poll(batch=b, min_interval_s=0))

    @admin.action(description="Ingest results", permissions=["change"])
    def ingest(self, request: HttpRequest, queryset: QuerySet[Batch]) -> None:
        self._each(request, queryset, "Queued ingest of", lambda b: batch_ingest_enqueue(batch=b))

    @admin.action(description="Cancel", permissions=["change"])
    def cancel(self, request: HttpRequest, queryset: QuerySet[Batch]) -> None:
        self._each(request, queryset, "Cancelled", lambda b: batch_cancel(batch=b))

    @admin.action(description="Retry failed items (new batch)", permissions=["change"])
    def retry_failed(self, request: HttpRequest, queryset: QuerySet[Batch]) -> None:
        self._each(
            request, queryset, "Resubmitted the failed items of", lambda b: batch_retry_failed_enqueue(batch=b)
        )


@admin.register(BatchItem)
class BatchItemAdmin(admin.ModelAdmin):
    """Every item of every batch, paginated (the batch page shows only the first few)."""

    list_display = [
        "custom_id",
        "batch",
        "status",
        "attempts",
        "error_class",
        "error_message",
        "is_fallback",
        "applied_at",
    ]
    list_filter = ["status", "error_class", "is_fallback"]
    search_fields = ["custom_id", "batch__batch_id"]
    list_select_related = ["batch"]
    show_full_result_count = False
    list_per_page = 100
    readonly_fields = [
        "batch",
        "part",
        "custom_id",
        "subject_type",
        "subject_id",
        "input",
        "status",
        "attempts",
        "error_class",
        "error_message",
        "output_summary",
        "is_fallback",
        "applied_at",
        "llm_call",
        "retry_of",
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[BatchItem]:
        return super().get_queryset(request).defer("input")  # can be large; the change page loads it

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: BatchItem | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: BatchItem | None = None) -> bool:
        return False
