from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class ConfigConfig(AppConfig):
    """Project plumbing as an app: it owns API keys, the periodic-task registry and the demo."""

    default = True
    name = "config"
    verbose_name = "Platform"

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        from config.db import connection_tune
        from config.logging import configure_structlog
        from config.metrics import register_collectors

        configure_structlog()
        register_collectors()
        connection_created.connect(connection_tune)


class ContentOpsAdminConfig(admin_apps.AdminConfig):
    """Django's admin on ContentOps' own site: the dashboard, tracked batch runs and LLM task tools."""

    default = False
    default_site = "config.admin_site.ContentOpsAdminSite"
