from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import User
from orgs.audit import Actor
from orgs.models import Deployment, Membership, Organization, Project
from tokens import permissions as perms
from tokens.models import Token, TokenUsage
from tokens.services import TokenConfigurationError, token_issue

DEMO_PASSWORD = "demo-password"  # noqa: S105  (public demo data, documented in docs/design.md)
DEMO_USERS = [
    ("owner@acme.test", "Olivia Owner", Membership.Role.OWNER),
    ("admin@acme.test", "Adam Admin", Membership.Role.SUPER_ADMIN),
    ("dev@acme.test", "Dana Developer", Membership.Role.MEMBER),
]
DEMO_SUPERUSER = "admin@acme.test"
PROJECTS = "/api/v1/orgs/{org}/projects"
DEPLOYMENTS = "/api/v1/orgs/{org}/projects/{project}/deployments"


class Command(BaseCommand):
    help = "Create the demo organization, users, projects and tokens. Safe to run repeatedly."

    @transaction.atomic
    def handle(self, *args, **options) -> None:
        users = {}
        for email, name, _role in DEMO_USERS:
            user, created = User.objects.get_or_create(email=email, defaults={"name": name})
            if created:
                user.set_password(DEMO_PASSWORD)
                user.save(update_fields=["password"])
            users[email] = user
        # The demo's Django superuser: admin@acme.test opens /admin/ (README).
        User.objects.filter(email=DEMO_SUPERUSER).update(is_staff=True, is_superuser=True)
        acme, _ = Organization.objects.get_or_create(
            slug="acme",
            # Acme predates the CI-token policy, so personal-token deploys are still on.
            defaults={"name": "Acme Inc", "allow_personal_token_deploys": True},
        )
        for email, _name, role in DEMO_USERS:
            Membership.objects.get_or_create(
                user=users[email], organization=acme, defaults={"role": role}
            )
        web, _ = Project.objects.get_or_create(
            organization=acme, slug="web", defaults={"name": "Web"}
        )
        api, _ = Project.objects.get_or_create(
            organization=acme, slug="api", defaults={"name": "API"}
        )
        web.maintainers.add(users["dev@acme.test"])

        try:
            # One clock for the tokens and their deployments (README: the demo's timestamps).
            now = timezone.now()
            self._seed_tokens(users, acme, web, api, now)
        except TokenConfigurationError as error:
            raise CommandError(str(error)) from None
        self._seed_deployments(acme, web, api, now)
        self._seed_usage(acme)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data ready: sign in as {', '.join(users)} with password {DEMO_PASSWORD!r}; "
                f"{DEMO_SUPERUSER} can also open /admin/."
            )
        )

    def _seed_tokens(self, users, acme, web, api, now) -> None:
        owner, dev = users["owner@acme.test"], users["dev@acme.test"]
        # (kind, name, owner columns, permissions, role, creator, last used, created): each
        # token is dated back when first seeded, so it was used after it was created and the
        # legacy credentials predate their deployments (README: the demo's timestamps).
        wanted = [
            (
                Token.Kind.PERSONAL,
                "Laptop scripts",
                {"user": dev},
                perms.DEFAULT_PERMISSIONS,
                "",
                dev,
                timedelta(days=2, hours=5),  # its last deployment (_seed_deployments)
                timedelta(days=45),
            ),
            (
                Token.Kind.PERSONAL,
                "Release checklist",
                {"user": owner},
                perms.ROLE_PRESETS["read_only"],
                "",
                owner,
                timedelta(days=2),
                timedelta(days=20),
            ),
            (
                Token.Kind.CI,
                "GitHub Actions",
                {"organization": acme},
                perms.ROLE_PRESETS["ci"],
                "ci",
                owner,
                timedelta(minutes=20),
                timedelta(days=21),
            ),
            (
                Token.Kind.CI,
                "Nightly reports",
                {"organization": acme},
                perms.ROLE_PRESETS["read_only"],
                "read_only",
                users["admin@acme.test"],
                None,
                timedelta(days=10),
            ),
            (
                Token.Kind.DEPLOYMENT,
                "web deploy",
                {"project": web},
                perms.ROLE_PRESETS["ci"],
                "",
                dev,
                timedelta(hours=5),
                timedelta(days=30),
            ),
            (
                Token.Kind.DEPLOYMENT,
                "api deploy",
                {"project": api},
                perms.ROLE_PRESETS["ci"],
                "",
                owner,
                None,
                timedelta(days=30),
            ),
            (
                Token.Kind.SERVER,
                "Legacy deploy server",
                {"organization": acme, "user": owner},
                perms.ROLE_PRESETS["ci"],
                "",
                owner,
                timedelta(hours=3),
                timedelta(days=400),
            ),
        ]
        for kind, name, owner_columns, granted, role, creator, used_ago, age in wanted:
            if Token.objects.filter(kind=kind, name=name, **owner_columns).exists():
                continue
            issued = token_issue(
                kind=kind,
                name=name,
                permissions=granted,
                role=role,
                actor=Actor(user=creator, user_agent="manage.py seed_demo"),
                **owner_columns,
            )
            dated = {"created_at": now - age}
            if used_ago is not None:
                dated |= {"last_used_at": now - used_ago, "last_used_ip": "203.0.113.7"}
            Token.objects.filter(pk=issued.token.pk).update(**dated)

    def _seed_usage(self, acme) -> None:
        """Two weeks of calls, so token pages show who uses them: the GitHub Actions token
        deploys; "Release checklist" reads projects and the audit log only (its page suggests
        narrowing). Counters of a token that has some are left alone."""
        today = timezone.now().replace(hour=9, minute=0, second=0, microsecond=0)
        # (token name, method, route, address, agent, permission, granted, status, project, calls)
        # The days back each token's calls span (its last use, as seeded above, is the latest).
        spans = {"GitHub Actions": (14, 0), "Release checklist": (16, 2)}
        calls = {
            "GitHub Actions": [
                ("POST", DEPLOYMENTS, "203.0.113.7", "tokendesk-cli/0.2", "deployments:write",
                 True, 2, "acme/web", 4),
                ("GET", PROJECTS, "198.51.100.20", "curl", "projects:read", True, 2, "", 1),
            ],
            "Release checklist": [
                ("GET", PROJECTS, "192.0.2.44", "python-requests", "projects:read", True, 2, "", 2),
                ("GET", "/api/v1/orgs/{org}/audit", "192.0.2.44", "python-requests",
                 "audit:read", True, 2, "", 1),
            ],
        }  # fmt: skip
        rows = []
        for name, shapes in calls.items():
            token = (
                Token.objects.filter(name=name)
                .filter(Q(organization=acme) | Q(user__memberships__organization=acme))
                .first()
            )
            if token is None or TokenUsage.objects.filter(token=token).exists():
                continue
            oldest, latest = spans[name]
            for days_ago in range(oldest, latest - 1, -1):
                seen = today - timedelta(days=days_ago)
                for (
                    method,
                    route,
                    address,
                    agent,
                    permission,
                    granted,
                    status,
                    project,
                    n,
                ) in shapes:
                    rows.append(
                        TokenUsage(
                            token=token, day=seen.date(), method=method, route=route,
                            address=address, agent=agent, permission=permission,
                            granted=granted, status_class=status, project=project, calls=n,
                            first_seen=seen, last_seen=seen + timedelta(hours=8),
                        )
                    )  # fmt: skip
        TokenUsage.objects.bulk_create(rows)

    def _seed_deployments(self, acme, web, api, now) -> None:
        """A migration in progress: the legacy server token and a personal token still
        deploy; the CI token has just had its first green deploy."""
        if Deployment.objects.filter(project__organization=acme).exists():
            return
        legacy = Token.objects.get(
            kind=Token.Kind.SERVER, organization=acme, name="Legacy deploy server"
        )
        laptop = Token.objects.get(
            kind=Token.Kind.PERSONAL, name="Laptop scripts", user__email="dev@acme.test"
        )
        github = Token.objects.get(kind=Token.Kind.CI, organization=acme, name="GitHub Actions")
        history = [
            (legacy, web, timedelta(days=12)), (legacy, api, timedelta(days=9)),
            (legacy, web, timedelta(days=6)), (legacy, api, timedelta(days=4)),
            (legacy, web, timedelta(days=2)), (legacy, web, timedelta(hours=3)),
            (laptop, web, timedelta(days=8)), (laptop, web, timedelta(days=2, hours=5)),
            (github, web, timedelta(minutes=20)),
        ]  # fmt: skip
        Deployment.objects.bulk_create(
            Deployment(
                project=project,
                ref=f"{(token.pk * 7919 + int(ago.total_seconds())) % 16**7:07x}",
                environment="production",
                created_at=now - ago,
                created_by=token.user,
                token_id=token.pk,
                token_kind=token.kind,
                token_preview=token.preview,
            )
            for token, project, ago in history
        )
