"""Public (unauthenticated, signed) email tracking routes: open pixel and click redirects."""

from django.urls import path

from emails import views

app_name = "emails"

urlpatterns = [
    path("o/<str:token>.gif", views.open_pixel, name="open"),
    path("c/<str:token>", views.click, name="click"),
]
