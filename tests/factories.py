"""Small factories: real rows made through the real services."""

from accounts.models import User
from orgs.audit import Actor
from orgs.models import Membership, Organization, Project
from tokens import permissions as perms
from tokens.models import Token
from tokens.services import IssuedToken, token_issue


def make_user(email: str, password: str = "pw-for-tests") -> User:
    return User.objects.create_user(email=email, password=password)


def make_org(slug: str = "acme", **members: str) -> Organization:
    """make_org("acme", owner="a@x.test") — keyword is the role, value the user's e-mail."""
    organization = Organization.objects.create(slug=slug, name=slug.title())
    for role, email in members.items():
        member = User.objects.filter(email=email).first() or make_user(email)
        Membership.objects.create(user=member, organization=organization, role=role)
    return organization


def make_project(organization: Organization, slug: str = "web") -> Project:
    return Project.objects.create(organization=organization, slug=slug, name=slug.title())


def make_personal_token(
    user: User, name: str = "laptop", permissions=perms.DEFAULT_PERMISSIONS, **extra
) -> IssuedToken:
    return token_issue(
        kind=Token.Kind.PERSONAL,
        user=user,
        name=name,
        permissions=frozenset(permissions),
        actor=Actor(user=user),
        **extra,
    )


def make_ci_token(
    organization: Organization,
    creator: User,
    name: str = "GitHub Actions",
    role: str = "ci",
    **extra,
) -> IssuedToken:
    return token_issue(
        kind=Token.Kind.CI,
        organization=organization,
        name=name,
        role=role,
        permissions=perms.for_role(role),
        actor=Actor(user=creator),
        **extra,
    )


def make_deployment_token(project: Project, creator: User, name: str = "deploy") -> IssuedToken:
    return token_issue(
        kind=Token.Kind.DEPLOYMENT,
        project=project,
        name=name,
        role="ci",
        permissions=perms.ROLE_PRESETS["ci"],
        actor=Actor(user=creator),
    )


def make_legacy_server_token(
    organization: Organization, user: User, name: str = "Legacy deploy server"
) -> IssuedToken:
    """An imported legacy server token (`manage.py create_token --legacy-server`)."""
    return token_issue(
        kind=Token.Kind.SERVER,
        organization=organization,
        user=user,
        name=name,
        permissions=perms.ROLE_PRESETS["ci"],
        actor=Actor(user=user),
    )
