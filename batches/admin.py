"""Admin for batches: progress and cost at a glance, parts with their files, items (limited inline,
paginated in their own list), and thin actions that call the services.

Model output (`output_summary`, provider error text) is untrusted: shown only through Django's
autoescaping or `format_html`.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import admin, messages
from django.db.models import F, Q, QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from batches.models import Batch, BatchItem, BatchPart
from batches.runner import batch_carry_start, batch_carry_state, batch_needs_carrying, batch_run_mode
from batches.selectors import BatchProgress, batch_progress, batches_list
from batches.services import batch_approve, batch_cancel, batch_poll, batch_retry_failed, batch_submit_check
from batches.services.common import ACTIVE, FILE_KINDS, FINISHED, part_path
from config.adminkit import error_html, object_link, progress_bar
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
    fields = readonly_fields = (
        "number",
        "status",
        "line_count",
        "byte_size",
        "provider_job_id",
        "request_total",
        "request_completed",
        "request_failed",
        "create_attempts",
        "error",
        "files",
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[BatchPart]:
        return super().get_queryset(request).select_related("batch")  # file paths use batch_id

    @admin.display(description="error")
    def error(self, part: BatchPart) -> str:
        return error_html(part.error_message)

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
    fields = readonly_fields = (
        "custom_id",
        "status",
        "attempts",
        "error_class",
        "error",
        "output_summary",
        "is_fallback",
        "applied_at",
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[BatchItem]:
        return super().get_queryset(request).defer("input")

    @admin.display(description="error")
    def error(self, item: BatchItem) -> str:
        return error_html(item.error_message)


class BatchOutcomeFilter(admin.SimpleListFilter):
    """Where a batch stands for a person: the provider's "failed" status is rare (a failed batch is
    ingested like any other, its items failing with reasons), so "with failures" reads the items."""

    title = "outcome"
    parameter_name = "outcome"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [
            ("in_flight", "in flight"),
            ("awaiting_approval", "awaiting approval"),
            ("with_failures", "with failed items"),
            ("all_applied", "every item applied"),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Batch]) -> QuerySet[Batch]:
        done = Q(status=Batch.Status.INGESTED) | Q(status=Batch.Status.CANCELLED, ingested_at__isnull=False)
        match self.value():
            case "in_flight":
                return queryset.exclude(done)
            case "awaiting_approval":
                return queryset.filter(status=Batch.Status.AWAITING_APPROVAL)
            case "with_failures":
                return queryset.filter(items_failed__gt=0)
            case "all_applied":
                return queryset.filter(done, items_failed=0, items_applied=F("item_count") - F("items_resubmitted"))
        return queryset


@admin.register(Batch)
class BatchAdmin(admin.ModelAdmin):
    list_display = [
        "batch_id",
        "name",
        "task_name",
        "provider",
        "status_pill",
        "progress",
        "request_progress",
        "estimated_cost_usd",
        "cost_usd",
        "retry_of",
        "created_at",
    ]
    list_filter = [BatchOutcomeFilter, "status", "task_name", "provider", "created_at"]
    search_fields = ["batch_id", "name", "parts__provider_job_id"]
    list_select_related = ["retry_of"]
    date_hierarchy = "created_at"
    inlines = [BatchPartInline, BatchItemInline]
    actions = ["submit", "approve", "poll_now", "ingest", "cancel", "retry_failed"]
    exclude = ["created_by"]
    readonly_fields = [
        "batch_id",
        "name",
        "task_name",
        "task_version",
        "provider",
        "model",
        "status",
        "next_step",
        "progress",
        "all_items",
        "item_count",
        "items_applied",
        "items_failed",
        "items_resubmitted",
        "request_total",
        "request_completed",
        "request_failed",
        "estimated_cost_usd",
        "approved_at",
        "approved_by",
        "tokens_in",
        "tokens_out",
        "cost_usd",
        "error",
        "created_at",
        "submitted_at",
        "completed_at",
        "ingested_at",
        "last_polled_at",
        "cancel_requested_at",
        "retry_of",
    ]
    fieldsets = [
        (None, {"fields": ["batch_id", "name", "task_name", "task_version", "provider", "model", "retry_of"]}),
        ("Where it stands", {"fields": ["status", "next_step", "progress", "all_items", "error"]}),
        (
            "Money",
            {"fields": ["estimated_cost_usd", "approved_at", "approved_by", "tokens_in", "tokens_out", "cost_usd"]},
        ),
        (
            "Counts",
            {
                "fields": [
                    "item_count",
                    "items_applied",
                    "items_failed",
                    "items_resubmitted",
                    "request_total",
                    "request_completed",
                    "request_failed",
                ],
                "classes": ["collapse"],
            },
        ),
        (
            "Times",
            {
                "fields": [
                    "created_at",
                    "submitted_at",
                    "completed_at",
                    "ingested_at",
                    "last_polled_at",
                    "cancel_requested_at",
                ],
                "classes": ["collapse"],
            },
        ),
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Batch]:
        return batches_list().select_related("approved_by")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # batches come from domain services (a task and its inputs), not a form

    @admin.display(description="status", ordering="status")
    def status_pill(self, batch: Batch) -> str:
        return format_html('<span class="co-pill co-pill-{}">{}</span>', batch.status, batch.get_status_display())

    @admin.display(description="items applied / failed / total")
    def progress(self, batch: Batch) -> str:
        resubmitted = f" (+{batch.items_resubmitted} resubmitted)" if batch.items_resubmitted else ""
        return format_html(
            "{} {}",
            progress_bar(batch.items_applied, batch.item_count, failed=batch.items_failed),
            f"{batch.items_applied} / {batch.items_failed} / {batch.item_count}{resubmitted}",
        )

    @admin.display(description="provider done / total")
    def request_progress(self, batch: Batch) -> str:
        return f"{batch.request_completed + batch.request_failed} / {batch.request_total}"

    @admin.display(description="all items")
    def all_items(self, batch: Batch) -> str:
        url = reverse("admin:batches_batchitem_changelist") + f"?batch__id__exact={batch.pk}"
        failed = reverse("admin:batches_batchitem_changelist") + f"?batch__id__exact={batch.pk}&status__exact=failed"
        return format_html(
            '<a href="{}">all {} items</a> · <a href="{}">failed ones</a> · <a href="{}">progress page</a>',
            url,
            batch.item_count,
            failed,
            reverse("admin:batches_batch_progress", args=[batch.pk]),
        )

    @admin.display(description="next step")
    def next_step(self, batch: Batch) -> str:
        running, error = batch_carry_state(batch_pk=batch.pk)
        return batch_progress(batch=batch, mode=batch_run_mode(), carrying=running, error=error).next_step

    @admin.display(description="error")
    def error(self, batch: Batch) -> str:
        return error_html(batch.error_message)

    # --- files and progress ----------------------------------------------------------------------

    def get_urls(self) -> list:
        view = self.admin_site.admin_view
        return [
            path("<int:batch_pk>/file/<int:number>/<str:kind>/", view(self.file_view), name="batches_batch_file"),
            path("<int:batch_pk>/progress/", view(self.progress_view), name="batches_batch_progress"),
            path("<int:batch_pk>/progress.json", view(self.progress_json), name="batches_batch_progress_json"),
            *super().get_urls(),
        ]

    def file_view(self, request: HttpRequest, batch_pk: int, number: int, kind: str) -> FileResponse:
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

    def _progress(self, batch_pk: int) -> BatchProgress:
        batch = Batch.objects.filter(pk=batch_pk).first()
        if batch is None:
            raise Http404
        if batch_needs_carrying(batch=batch):
            # Embedded mode and nobody at it (e.g. the server restarted): this process picks it up again.
            batch_carry_start(batch=batch)
        running, error = batch_carry_state(batch_pk=batch.pk)
        return batch_progress(batch=batch, mode=batch_run_mode(), carrying=running, error=error)

    def progress_view(self, request: HttpRequest, batch_pk: int) -> HttpResponse:
        if not self.has_view_permission(request):
            raise Http404
        progress = self._progress(batch_pk)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Batch {progress.batch.name or progress.batch.batch_id}",
            "opts": self.model._meta,
            "progress": progress,
            "state": progress.as_json(),
            "status_url": reverse("admin:batches_batch_progress_json", args=[batch_pk]),
            "change_url": reverse("admin:batches_batch_change", args=[batch_pk]),
            "mode": batch_run_mode(),
        }
        return TemplateResponse(request, "admin/batches/batch/progress.html", context)

    def progress_json(self, request: HttpRequest, batch_pk: int) -> JsonResponse:
        if not self.has_view_permission(request):
            raise Http404
        state = self._progress(batch_pk).as_json()
        if state["follow_up_pk"]:
            state["follow_up_url"] = reverse("admin:batches_batch_progress", args=[state["follow_up_pk"]])
        return JsonResponse(state)

    # --- actions: each checks the state first, says what it did and what happens next ------------

    def _refuse(self, request: HttpRequest, batch: Batch, reason: str) -> None:
        self.message_user(request, f"{batch.batch_id}: not done: {reason}", messages.ERROR)

    def _carried(self, request: HttpRequest, batches: list[Batch], did: str) -> HttpResponse | None:
        """Start carrying each batch through; say how; with one batch, open its progress page."""
        if not batches:
            return None
        modes = {batch.batch_id: batch_carry_start(batch=batch) for batch in batches}
        errors = []
        for batch in batches:
            _, error = batch_carry_state(batch_pk=batch.pk)
            if error:
                errors.append(f"{batch.batch_id}: {error}")
        names = ", ".join(modes)
        mode = batch_run_mode()
        if mode == "celery":
            after = (
                "Workers take it from here: the scheduler polls the provider every minute and ingests the results; "
                "the progress page shows each step."
            )
        elif set(modes.values()) <= {"inline", "finished"}:
            after = "It ran to the end in this request (no broker)."
        else:
            after = (
                "No broker is configured, so this server carries it through itself (submit → poll every "
                f"{settings.ADMIN_BATCH_POLL_INTERVAL_S:g} s → ingest); keep the progress page open to watch it."
            )
        for line in errors:
            self.message_user(request, line, messages.ERROR)
        self.message_user(request, f"{did} {len(batches)} batch(es) ({names}). {after}", messages.SUCCESS)
        if len(batches) == 1:
            return HttpResponseRedirect(reverse("admin:batches_batch_progress", args=[batches[0].pk]))
        return None

    @admin.action(description="Submit and follow to the end", permissions=["change"])
    def submit(self, request: HttpRequest, queryset: QuerySet[Batch]) -> HttpResponse | None:
        ready = []
        for batch in queryset:
            try:
                batch_submit_check(batch=batch)
            except DomainError as exc:
                self._refuse(request, batch, exc.message)
                continue
            ready.append(batch)
        return self._carried(request, ready, "Submitting")

    @admin.action(description="Approve the estimated cost and submit", permissions=["change"])
    def approve(self, request: HttpRequest, queryset: QuerySet[Batch]) -> HttpResponse | None:
        approved = []
        for batch in queryset:
            if batch.status != Batch.Status.AWAITING_APPROVAL:
                self._refuse(request, batch, f"it is {batch.get_status_display()}, not awaiting approval.")
                continue
            try:
                approved.append(batch_approve(batch=batch, user=request.user))
            except DomainError as exc:
                self._refuse(request, batch, exc.message)
        total = sum(batch.estimated_cost_usd for batch in approved)
        if approved:
            self.message_user(request, f"Approved an estimated ${total:.2f} in total.", messages.INFO)
        return self._carried(request, approved, "Approved and submitting")

    @admin.action(description="Poll the provider now", permissions=["change"])
    def poll_now(self, request: HttpRequest, queryset: QuerySet[Batch]) -> HttpResponse | None:
        polled = []
        for batch in queryset:
            if batch.provider == "offline":
                self._refuse(request, batch, "it runs on the offline provider: answered locally, nothing to poll.")
                continue
            if batch.status not in ACTIVE:
                self._refuse(
                    request, batch, f"it is {batch.get_status_display()}: nothing is running at the provider."
                )
                continue
            try:
                polled.append(batch_poll(batch=batch, min_interval_s=0))
            except DomainError as exc:
                self._refuse(request, batch, exc.message)
        if polled:
            states = ", ".join(f"{b.batch_id} is {b.get_status_display()}" for b in polled)
            self.message_user(request, f"Polled {len(polled)} batch(es): {states}.", messages.SUCCESS)
            finished = [b for b in polled if b.status in FINISHED]
            return self._carried(request, finished, "Ingesting") if finished else None
        return None

    @admin.action(description="Ingest results", permissions=["change"])
    def ingest(self, request: HttpRequest, queryset: QuerySet[Batch]) -> HttpResponse | None:
        ready = []
        for batch in queryset:
            if batch.ingested_at is not None:
                self._refuse(request, batch, f"already ingested on {batch.ingested_at:%Y-%m-%d %H:%M} UTC.")
            elif batch.status not in FINISHED:
                self._refuse(
                    request, batch, f"the provider has not finished it ({batch.get_status_display()}); poll it first."
                )
            else:
                ready.append(batch)
        return self._carried(request, ready, "Ingesting")

    @admin.action(description="Cancel", permissions=["change"])
    def cancel(self, request: HttpRequest, queryset: QuerySet[Batch]) -> HttpResponse | None:
        at_provider = []
        for batch in queryset:
            before = batch.status
            try:
                batch = batch_cancel(batch=batch)
            except DomainError as exc:
                self._refuse(request, batch, exc.message)
                continue
            if batch.status == Batch.Status.CANCELLED and before != Batch.Status.CANCELLING:
                self.message_user(
                    request,
                    f"Cancelled {batch.batch_id} before it was sent: its {batch.item_count} item(s) failed as "
                    "cancelled (“Retry failed items” sends them in a new batch).",
                    messages.SUCCESS,
                )
            else:
                at_provider.append(batch)
        return self._carried(request, at_provider, "Cancel requested at the provider for")

    @admin.action(description="Retry failed items (new batch)", permissions=["change"])
    def retry_failed(self, request: HttpRequest, queryset: QuerySet[Batch]) -> HttpResponse | None:
        retries = []
        for batch in queryset:
            if batch.ingested_at is None:
                self._refuse(request, batch, f"it is {batch.get_status_display()}; retry once it is ingested.")
                continue
            if not batch.items_failed:
                self._refuse(request, batch, "none of its items failed.")
                continue
            try:
                retries.append(batch_retry_failed(batch=batch))
            except DomainError as exc:
                self._refuse(request, batch, exc.message)
        return self._carried(request, retries, "Created retry batches and submitting")


@admin.register(BatchItem)
class BatchItemAdmin(admin.ModelAdmin):
    """Every item of every batch, paginated (the batch page shows only the first few)."""

    list_display = [
        "custom_id",
        "batch",
        "status",
        "attempts",
        "error_class",
        "error",
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
        "subject",
        "input",
        "status",
        "attempts",
        "error_class",
        "error",
        "output_summary",
        "is_fallback",
        "applied_at",
        "llm_call",
        "retry_of",
    ]
    exclude = ["subject_type", "subject_id", "error_message"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[BatchItem]:
        return super().get_queryset(request).defer("input")  # can be large; the change page loads it

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: BatchItem | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: BatchItem | None = None) -> bool:
        return False

    @admin.display(description="error")
    def error(self, item: BatchItem) -> str:
        return error_html(item.error_message)

    @admin.display(description="for")
    def subject(self, item: BatchItem) -> str:
        return object_link(item.subject) if item.subject_type_id else "-"
