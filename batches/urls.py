"""API routes for provider batch jobs (seeds 002 and 003)."""

urlpatterns: list = []
