"""The Celery app. Settings come from Django's (CELERY_* names); tasks are autodiscovered.

Every log line a task writes carries its task id and name (config/logging.py), bound here.
"""

import os
from typing import Any

from celery import Celery
from celery.signals import task_postrun, task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("contentops")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@task_prerun.connect
def _bind_task_ids(task_id: str | None = None, task: Any = None, **_: Any) -> None:
    from config.logging import bind_task

    bind_task(task_id=task_id, task_name=getattr(task, "name", None))


@task_postrun.connect
def _unbind_task_ids(**_: Any) -> None:
    from config.logging import unbind_task

    unbind_task()
