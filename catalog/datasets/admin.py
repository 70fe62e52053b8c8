"""Admin for data dictionaries: entries inline and editable; an edit there is a person's edit
(recorded with who and when, and kept by later runs)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.forms import BaseInlineFormSet
from django.http import HttpRequest

from catalog.datasets.models import DataDictionary, DataDictionaryEntry
from catalog.datasets.selectors import data_dictionaries_list
from catalog.datasets.services.entries import data_dictionary_entry_edit
from catalog.datasets.services.runs import data_dictionary_describe
from config.errors import DomainError

EDITABLE = ("business_name", "description")
ENTRY_FIELDS = (
    "field_path",
    "data_type",
    "semantic_type",
    "sample_values",
    "business_name",
    "description",
    "is_fallback",
    "model",
    "prompt_version",
    "edited_by",
    "edited_at",
)
# "Describe again" runs in the request; bigger dictionaries go through the API or the command.
RERUN_MAX_FIELDS = 500


class DataDictionaryEntryInline(admin.TabularInline):
    model = DataDictionaryEntry
    extra = 0
    can_delete = False
    fields = ENTRY_FIELDS
    readonly_fields = [name for name in ENTRY_FIELDS if name not in EDITABLE]
    ordering = ["position", "id"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # entries come from the source; a run adds them

    def get_queryset(self, request: HttpRequest) -> QuerySet[DataDictionaryEntry]:
        return super().get_queryset(request).select_related("edited_by")


@admin.register(DataDictionary)
class DataDictionaryAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "source_kind",
        "status",
        "entry_count",
        "edited_count",
        "fallback_count",
        "created_by",
        "created_at",
    ]
    list_filter = ["source_kind", "status"]
    search_fields = ["name", "source_name", "entries__field_path"]
    list_select_related = ["created_by"]
    readonly_fields = [
        "source_kind",
        "source_name",
        "created_by",
        "status",
        "fields_total",
        "fields_done",
        "run_id",
        "error_message",
        "created_at",
        "updated_at",
    ]
    inlines = [DataDictionaryEntryInline]
    actions = ["describe_again"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[DataDictionary]:
        return data_dictionaries_list()

    @admin.display(description="entries")
    def entry_count(self, obj: DataDictionary) -> int:
        return obj.entry_count  # type: ignore[attr-defined]  # annotated by data_dictionaries_list

    @admin.display(description="edited")
    def edited_count(self, obj: DataDictionary) -> int:
        return obj.edited_count  # type: ignore[attr-defined]

    @admin.display(description="fallback")
    def fallback_count(self, obj: DataDictionary) -> int:
        return obj.fallback_count  # type: ignore[attr-defined]

    def save_formset(self, request: HttpRequest, form: Any, formset: BaseInlineFormSet, change: bool) -> None:
        if formset.model is not DataDictionaryEntry:
            super().save_formset(request, form, formset, change)
            return
        # Only what a person changed becomes theirs; untouched rows stay the model's.
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []  # for the change log
        for entry_form in formset.forms:
            changed = [name for name in EDITABLE if name in entry_form.changed_data]
            if entry_form.instance.pk is None or not changed:
                continue
            entry = data_dictionary_entry_edit(
                entry=entry_form.instance,
                user=request.user,
                **{name: entry_form.cleaned_data[name] for name in changed},
            )
            formset.changed_objects.append((entry, changed))

    @admin.action(description="Describe again (entries a person edited are kept)")
    def describe_again(self, request: HttpRequest, queryset: QuerySet[DataDictionary]) -> None:
        for dictionary in queryset:
            entry_count = dictionary.entry_count  # type: ignore[attr-defined]  # annotated by get_queryset
            if entry_count > RERUN_MAX_FIELDS:
                self.message_user(
                    request,
                    f"{dictionary.name}: {entry_count} fields; use `describe_fields` or the API.",
                    messages.WARNING,
                )
                continue
            try:
                summary = data_dictionary_describe(dictionary_id=dictionary.pk)
            except DomainError as exc:
                self.message_user(request, f"{dictionary.name}: {exc.message}", messages.ERROR)
                continue
            self.message_user(
                request,
                f"{dictionary.name}: {summary.described} described, {summary.fallbacks} by the fallback, "
                f"{summary.kept} kept (edited by a person).",
            )
