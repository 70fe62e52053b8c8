from django.apps import AppConfig


class ConfigConfig(AppConfig):
    """Project plumbing as an app: it owns API keys, the periodic-task registry and the demo."""

    name = "config"
    verbose_name = "Platform"
