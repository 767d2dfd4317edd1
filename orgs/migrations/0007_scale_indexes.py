import logging

from django.conf import settings
from django.db import DatabaseError, migrations, models, transaction

logger = logging.getLogger(__name__)

# The audit page's "actor" and "token" filters match any part of a label (icontains, which
# PostgreSQL runs as UPPER(label) LIKE UPPER('%…%')): at millions of events only a trigram
# index finds the few matches without reading the organization's whole log. PostgreSQL
# only (pg_trgm, a trusted extension the database owner may create); SQLite scans.
TRIGRAM_INDEXES = (
    "CREATE INDEX IF NOT EXISTS audit_actor_label_trgm_idx ON orgs_auditevent"
    " USING gin (UPPER(actor_label) gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS audit_target_label_trgm_idx ON orgs_auditevent"
    " USING gin (UPPER(target_label) gin_trgm_ops)",
)


def add_trigram_indexes(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")
        if cursor.fetchone() is None:
            try:
                # A savepoint: a missing privilege must not stop the migration.
                with transaction.atomic(using=connection.alias), connection.cursor() as inner:
                    inner.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
            except DatabaseError as error:
                logger.warning(
                    "pg_trgm is not available (%s): the audit log's actor and token filters "
                    "work without their index. docs/production.md says how to add it.",
                    error,
                )
                return
        for statement in TRIGRAM_INDEXES:
            cursor.execute(statement)


def drop_trigram_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("DROP INDEX IF EXISTS audit_actor_label_trgm_idx")
        cursor.execute("DROP INDEX IF EXISTS audit_target_label_trgm_idx")


class Migration(migrations.Migration):
    dependencies = [
        ("orgs", "0006_organization_require_two_factor"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name="auditevent",
            index=models.Index(fields=["organization", "-id"], name="audit_org_id_idx"),
        ),
        migrations.RunPython(add_trigram_indexes, drop_trigram_indexes),
    ]
