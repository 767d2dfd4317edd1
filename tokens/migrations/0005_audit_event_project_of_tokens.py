from django.db import migrations
from django.db.models import OuterRef, Subquery


def backfill_token_events(apps, schema_editor):
    """Events about a deployment token concern its project (orgs filled in the project's own
    events; it does not know tokens)."""
    Token = apps.get_model("tokens", "Token")
    AuditEvent = apps.get_model("orgs", "AuditEvent")
    project_tokens = Token.objects.filter(project__isnull=False)
    AuditEvent.objects.filter(
        target_type="token",
        project__isnull=True,
        target_id__in=project_tokens.values("pk"),
    ).update(
        project_id=Subquery(
            project_tokens.filter(pk=OuterRef("target_id")).values("project_id")[:1]
        )
    )


class Migration(migrations.Migration):
    dependencies = [
        ("tokens", "0004_created_by_token"),
        ("orgs", "0003_audit_event_project"),
    ]

    operations = [
        migrations.RunPython(backfill_token_events, migrations.RunPython.noop),
    ]
