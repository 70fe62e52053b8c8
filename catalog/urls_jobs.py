"""API routes for job listings and feeds (seed 004)."""

urlpatterns: list = []
