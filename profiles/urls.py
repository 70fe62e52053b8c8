"""API routes for profiles, resumes, matches and digests (seed 004)."""

urlpatterns: list = []
