from django.db import migrations
from django.db.models import OuterRef, Subquery

# Deployment tokens minting deployment tokens make chains; each pass inherits one link.
MAX_CHAIN_PASSES = 20
DEPLOYMENT = "dep"


def backfill_creating_tokens(apps, schema_editor):
    """The audit log recorded which token created which ("token.create" by a token actor):
    copy that onto the new column, then let tokens minted by deployment tokens answer to the
    person behind those, as new ones do."""
    Token = apps.get_model("tokens", "Token")
    AuditEvent = apps.get_model("orgs", "AuditEvent")
    creations = AuditEvent.objects.filter(
        action="token.create",
        target_type="token",
        target_id=OuterRef("pk"),
        actor_token_id__isnull=False,
    ).order_by("id")
    Token.objects.filter(
        created_by_token__isnull=True, pk__in=creations.values("target_id")
    ).update(created_by_token_id=Subquery(creations.values("actor_token_id")[:1]))
    # Ids of tokens that no longer exist would break the foreign key.
    Token.objects.filter(created_by_token__isnull=False).exclude(
        created_by_token_id__in=Token.objects.values("pk")
    ).update(created_by_token_id=None)
    parents = Token.objects.filter(pk=OuterRef("created_by_token_id"))
    for _ in range(MAX_CHAIN_PASSES):
        inherited = Token.objects.filter(
            created_by__isnull=True,
            created_by_token__kind=DEPLOYMENT,
            created_by_token__created_by__isnull=False,
        ).update(created_by_id=Subquery(parents.values("created_by_id")[:1]))
        if not inherited:
            break


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
        ("orgs", "0004_audit_event_project_backfill"),
    ]

    operations = [
        migrations.RunPython(backfill_creating_tokens, migrations.RunPython.noop),
        migrations.RunPython(backfill_token_events, migrations.RunPython.noop),
    ]
