from django.core.management import call_command
from django.db import migrations

from ops.cache import TABLE


def create_cache_table(apps, schema_editor):
    # Django's own schema for DatabaseCache; a no-op when the table exists.
    call_command("createcachetable", TABLE, database=schema_editor.connection.alias, verbosity=0)


def drop_cache_table(apps, schema_editor):
    schema_editor.execute(f"DROP TABLE IF EXISTS {schema_editor.quote_name(TABLE)}")


class Migration(migrations.Migration):
    initial = True
    dependencies = []
    operations = [migrations.RunPython(create_cache_table, drop_cache_table)]
