from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def backfill_project_events(apps, schema_editor):
    """Events recorded before the column existed name their target by type and id: the
    project's own events (and any about a deployment) get their project. Token events are
    filled in by the tokens app, which knows tokens."""
    AuditEvent = apps.get_model("orgs", "AuditEvent")
    Project = apps.get_model("orgs", "Project")
    Deployment = apps.get_model("orgs", "Deployment")
    AuditEvent.objects.filter(
        target_type="project",
        project__isnull=True,
        target_id__in=Project.objects.values("pk"),
    ).update(project_id=models.F("target_id"))
    AuditEvent.objects.filter(
        target_type="deployment",
        project__isnull=True,
        target_id__in=Deployment.objects.values("pk"),
    ).update(
        project_id=Subquery(
            Deployment.objects.filter(pk=OuterRef("target_id")).values("project_id")[:1]
        )
    )


class Migration(migrations.Migration):
    # Apart from the schema change: on PostgreSQL, updating rows in the migration that adds
    # the column would leave trigger events pending when its index is created.
    dependencies = [
        ("orgs", "0003_audit_event_project"),
    ]

    operations = [
        migrations.RunPython(backfill_project_events, migrations.RunPython.noop),
    ]
