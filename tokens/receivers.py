from django.dispatch import receiver

from orgs.signals import (
    member_credentials,
    member_credentials_revoking,
    project_deleting,
    project_dependents,
)
from tokens.models import Token
from tokens.services import tokens_revoke_created_by, tokens_revoke_for_project


@receiver(project_deleting)
def revoke_deployment_tokens(sender, *, project, actor, **kwargs) -> None:
    tokens_revoke_for_project(project=project, actor=actor)


@receiver(project_dependents)
def describe_deployment_tokens(sender, *, project, **kwargs) -> str | None:
    count = Token.objects.filter(project=project).active().count()
    if not count:
        return None
    return f"{count} active deployment token{'s' if count != 1 else ''} will be revoked."


@receiver(member_credentials)
def list_deployment_tokens_left_by(sender, *, organization, user, project, **kwargs) -> list:
    return list(
        Token.objects.deployment_created_by(user, organization, project)
        .select_related("project__organization")
        .order_by("project__slug", "created_at", "id")
    )


@receiver(member_credentials_revoking)
def revoke_deployment_tokens_left_by(
    sender, *, organization, user, project, actor, **kwargs
) -> int:
    reason = (
        f"creator no longer maintains {project}"
        if project is not None
        else f"creator left {organization.slug}"
    )
    return tokens_revoke_created_by(
        user=user, organization=organization, project=project, actor=actor, reason=reason
    )
