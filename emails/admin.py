"""Emails in the admin: a read-only log. Model text is never shown raw: the HTML goes escaped into
a sandboxed iframe (no scripts, no same-origin access, no popups), and the text part into <pre>."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html

from emails.models import Email
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
    list_filter = ("kind", "language", "status")
    search_fields = ("to_address", "subject")
    date_hierarchy = "created_at"
    list_select_related = ("recipient",)
    fields = (
        ("kind", "status", "language"),
        ("recipient", "to_address"),
        "subject",
        ("about_type", "about_id"),
        ("created_at", "sent_at"),
        ("opened_at", "open_count"),
        ("clicked_at", "click_count"),
        "error",
        "html_preview",
        "text_part",
    )
    readonly_fields = (
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

    actions = ("approve_and_send",)

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
