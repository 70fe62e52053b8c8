"""Public (unauthenticated, signed) email routes: open pixel, click redirects, unsubscribe, preferences."""

from django.urls import path

from emails import views

app_name = "emails"

urlpatterns = [
    path("o/<str:token>.gif", views.open_pixel, name="open"),
    path("c/<str:token>", views.click, name="click"),
    path("u/<str:token>", views.unsubscribe, name="unsubscribe"),
    path("p/<str:token>", views.preferences, name="preferences"),
]
