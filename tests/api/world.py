"""One organization with every kind of caller, for the API tests."""

from dataclasses import dataclass, field

from orgs.audit import Actor
from orgs.models import Membership, Organization, Project
from tests.factories import (
    make_ci_token,
    make_deployment_token,
    make_legacy_server_token,
    make_org,
    make_project,
    make_user,
)
from tokens import permissions as perms
from tokens.models import Token
from tokens.services import token_issue

ALL = frozenset(perms.PERMISSIONS)


@dataclass
class World:
    acme: Organization
    beta: Organization
    web: Project
    api: Project
    callers: dict[str, str] = field(default_factory=dict)  # name → plaintext
    targets: dict[str, Token] = field(default_factory=dict)


def personal(user, name, permissions=ALL, **extra) -> str:
    return token_issue(
        kind=Token.Kind.PERSONAL,
        user=user,
        name=name,
        permissions=frozenset(permissions),
        actor=Actor(user=user),
        **extra,
    ).plaintext


def build_world() -> World:
    acme = make_org("acme", owner="owner@acme.test")
    acme.allow_personal_token_deploys = True
    acme.save()
    beta = make_org("beta", owner="boss@beta.test")
    owner = Membership.objects.get(organization=acme).user
    member = make_user("member@acme.test")
    maintainer = make_user("maintainer@acme.test")
    outsider = make_user("outsider@x.test")
    for user in (member, maintainer):
        Membership.objects.create(user=user, organization=acme, role="member")
    web, api = make_project(acme, "web"), make_project(acme, "api")
    make_project(beta, "site")
    web.maintainers.add(maintainer)
    world = World(acme=acme, beta=beta, web=web, api=api)
    world.callers = {
        "pat_owner": personal(owner, "owner all"),
        "pat_member": personal(member, "member all"),
        "pat_maintainer": personal(maintainer, "maintainer all"),
        "pat_outsider": personal(outsider, "outsider all"),
        "pat_owner_default": personal(owner, "owner default", perms.DEFAULT_PERMISSIONS),
        "ci_ci": make_ci_token(acme, owner, name="ci", role="ci").plaintext,
        "ci_read_only": make_ci_token(acme, owner, name="ro", role="read_only").plaintext,
        "ci_admin": make_ci_token(acme, owner, name="admin", role="admin").plaintext,
        "dep_web": make_deployment_token(web, owner, name="web").plaintext,
        "dep_api": make_deployment_token(api, owner, name="api").plaintext,
        "dep_web_admin": token_issue(
            kind=Token.Kind.DEPLOYMENT,
            project=web,
            name="web admin",
            role="admin",
            permissions=ALL,
            actor=Actor(user=owner),
        ).plaintext,
    }
    world.targets = {
        "ci": make_ci_token(acme, owner, name="target ci", role="ci").token,
        "dep_web": make_deployment_token(web, owner, name="target web").token,
        "srv": make_legacy_server_token(acme, owner, name="target legacy").token,
    }
    return world
