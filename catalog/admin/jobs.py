"""Admin for job feeds and listings."""
