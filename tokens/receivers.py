from django.dispatch import receiver

from orgs.signals import project_deleting, project_dependents
from tokens.models import Token
from tokens.services import tokens_revoke_for_project


@receiver(project_deleting)
def revoke_deployment_tokens(sender, *, project, actor, **kwargs) -> None:
    tokens_revoke_for_project(project=project, actor=actor)


@receiver(project_dependents)
def describe_deployment_tokens(sender, *, project, **kwargs) -> str | None:
    count = Token.objects.filter(project=project).active().count()
    if not count:
        return None
    return f"{count} active deployment token{'s' if count != 1 else ''} will be revoked."
