from django.apps import AppConfig


class OrgsConfig(AppConfig):
    name = "orgs"
    verbose_name = "Organizations"

    def ready(self) -> None:
        from accounts import sso
        from orgs.invitations import has_pending_invitation

        # A pending invitation lets single sign-on create the invitee's account.
        if has_pending_invitation not in sso.JOIN_RULES:
            sso.JOIN_RULES.append(has_pending_invitation)
