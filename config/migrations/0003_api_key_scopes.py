import config.models
from django.db import migrations, models


def grandfather_scopes(apps, schema_editor):
    # Keys made before scopes existed acted as staff: they keep every scope, and from now on the staff
    # scope counts only when the key's owner is staff.
    APIKey = apps.get_model("config", "APIKey")
    APIKey.objects.update(scopes=["read", "write", "staff"])


class Migration(migrations.Migration):

    dependencies = [
        ("config", "0002_leases_and_periodic_runs"),
    ]

    operations = [
        migrations.AddField(
            model_name="apikey",
            name="scopes",
            field=models.JSONField(
                default=config.models.api_key_default_scopes,
                help_text="What the key may do, a list of: read, write, staff. It never exceeds its owner's powers.",
            ),
        ),
        migrations.AlterField(
            model_name="apikey",
            name="revoked_at",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.RunPython(grandfather_scopes, migrations.RunPython.noop),
    ]
