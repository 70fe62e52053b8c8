"""The project's URLs with the ESP webhooks mounted, as config/urls.py does when ANYMAIL_WEBHOOK_SECRET is set."""

from django.urls import include, path

from config.urls import urlpatterns as project_urlpatterns

urlpatterns = [path("e/anymail/", include("anymail.urls")), *project_urlpatterns]
