"""Emails in the admin: a read-only log. Model text is never shown raw: the HTML goes escaped into
a sandboxed iframe (no scripts, no same-origin access, no popups), and the text part into <pre>."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.html import format_html

from emails.jobmail.services import email_metrics, email_test_send
from emails.models import Email, EmailRun, Suppression
from emails.services import outreach_email_approve_send

# Put ahead of the email inside the preview frame: it loads nothing from the network (so a staff
# preview never fetches the open pixel) and links open a new window, which the sandbox refuses (so
# a preview never records a click).
PREVIEW_HEAD = (
    '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; style-src \'unsafe-inline\'; '
    'img-src data:"><base target="_blank">'
)


@admin.register(Email)
class EmailAdmin(admin.ModelAdmin):
    list_display = ("id", "kind", "to_address", "language", "status", "subject", "sent_at", "open_count", "click_count")
    list_filter = ("kind", "language", "status", "week")
    search_fields = ("to_address", "subject")
    date_hierarchy = "created_at"
    list_select_related = ("recipient",)
    fields = (
        ("kind", "status", "language", "week"),
        ("recipient", "to_address"),
        "subject",
        ("about_type", "about_id"),
        ("created_at", "sent_at"),
        ("opened_at", "open_count"),
        ("clicked_at", "click_count"),
        "error",
        "html_preview",
        "text_part",
        "generation",
    )
    readonly_fields = (
        "week",
        "generation",
        "kind",
        "status",
        "language",
        "recipient",
        "to_address",
        "subject",
        "about_type",
        "about_id",
        "created_at",
        "sent_at",
        "opened_at",
        "open_count",
        "clicked_at",
        "click_count",
        "error",
        "html_preview",
        "text_part",
    )

    @admin.display(description="HTML")
    def html_preview(self, obj: Email) -> str:
        # srcdoc is an attribute: format_html escapes it, and the frame gets no scripts or origin.
        return format_html(
            '<iframe sandbox="" referrerpolicy="no-referrer" srcdoc="{}" '
            'style="width:100%;max-width:680px;height:600px;border:1px solid #ccc"></iframe>',
            PREVIEW_HEAD + obj.html,
        )

    @admin.display(description="text part")
    def text_part(self, obj: Email) -> str:
        return format_html('<pre style="white-space:pre-wrap;max-width:680px">{}</pre>', obj.text)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    actions = ("approve_and_send", "send_test_to_me")

    @admin.action(description="Send a test to me (a copy to my own address, marked [TEST])")
    def send_test_to_me(self, request: HttpRequest, queryset: QuerySet[Email]) -> None:
        address = getattr(request.user, "email", "")
        if not address:
            self.message_user(request, "Your account has no email address to send the test to.", messages.ERROR)
            return
        ids = queryset.values_list("pk", flat=True)
        sent = sum(bool(email_test_send(email_id=pk, user=request.user)) for pk in ids)
        self.message_user(request, f"{sent} test email(s) sent to {address}.", messages.SUCCESS)

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        response = super().changelist_view(request, extra_context=extra_context)
        if isinstance(response, TemplateResponse) and response.context_data is not None:
            metrics = email_metrics()
            response.context_data["job_email_metrics"] = metrics
            response.context_data["job_email_metrics_rows"] = [
                ("all", metrics),
                *[(language, block) for language, block in metrics["by_language"].items()],
            ]
        return response

    @admin.action(description="Approve and send (outreach drafts)")
    def approve_and_send(self, request: HttpRequest, queryset: QuerySet[Email]) -> None:
        # A person's explicit approval is the only way an outreach draft is ever sent.
        sent = sum(
            outreach_email_approve_send(email_id=pk, user=request.user) for pk in queryset.values_list("pk", flat=True)
        )
        skipped = queryset.count() - sent
        level = messages.WARNING if skipped else messages.SUCCESS
        self.message_user(
            request, f"{sent} outreach email(s) sent; {skipped} skipped (not an outreach draft, or no address).", level
        )

    def has_change_permission(self, request: HttpRequest, obj: Email | None = None) -> bool:
        return False


@admin.register(Suppression)
class SuppressionAdmin(admin.ModelAdmin):
    """Addresses we must not email: unsubscribes, bounces, complaints (from the ESP's webhooks), or
    added by staff. Deleting a row lifts it."""

    list_display = ("address", "scope", "reason", "source", "created_at")
    list_filter = ("scope", "reason")
    search_fields = ("address",)
    fields = ("address", "scope", "reason", "source", "created_at")
    readonly_fields = ("created_at",)

    def has_change_permission(self, request: HttpRequest, obj: Suppression | None = None) -> bool:
        return False


@admin.register(EmailRun)
class EmailRunAdmin(admin.ModelAdmin):
    """Job email generation runs started from the API (generate-batch), with their progress."""

    list_display = ("id", "status", "mode", "total", "done", "failed", "sent", "fallbacks", "created_at")
    list_filter = ("status", "mode")
    readonly_fields = [f.name for f in EmailRun._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: EmailRun | None = None) -> bool:
        return False
