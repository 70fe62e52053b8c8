"""An index for the API's jobs pages (`job_listings_list`): active listings, newest first, undated last.

Written by hand because the order needs `NULLS LAST` on PostgreSQL (its DESC puts NULLs first), which
SQLite refuses in an index; SQLite's DESC already puts NULLs last. It is not in the model's Meta for the
same reason (Django's `Index` has one definition for every database).
"""

from django.db import migrations

NAME = "job_listing_active_newest"


def create(apps, schema_editor):
    nulls_last = " NULLS LAST" if schema_editor.connection.vendor == "postgresql" else ""
    schema_editor.execute(
        f'CREATE INDEX IF NOT EXISTS "{NAME}" ON "catalog_joblisting" '
        f'("posted_at" DESC{nulls_last}, "id" DESC) WHERE "active"'
    )


def drop(apps, schema_editor):
    schema_editor.execute(f'DROP INDEX IF EXISTS "{NAME}"')


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0006_jobs_feed_problems_click_count"),
    ]

    operations = [migrations.RunPython(create, drop)]
