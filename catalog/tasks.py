"""Celery autodiscovers `<app>.tasks` only: importing the sub-packages' task modules registers their tasks."""

from catalog.datasets import tasks as datasets_tasks  # noqa: F401 - registering is importing
from catalog.jobs import tasks as jobs_tasks  # noqa: F401 - registering is importing
from catalog.leads import tasks as leads_tasks  # noqa: F401 - registering is importing
from catalog.products import tasks as products_tasks  # noqa: F401 - registering is importing
