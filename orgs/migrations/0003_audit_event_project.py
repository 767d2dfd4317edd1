import django.db.models.deletion
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
    dependencies = [
        ("orgs", "0002_deployment"),
    ]

    operations = [
        migrations.AddField(
            model_name="auditevent",
            name="project",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="orgs.project",
            ),
        ),
        migrations.RunPython(backfill_project_events, migrations.RunPython.noop),
    ]
