"""Admin for the usage ledger (read-only) and Responses API conversations.

Model output is untrusted text: it is only ever shown through Django's autoescaping or
`format_html`, never `mark_safe`.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html
from django.utils.text import Truncator

from config.adminkit import error_html
from llm.models import Conversation, ConversationTurn, LLMCall
from llm.selectors import llm_call_totals, llm_calls_list

OUTPUT_PREVIEW_CHARS = 200


def _subject_link(*, subject_type: Any, subject_id: str) -> str:
    """`app.model #id`, linked to its admin page when it has one; uses only joined columns (no query)."""
    if subject_type is None or not subject_id:
        return "-"
    label = f"{subject_type.app_label}.{subject_type.model} #{subject_id}"
    try:
        url = reverse(f"admin:{subject_type.app_label}_{subject_type.model}_change", args=[subject_id])
    except NoReverseMatch:
        return label
    return format_html('<a href="{}">{}</a>', url, label)


@admin.register(LLMCall)
class LLMCallAdmin(admin.ModelAdmin):
    list_display = [
        "task",
        "task_version",
        "provider",
        "model",
        "mode",
        "status",
        "attempts",
        "tokens_in",
        "tokens_out",
        "cost_usd",
        "latency_ms",
        "error_class",
        "subject",
        "created_at",
    ]
    list_filter = ["status", "mode", "provider", "task", "model", "created_at"]
    date_hierarchy = "created_at"
    search_fields = ["task", "error_class", "error_message", "request_id"]
    list_select_related = ["subject_type", "user"]
    # The change page: what it was for (linked) and a human error with the raw text folded away.
    readonly_fields = ["subject", "error"]
    exclude = ["subject_type", "subject_id", "error_message"]
    # The ledger grows without bound; a second unfiltered COUNT(*) per page view buys nothing.
    show_full_result_count = False
    list_per_page = 100

    def get_queryset(self, request: HttpRequest) -> QuerySet[LLMCall]:
        return llm_calls_list()

    # The ledger is an audit record written only by the runtime: view, never add/edit/delete.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: LLMCall | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: LLMCall | None = None) -> bool:
        return False

    @admin.display(description="subject")
    def subject(self, obj: LLMCall) -> str:
        return _subject_link(subject_type=obj.subject_type, subject_id=obj.subject_id)

    @admin.display(description="error")
    def error(self, obj: LLMCall) -> str:
        return error_html(obj.error_message)

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        response = super().changelist_view(request, extra_context=extra_context)
        # Totals must follow the filters and search in use, which only exist once the ChangeList
        # is built; TemplateResponse renders lazily, so the context can still be extended here.
        # Redirects (bad filter params, actions) carry no changelist and are passed through.
        if isinstance(response, TemplateResponse) and response.context_data and "cl" in response.context_data:
            response.context_data["ledger_totals"] = llm_call_totals(calls=response.context_data["cl"].queryset)
        return response


class ConversationTurnInline(admin.TabularInline):
    model = ConversationTurn
    fields = readonly_fields = (
        "index",
        "user_input_preview",
        "output_preview",
        "response_id",
        "previous_response_id",
        "replayed",
        "is_fallback",
        "tokens_in",
        "tokens_out",
    )
    extra = 0
    can_delete = False
    show_change_link = False
    ordering = ["index"]

    def has_add_permission(self, request: HttpRequest, obj: Conversation | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Conversation | None = None) -> bool:
        return False

    @admin.display(description="user input")
    def user_input_preview(self, obj: ConversationTurn) -> str:
        # Plain str: the admin escapes it. Never mark_safe model or user text.
        return Truncator(obj.user_input).chars(OUTPUT_PREVIEW_CHARS)

    @admin.display(description="output")
    def output_preview(self, obj: ConversationTurn) -> str:
        return Truncator(obj.output_text).chars(OUTPUT_PREVIEW_CHARS)


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):
    list_display = ["title", "provider", "model", "user", "turn_count", "updated_at"]
    list_filter = ["provider", "model"]
    search_fields = ["title", "last_response_id", "user__username"]
    list_select_related = ["user", "subject_type"]
    # Only the title is editable: the rest is the chain's state, owned by the conversation service.
    readonly_fields = [
        "instructions",
        "provider",
        "model",
        "last_response_id",
        "subject",
        "user",
        "created_at",
        "updated_at",
    ]
    fields = ["title", *readonly_fields]
    inlines = [ConversationTurnInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Conversation]:
        return super().get_queryset(request).annotate(turn_count=Count("turns"))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.display(description="turns", ordering="turn_count")
    def turn_count(self, obj: Conversation) -> int:
        return obj.turn_count  # type: ignore[attr-defined]  # annotated by get_queryset

    @admin.display(description="subject")
    def subject(self, obj: Conversation) -> str:
        return _subject_link(subject_type=obj.subject_type, subject_id=obj.subject_id)
