from django.apps import AppConfig


class ProfilesConfig(AppConfig):
    name = "profiles"
    verbose_name = "Profiles"

    def ready(self) -> None:
        # LLM tasks kept beside the code they serve register on import (batches find them by name).
        from profiles.matching import llm  # noqa: F401
