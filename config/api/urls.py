from django.urls import path

from . import views

urlpatterns = [
    path("", views.ApiRootView.as_view(), name="root"),
    path("me", views.MeView.as_view(), name="me"),
    path("auth/token", views.TokenApi.as_view(), name="auth-token"),
]
