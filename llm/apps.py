from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules


class LlmConfig(AppConfig):
    name = "llm"
    verbose_name = "LLM"

    def ready(self) -> None:
        # Each app declares its tasks in `<app>/llm.py`; importing registers them by name,
        # which the batches app needs to find a task again at ingest time.
        autodiscover_modules("llm")
