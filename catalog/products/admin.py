"""Admin for products, brands, categories and their generated content.

Generated content is untrusted model output: it is rendered only through `format_html` /
`format_html_join` (every value escaped), never `mark_safe`.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db import models
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from catalog.products.models import LOCALES, Brand, Category, Product
from catalog.products.selectors import product_contents_for
from catalog.products.services.generation import (
    MAX_BATCH_ITEMS,
    product_content_batch_create,
    product_content_generate_now,
)
from catalog.products.services.regeneration import product_fallbacks_regenerate
from config.adminkit import changelist_link, error_html, links
from config.errors import DomainError

# "Generate now" runs in the request (products × 7 calls); more than this goes through a batch.
GENERATE_NOW_MAX_PRODUCTS = 20


def _render(value: Any) -> SafeString:
    """A content value as escaped HTML: objects as definition lists, lists as bullet lists."""
    if isinstance(value, dict):
        return format_html(
            "<dl>{}</dl>",
            format_html_join(
                "",
                "<dt><strong>{}</strong></dt><dd>{}</dd>",
                ((k.replace("_", " "), _render(v)) for k, v in value.items()),
            ),
        )
    if isinstance(value, list):
        if not value:
            return format_html("<em>{}</em>", "none")
        return format_html("<ul>{}</ul>", format_html_join("", "<li>{}</li>", ((_render(item),) for item in value)))
    return format_html("{}", "" if value is None else str(value))


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "brand",
        "category",
        "msrp_price",
        "processing_status",
        "locales_done",
        "processed_at",
    ]
    list_filter = ["processing_status", "category", "brand"]
    search_fields = ["name", "slug", "brand__name", "category__name"]
    list_select_related = ["brand", "category"]
    prepopulated_fields = {"slug": ["name"]}
    autocomplete_fields = ["brand", "category"]
    readonly_fields = [
        "processing_status",
        "batch_id",
        "processed_at",
        "error_message",
        "created_at",
        "updated_at",
        "generated_content",
        "related",
        "error",
    ]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "name",
                    "slug",
                    "brand",
                    "category",
                    "description",
                    "msrp_price",
                    "url_source",
                    "image_uri",
                    "specs",
                    "store_links",
                    "images",
                ]
            },
        ),
        (
            "Product document (seed 002)",
            {"fields": ["customer_reviews", "content_metadata", "qa"], "classes": ["collapse"]},
        ),
        ("Processing", {"fields": ["processing_status", "related", "processed_at", "error"]}),
        ("Generated content", {"fields": ["generated_content"]}),
        ("Timestamps", {"fields": ["created_at", "updated_at"], "classes": ["collapse"]}),
    ]
    actions = ["generate_now", "generate_via_batch", "regenerate_fallback", "regenerate_fallback_now"]
    # Django 6 makes https the default scheme of URL form fields; say so now (and silence the warning).
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def get_queryset(self, request: HttpRequest) -> QuerySet[Product]:
        # Counted in the page query itself, so the changelist stays at a fixed number of queries.
        return (
            super()
            .get_queryset(request)
            .annotate(
                n_contents=Count("contents", distinct=True),
                n_fallback=Count("contents", filter=Q(contents__is_fallback=True), distinct=True),
            )
        )

    @admin.display(description="locales (fallback)", ordering="n_contents")
    def locales_done(self, obj: Product) -> str:
        n_contents, n_fallback = obj.n_contents, obj.n_fallback  # type: ignore[attr-defined]  # get_queryset
        text = f"{n_contents}/{len(LOCALES)}"
        return f"{text} ({n_fallback})" if n_fallback else text

    @admin.display(description="batches and LLM calls")
    def related(self, obj: Product) -> str:
        """Its batches (through their items) and its ledger rows, each a link (two queries)."""
        if obj.pk is None:
            return "-"
        from django.contrib.contenttypes.models import ContentType

        from batches.models import Batch
        from llm.models import LLMCall

        content_type = ContentType.objects.get_for_model(Product)
        batches = list(
            Batch.objects.filter(items__subject_type=content_type, items__subject_id=str(obj.pk))
            .distinct()
            .order_by("-created_at")
            .only("pk", "batch_id", "name", "status")[:5]
        )
        items: list[SafeString | str] = [
            format_html(
                '<a href="{}">{}</a> ({})',
                reverse("admin:batches_batch_change", args=[b.pk]),
                b.name or b.batch_id,
                b.status,
            )
            for b in batches
        ]
        items.append(
            changelist_link(LLMCall, "its LLM calls", subject_type__id__exact=content_type.pk, subject_id=str(obj.pk))
        )
        return links(items)

    @admin.display(description="error")
    def error(self, obj: Product) -> str:
        return error_html(obj.error_message)

    @admin.display(description="content per locale")
    def generated_content(self, obj: Product) -> SafeString:
        rows = product_contents_for(product_id=obj.pk) if obj.pk else []
        if not rows:
            return format_html("<em>{}</em>", "No content generated yet.")
        blocks = []
        for row in rows:
            provenance = (
                f"{'FALLBACK (rule-based)' if row.is_fallback else 'model'} · {row.provider} / {row.model} · "
                f"task v{row.task_version} · {row.generated_at:%Y-%m-%d %H:%M %Z}"
                + (f" · ledger #{row.llm_call_id}" if row.llm_call_id else "")
            )
            body = row.content if isinstance(row.content, dict) else {"content": row.content}
            blocks.append(
                format_html(
                    "<details{}><summary><strong>{}</strong> — {}</summary>"
                    '<div class="product-content">{}</div></details>',
                    " open" if row.locale == LOCALES[0] else "",
                    row.locale,
                    provenance,
                    _render(body),
                )
            )
        return format_html_join("", "{}", ((block,) for block in blocks))

    def _ids(self, queryset: QuerySet[Product]) -> list[int]:
        return list(queryset.values_list("pk", flat=True))

    def _too_many(self, request: HttpRequest, ids: list[int]) -> bool:
        if len(ids) <= GENERATE_NOW_MAX_PRODUCTS:
            return False
        self.message_user(
            request,
            f"{len(ids)} products is more than {GENERATE_NOW_MAX_PRODUCTS} to generate in a request; "
            "use “Generate via Batch API” instead.",
            messages.WARNING,
        )
        return True

    def _report(self, request: HttpRequest, summary: Any, *, what: str) -> None:
        trouble = summary.failed or summary.fallbacks or summary.kept or summary.deferred
        level = messages.WARNING if trouble else messages.SUCCESS
        kept = f"{summary.kept} kept their model content (a fallback never replaces it), " if summary.kept else ""
        deferred = (
            f"{summary.deferred} deferred (provider unavailable; left as they were), " if summary.deferred else ""
        )
        self.message_user(
            request,
            f"{what}: {summary.requested} content(s) requested, {summary.model_written} written by the model, "
            f"{summary.fallbacks} rule-based fallback(s), {kept}{deferred}{summary.failed} failed.",
            level,
        )
        for error in summary.errors[:5]:
            self.message_user(request, error, messages.ERROR)

    @admin.action(description="Generate content now (all locales)", permissions=["change"])
    def generate_now(self, request: HttpRequest, queryset: QuerySet[Product]) -> None:
        ids = self._ids(queryset)
        if self._too_many(request, ids):
            return
        summary = product_content_generate_now(product_ids=ids, user_id=request.user.pk)
        self._report(request, summary, what="Generated now")

    def _carry(self, request: HttpRequest, batch: Any) -> HttpResponse:
        """Start carrying a batch this request created, say what happens next, and show its progress."""
        from batches.runner import batch_carry_start, batch_carry_state

        estimate = f"estimated at most ${batch.estimated_cost_usd:.2f}"
        if batch.status == batch.Status.AWAITING_APPROVAL:
            self.message_user(
                request,
                f"Batch {batch.batch_id} with {batch.item_count} line(s), {estimate}: above BATCH_APPROVAL_USD, so it "
                "waits for a staff member's approval (Batches → “Approve the estimated cost and submit”). Nothing "
                "is sent before.",
                messages.WARNING,
            )
        else:
            how = batch_carry_start(batch=batch)
            _, error = batch_carry_state(batch_pk=batch.pk)
            if error:
                self.message_user(request, f"Batch {batch.batch_id}: {error}", messages.ERROR)
            after = {
                "celery": "queued for submission; the scheduler polls the provider every minute and ingests it.",
                "inline": "carried through in this request (no broker).",
            }.get(how, "this server submits it, polls the provider and ingests the results (no broker).")
            self.message_user(
                request,
                f"Batch {batch.batch_id} with {batch.item_count} line(s), {estimate}: {after}",
                messages.SUCCESS,
            )
        return HttpResponseRedirect(reverse("admin:batches_batch_progress", args=[batch.pk]))

    def _regenerate(self, request: HttpRequest, queryset: QuerySet[Product], *, urgent: bool) -> HttpResponse | None:
        try:
            report = product_fallbacks_regenerate(
                urgent=urgent, product_ids=self._ids(queryset), created_by=request.user
            )
        except DomainError as exc:  # another run holds the lease, or the batch was refused
            self.message_user(request, f"Nothing regenerated: {exc.message}", messages.ERROR)
            return None
        if report.mode == "none":
            self.message_user(request, report.reason, messages.INFO if not report.fallback_pairs else messages.WARNING)
            return None
        trouble = report.left_for_later or report.already_queued
        if report.generation is not None:
            g = report.generation
            trouble = trouble or g.deferred or g.failed or g.fallbacks
        self.message_user(request, report.describe(), messages.WARNING if trouble else messages.SUCCESS)
        return self._carry(request, report.batch) if report.batch is not None else None

    @admin.action(
        description="Regenerate fallback content via Batch API (only rule-based locales, within today's budget)",
        permissions=["change"],
    )
    def regenerate_fallback(self, request: HttpRequest, queryset: QuerySet[Product]) -> HttpResponse | None:
        return self._regenerate(request, queryset, urgent=False)

    @admin.action(
        description="Regenerate fallback content now (urgent: full price, within today's budget)",
        permissions=["change"],
    )
    def regenerate_fallback_now(self, request: HttpRequest, queryset: QuerySet[Product]) -> HttpResponse | None:
        if self._too_many(request, self._ids(queryset)):
            return None
        return self._regenerate(request, queryset, urgent=True)

    @admin.action(description="Generate via Batch API (all locales, half price)", permissions=["change"])
    def generate_via_batch(self, request: HttpRequest, queryset: QuerySet[Product]) -> HttpResponse | None:
        try:
            batch = product_content_batch_create(
                product_ids=self._ids(queryset), created_by=request.user, max_items=MAX_BATCH_ITEMS
            )
        except DomainError as exc:
            self.message_user(request, f"No batch created: {exc.message}", messages.ERROR)
            return None
        return self._carry(request, batch)


@admin.register(Brand)
class BrandAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "product_count"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}

    def get_queryset(self, request: HttpRequest) -> QuerySet[Brand]:
        return super().get_queryset(request).annotate(product_count=Count("products"))

    @admin.display(description="products", ordering="product_count")
    def product_count(self, obj: Brand) -> int:
        return obj.product_count  # type: ignore[attr-defined]  # annotated by get_queryset


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "product_count"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}

    def get_queryset(self, request: HttpRequest) -> QuerySet[Category]:
        return super().get_queryset(request).annotate(product_count=Count("products"))

    @admin.display(description="products", ordering="product_count")
    def product_count(self, obj: Category) -> int:
        return obj.product_count  # type: ignore[attr-defined]  # annotated by get_queryset
