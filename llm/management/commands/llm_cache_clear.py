"""``manage.py llm_cache_clear [--task NAME]``: drop cached LLM answers, one task's or all."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from llm.cache import cache_clear
from llm.task import registered_tasks


class Command(BaseCommand):
    help = "Drop cached LLM answers (all tasks, or one with --task), as POST /api/v1/llm/cache/clear."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--task", default=None, help="Only this LLM task's answers (e.g. field_description).")

    def handle(self, *args: object, **options: Any) -> None:
        task = options["task"]
        if task is not None and task not in registered_tasks():
            raise CommandError(f"No LLM task named {task!r}; known: {', '.join(sorted(registered_tasks()))}.")
        cleared = cache_clear(task_name=task)
        scope = f"task {task}" if task else "all tasks"
        self.stdout.write(f"Cleared {cleared} cached LLM answer(s) for {scope}.")
