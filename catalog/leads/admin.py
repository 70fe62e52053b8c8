"""Admin for offerings and leads: leads by stage with score, pain points, conversation turns and the
draft, and actions to qualify, analyze, converse and dismiss. Drafts are approved and sent from
the Emails admin (outreach emails), never from here.

Postings and model output are untrusted: rendered only through `format_html` / `format_html_join`
(every value escaped) or as plain strings the admin escapes, never `mark_safe`.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.text import Truncator

from catalog.leads.conversations import lead_analyze_conversationally
from catalog.leads.funnel import lead_tasks_run_bulk
from catalog.leads.models import Lead, LeadStageChange, Offering
from catalog.leads.selectors import conversation_totals, conversation_turns
from catalog.leads.services import StageConflictError, lead_dismiss
from catalog.leads.tasks import lead_conversation_analyze_task
from config.errors import DomainError

# Actions that call the model in the request take at most this many leads (more: a batch or the funnel).
NOW_MAX_LEADS = 50
CONVERSE_NOW_MAX_LEADS = 3


def _render(value: Any) -> SafeString:
    """A stored JSON value as escaped HTML: objects as definition lists, lists as bullet lists."""
    if isinstance(value, dict):
        if not value:
            return format_html("<em>{}</em>", "none")
        return format_html(
            "<dl>{}</dl>",
            format_html_join(
                "",
                "<dt><strong>{}</strong></dt><dd>{}</dd>",
                ((str(k).replace("_", " "), _render(v)) for k, v in value.items()),
            ),
        )
    if isinstance(value, list):
        if not value:
            return format_html("<em>{}</em>", "none")
        return format_html("<ul>{}</ul>", format_html_join("", "<li>{}</li>", ((_render(item),) for item in value)))
    return format_html("{}", "" if value is None else str(value))


@admin.register(Offering)
class OfferingAdmin(admin.ModelAdmin):
    list_display = ["name", "price_min", "price_max", "currency", "typical_hours_saved_per_week", "active"]
    list_filter = ["active", "currency"]
    search_fields = ["name", "solves"]


class LeadStageChangeInline(admin.TabularInline):
    model = LeadStageChange
    fields = readonly_fields = ("changed_at", "from_stage", "to_stage", "changed_by", "note")
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Lead | None = None) -> bool:
        return False


@admin.register(Lead)
class LeadAdmin(admin.ModelAdmin):
    list_display = ["job_title", "company", "stage", "score", "verdict", "source", "qualified_at", "has_draft"]
    list_filter = ["stage", "verdict", "source"]
    list_select_related = ["job"]
    search_fields = ["job__title", "job__company", "reason"]
    ordering = ["-score", "-created_at"]
    readonly_fields = [
        "job",
        "source",
        "stage",
        "stage_changed_at",
        "score",
        "verdict",
        "reason",
        "qualified_at",
        "posting",
        "analysis_view",
        "pain_points_view",
        "parsed_view",
        "roi_view",
        "offerings_view",
        "conversation",
        "conversation_view",
        "draft_subject",
        "draft_view",
        "draft_is_fallback",
        "draft_generated_at",
        "contacted_at",
        "provenance_view",
        "failures",
        "last_error",
        "created_at",
        "updated_at",
    ]
    fieldsets = [
        (None, {"fields": ["job", "source", "stage", "stage_changed_at", "posting"]}),
        ("Qualification", {"fields": ["score", "verdict", "reason", "qualified_at"]}),
        ("Analysis", {"fields": ["analysis_view", "pain_points_view", "parsed_view", "roi_view", "offerings_view"]}),
        ("Conversation", {"fields": ["conversation", "conversation_view"]}),
        (
            "Outreach draft (approve and send it from Emails → outreach)",
            {"fields": ["draft_subject", "draft_view", "draft_is_fallback", "draft_generated_at", "contacted_at"]},
        ),
        ("Provenance", {"fields": ["provenance_view", "failures", "last_error", "created_at", "updated_at"]}),
    ]
    inlines = [LeadStageChangeInline]
    actions = ["qualify_now", "analyze_now", "converse", "dismiss"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # leads come from listings (the funnel, the API, a batch)

    @admin.display(description="job", ordering="job__title")
    def job_title(self, lead: Lead) -> str:
        return Truncator(lead.job.title).chars(80)

    @admin.display(description="company", ordering="job__company")
    def company(self, lead: Lead) -> str:
        return lead.job.company or "-"

    @admin.display(description="draft", boolean=True)
    def has_draft(self, lead: Lead) -> bool:
        return bool(lead.draft_subject)

    @admin.display(description="posting")
    def posting(self, lead: Lead) -> SafeString:
        job = lead.job
        return format_html(
            "<p><strong>{}</strong> — {} ({})</p><p>{}</p>",
            job.title,
            job.company or "company not given",
            job.location or "location not given",
            Truncator(job.description).chars(1500),
        )

    @admin.display(description="analysis")
    def analysis_view(self, lead: Lead) -> SafeString:
        return _render(lead.analysis)

    @admin.display(description="pain points")
    def pain_points_view(self, lead: Lead) -> SafeString:
        if not lead.pain_points:
            return format_html("<em>{}</em>", "none")
        return format_html(
            "<ul>{}</ul>",
            format_html_join(
                "",
                "<li><strong>{}</strong> ({}) — “{}” {}</li>",
                (
                    (
                        p.get("pain", ""),
                        p.get("severity", ""),
                        p.get("evidence", ""),
                        "" if p.get("evidence_found") else "[evidence not found in the posting]",
                    )
                    for p in lead.pain_points
                ),
            ),
        )

    @admin.display(description="parsed posting")
    def parsed_view(self, lead: Lead) -> SafeString:
        return _render(lead.parsed)

    @admin.display(description="ROI estimate")
    def roi_view(self, lead: Lead) -> SafeString:
        return format_html(
            "{}<p><strong>{}</strong></p>{}", _render(lead.roi_estimate), "Assumptions", _render(lead.roi_assumptions)
        )

    @admin.display(description="suggested offerings")
    def offerings_view(self, lead: Lead) -> SafeString:
        return _render(lead.suggested_offerings)

    @admin.display(description="turns")
    def conversation_view(self, lead: Lead) -> SafeString:
        if lead.conversation is None:
            return format_html("<em>{}</em>", "no conversation yet")
        turns = conversation_turns(conversation=lead.conversation)
        totals = conversation_totals(conversation=lead.conversation)
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{} / {} / {}</td><td>{}</td></tr>",
            (
                (
                    turn.index,
                    Truncator(turn.user_input).chars(200),
                    Truncator(turn.output_text).chars(400),
                    turn.call.tokens_in if turn.call else turn.tokens_in,
                    turn.call.tokens_cached if turn.call else 0,
                    turn.call.tokens_out if turn.call else turn.tokens_out,
                    ("fallback" if turn.is_fallback else "") + (" replayed" if turn.replayed else ""),
                )
                for turn in turns
            ),
        )
        return format_html(
            "<table><tr><th>#</th><th>asked</th><th>answer</th><th>tokens in / cached / out</th><th></th></tr>"
            "{}</table>"
            "<p>{} turn(s), {} input ({} cached) and {} output tokens billed, ${}</p>",
            rows,
            totals["turns"],
            totals["tokens_in"],
            totals["tokens_cached"],
            totals["tokens_out"],
            totals["cost_usd"],
        )

    @admin.display(description="draft")
    def draft_view(self, lead: Lead) -> SafeString:
        return format_html("<pre style='white-space: pre-wrap'>{}</pre>", lead.draft_body or "-")

    @admin.display(description="provenance")
    def provenance_view(self, lead: Lead) -> SafeString:
        return _render(lead.provenance)

    def _run_now(self, request: HttpRequest, queryset: QuerySet[Lead], task_type: str) -> None:
        leads = list(queryset.select_related("job")[: NOW_MAX_LEADS + 1])
        if len(leads) > NOW_MAX_LEADS:
            self.message_user(
                request,
                f"At most {NOW_MAX_LEADS} leads at once; use a batch (API batch/create) for more.",
                messages.ERROR,
            )
            return
        outcomes = lead_tasks_run_bulk(task_type=task_type, leads=leads, user=request.user)
        done = sum(1 for o in outcomes if o.ok)
        fallbacks = sum(1 for o in outcomes if o.result is not None and o.result.is_fallback)
        failed = len(outcomes) - done
        level = messages.WARNING if failed or fallbacks else messages.SUCCESS
        self.message_user(
            request, f"{task_type}: {done} lead(s) done ({fallbacks} rule-based fallback), {failed} failed.", level
        )

    @admin.action(description="Qualify now")
    def qualify_now(self, request: HttpRequest, queryset: QuerySet[Lead]) -> None:
        self._run_now(request, queryset, "qualify")

    @admin.action(description="Analyze now")
    def analyze_now(self, request: HttpRequest, queryset: QuerySet[Lead]) -> None:
        self._run_now(request, queryset, "analyze")

    @admin.action(description="Converse: analysis, pain points, ROI, offerings and an outreach draft")
    def converse(self, request: HttpRequest, queryset: QuerySet[Lead]) -> None:
        leads = list(queryset)
        if not settings.CELERY_TASK_ALWAYS_EAGER or len(leads) > CONVERSE_NOW_MAX_LEADS:
            for lead in leads:
                lead_conversation_analyze_task.delay_on_commit(lead.pk, request.user.pk)
            self.message_user(request, f"Conversations queued for {len(leads)} lead(s).", messages.INFO)
            return
        for lead in leads:
            lead_analyze_conversationally(lead=lead, user=request.user)
        self.message_user(request, f"{len(leads)} conversation(s) done; drafts are ready to review.", messages.SUCCESS)

    @admin.action(description="Dismiss")
    def dismiss(self, request: HttpRequest, queryset: QuerySet[Lead]) -> None:
        dismissed, skipped = 0, 0
        for lead in queryset:
            try:
                lead_dismiss(lead=lead, user=request.user, note="dismissed in the admin")
                dismissed += 1
            except (StageConflictError, DomainError):
                skipped += 1
        self.message_user(request, f"{dismissed} lead(s) dismissed, {skipped} skipped.", messages.SUCCESS)
