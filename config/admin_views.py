"""Admin pages that belong to no single model: the LLM task tools (clear a task's cache, bump its
prompt version). Thin: each POST calls one service and says what it did and what happens next."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from config.errors import DomainError


def admin_extra_urls(site: admin.AdminSite) -> list:
    return [path("ops/llm-tasks/", site.admin_view(llm_tasks_view), name="contentops_llm_tasks")]


def llm_tasks_view(request: HttpRequest) -> HttpResponse:
    from llm.models import LLMCall, TaskRevision
    from llm.revisions import task_cache_clear, task_revision_bump
    from llm.selectors import llm_day_start
    from llm.task import registered_tasks

    site = admin.site
    if request.method == "POST":
        if not request.user.has_perm("llm.change_taskrevision"):
            messages.error(request, "You need the “change task revision” permission to clear caches or bump prompts.")
            return HttpResponseRedirect(reverse("admin:contentops_llm_tasks"))
        task_name, what = request.POST.get("task", ""), request.POST.get("do", "")
        try:
            if what == "clear_cache":
                cleared = task_cache_clear(task_name=task_name)
                messages.success(
                    request,
                    f"Cleared {cleared} cached answer(s) of {task_name}. The next call of each input goes to the "
                    "provider again (and is cached anew).",
                )
            elif what == "bump":
                user = request.user if request.user.is_authenticated else None
                bump = task_revision_bump(task_name=task_name, user=user, note=request.POST.get("note", ""))
                stale = (
                    f"marked {bump.results_marked_stale} stored result(s) stale for regeneration"
                    if bump.results_marked_stale is not None
                    else "its domain keeps no results to mark (they are made on request)"
                )
                messages.success(
                    request,
                    f"{bump.task} is now at prompt revision {bump.revision} (code v{bump.version}): cleared "
                    f"{bump.cache_entries_cleared} cached answer(s) and {stale}. The next generation run "
                    "(schedule, admin action or batch) regenerates them through the model.",
                )
            else:
                messages.error(request, "Unknown request: choose “Clear cache” or “Bump prompt version”.")
        except DomainError as exc:
            messages.error(request, exc.message)
        return HttpResponseRedirect(reverse("admin:contentops_llm_tasks"))

    tasks = registered_tasks()
    revisions = {r.task: r for r in TaskRevision.objects.select_related("bumped_by")}
    today = {
        row["task"]: row
        for row in LLMCall.objects.filter(created_at__gte=llm_day_start())
        .order_by()
        .values("task")
        .annotate(
            n=Count("pk"),
            cached=Count("pk", filter=Q(status="cached")),
            fallback=Count("pk", filter=Q(status="fallback")),
        )
    }
    rows: list[dict[str, Any]] = [
        {
            "name": name,
            "version": task.version,
            "description": task.description,
            "revision": revisions.get(name),
            "today": today.get(name, {"n": 0, "cached": 0, "fallback": 0}),
            "can_mark_stale": task.mark_stale is not None,
        }
        for name, task in sorted(tasks.items())
        if not name.startswith(("test", "batches_test"))
    ]
    context = {
        **site.each_context(request),
        "title": "LLM tasks",
        "rows": rows,
        "can_change": request.user.has_perm("llm.change_taskrevision"),
    }
    return TemplateResponse(request, "admin/contentops_llm_tasks.html", context)
