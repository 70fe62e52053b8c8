"""ContentOps' admin site: Django's admin with the ContentOps name, a dashboard at its index, and the
LLM task tools page; every app's ModelAdmins register on it as usual (`@admin.register`)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin import helpers, options
from django.db import models
from django.http import HttpRequest
from django.template.response import TemplateResponse

from config.adminkit import JSON_FORMFIELD, json_block

# Readable JSON in every admin form: indented, in a textarea sized to its content. Set before any
# ModelAdmin is created (they copy these defaults), i.e. when this module loads with the admin app.
options.FORMFIELD_FOR_DBFIELD_DEFAULTS[models.JSONField] = JSON_FORMFIELD

_display_for_field = helpers.display_for_field  # type: ignore[attr-defined]  # re-exported from admin.utils


def _display_json_readably(value: Any, field: Any, empty_value_display: str) -> Any:
    """Read-only JSON as a collapsible pretty block instead of one long escaped line."""
    if isinstance(field, models.JSONField) and value not in (None, ""):
        return json_block(value)
    return _display_for_field(value, field, empty_value_display)


helpers.display_for_field = _display_json_readably  # type: ignore[attr-defined]


class ContentOpsAdminSite(admin.AdminSite):
    site_header = "ContentOps"
    site_title = "ContentOps admin"
    index_title = "Dashboard"
    index_template = "admin/contentops_index.html"

    def index(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> TemplateResponse:
        from config.dashboard import dashboard_build

        context = {"dashboard": dashboard_build(), **(extra_context or {})}
        return super().index(request, extra_context=context)

    def get_urls(self) -> list:
        from config.admin_views import admin_extra_urls

        return admin_extra_urls(self) + super().get_urls()
