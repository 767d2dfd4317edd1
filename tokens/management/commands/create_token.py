from django.core.management.base import BaseCommand, CommandError

from accounts.models import User
from lib.errors import RuleError
from orgs.audit import Actor
from orgs.models import Organization, Project
from tokens import permissions as perms
from tokens.models import Token
from tokens.services import TokenConfigurationError, token_issue


class Command(BaseCommand):
    help = (
        "Create a token and print its plaintext alone on stdout (for bootstrapping automation). "
        "Personal by default; --org makes a CI token, --project a deployment token."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--user", required=True, help="E-mail of the user who creates it")
        parser.add_argument("--name", required=True)
        scope = parser.add_mutually_exclusive_group()
        scope.add_argument("--org", help="Organization slug: an organization CI token")
        scope.add_argument("--project", help="ORG/PROJECT: a project deployment token")
        grant = parser.add_mutually_exclusive_group()
        grant.add_argument(
            "--permissions", help="Comma-separated, e.g. projects:read,deployments:write"
        )
        grant.add_argument("--role", choices=[*perms.ROLE_PRESETS], help="A role preset")
        parser.add_argument("--expires-days", type=int, default=None)
        parser.add_argument(
            "--legacy-server",
            action="store_true",
            help="Import a legacy server token of --org tied to --user, for organizations "
            "migrating in (deprecated; they cannot be created from the UI or API)",
        )

    def handle(self, *args, **options) -> None:
        user = User.objects.filter(email=options["user"].lower()).first()
        if user is None:
            raise CommandError(f"No user with e-mail {options['user']}.")
        kind, organization, project = self._scope(options)
        if options["legacy_server"]:
            if kind != Token.Kind.CI:
                raise CommandError("--legacy-server needs --org.")
            kind = Token.Kind.SERVER
        role = options["role"] or ""
        try:
            if options["permissions"]:
                granted = perms.normalize(options["permissions"].split(","))
                role = perms.role_for(granted) if kind != Token.Kind.PERSONAL else ""
            else:
                role = role or ("ci" if kind != Token.Kind.PERSONAL else "")
                granted = perms.for_role(role) if role else perms.DEFAULT_PERMISSIONS
            issued = token_issue(
                kind=kind,
                name=options["name"],
                permissions=granted,
                role=role,
                user=user if kind in (Token.Kind.PERSONAL, Token.Kind.SERVER) else None,
                organization=organization,
                project=project,
                expires_in_days=options["expires_days"],
                actor=Actor(user=user, user_agent="manage.py create_token"),
            )
        except (perms.UnknownPermission, RuleError, TokenConfigurationError) as error:
            raise CommandError(str(error)) from None
        self.stdout.write(issued.plaintext)

    def _scope(self, options) -> tuple[str, Organization | None, Project | None]:
        if options["org"]:
            organization = Organization.objects.filter(slug=options["org"]).first()
            if organization is None:
                raise CommandError(f"No organization {options['org']!r}.")
            return Token.Kind.CI, organization, None
        if options["project"]:
            org_slug, _, project_slug = options["project"].partition("/")
            project = (
                Project.objects.select_related("organization")
                .filter(organization__slug=org_slug, slug=project_slug)
                .first()
            )
            if project is None:
                raise CommandError(f"No project {options['project']!r} (expected ORG/PROJECT).")
            return Token.Kind.DEPLOYMENT, project.organization, project
        return Token.Kind.PERSONAL, None, None
