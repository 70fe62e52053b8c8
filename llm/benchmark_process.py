"""The entry point of one spawned process of `llm.benchmark.processes_run`.

Kept apart from llm/benchmark.py: a spawned interpreter imports its target's module before anything
else, and that one imports models, which needs Django set up first.
"""

from __future__ import annotations

import os
from typing import Any


def process_main(
    index: int, requests: int, concurrency: int, env: dict[str, str], task_name: str, nonce: str, start: Any, queue: Any
) -> None:
    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from llm.benchmark import run_share

    run_share(
        index=index,
        requests=requests,
        concurrency=concurrency,
        task_name=task_name,
        nonce=nonce,
        start=start,
        queue=queue,
    )
