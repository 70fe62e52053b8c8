from django.apps import AppConfig


class EmailsConfig(AppConfig):
    name = "emails"
    verbose_name = "Emails"

    def ready(self) -> None:
        # ESP webhooks (django-anymail): hard bounces and complaints become suppressions.
        from anymail.signals import tracking

        from emails.suppressions import anymail_tracking_record

        tracking.connect(anymail_tracking_record, dispatch_uid="emails.anymail_tracking_record")
