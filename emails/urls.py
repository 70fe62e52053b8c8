"""Public (unauthenticated, signed) email tracking routes: open pixel and click redirects."""

urlpatterns: list = []
