"""Every endpoint × every kind of caller, the expected status written out
(docs/design.md#permissions-and-roles, docs/api.md).

Callers: personal tokens (all permissions) of an owner, a member, a maintainer of `web`
and an outsider; an owner's personal token with the default permissions; CI tokens with
the roles ci, read_only and admin; deployment tokens of `web` and of `api`; a deployment
token of `web` with every permission (what a project-scoped token reaches even when it may
do everything)."""

import pytest

from orgs.audit import Actor, record
from orgs.models import AuditEvent, Membership
from tests.api.world import build_world
from tests.factories import make_deployment_token

CALLERS = [
    "pat_owner", "pat_member", "pat_maintainer", "pat_outsider", "pat_owner_default",
    "ci_ci", "ci_read_only", "ci_admin", "dep_web", "dep_api", "dep_web_admin",
]  # fmt: skip

# endpoint name → (method, path, body, expected status per caller, in CALLERS order)
ENDPOINTS = {
    "whoami": ("get", "/whoami", None,
               [200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200]),
    "list orgs": ("get", "/orgs", None,
                  [200, 200, 200, 200, 403, 403, 200, 200, 403, 403, 200]),
    "list projects": ("get", "/orgs/acme/projects", None,
                      [200, 200, 200, 404, 200, 200, 200, 200, 200, 200, 200]),
    "another org's projects": ("get", "/orgs/beta/projects", None,
                               [404, 404, 404, 404, 404, 404, 404, 404, 404, 404, 404]),
    "deploy web": ("post", "/orgs/acme/projects/web/deployments", {"ref": "v1.2.3"},
                   [201, 201, 201, 404, 201, 201, 403, 201, 201, 404, 201]),
    "list web deployments": ("get", "/orgs/acme/projects/web/deployments", None,
                             [200, 200, 200, 404, 200, 200, 200, 200, 200, 404, 200]),
    # A deployment token reads only its project's events: see test_audit_reach below.
    "read the audit log": ("get", "/orgs/acme/audit", None,
                           [200, 403, 403, 404, 403, 403, 200, 200, 403, 403, 200]),
    "list tokens": ("get", "/tokens", None,
                    [200, 200, 200, 200, 403, 403, 200, 200, 403, 403, 200]),
    "create personal token": ("post", "/tokens", {"name": "n", "permissions": ["projects:read"]},
                              [201, 201, 201, 201, 403, 403, 403, 403, 403, 403, 403]),
    "create CI token": ("post", "/tokens", {"name": "n", "org": "acme", "role": "read_only"},
                        [201, 403, 403, 404, 403, 403, 403, 201, 403, 403, 403]),
    "create web deployment token": ("post", "/tokens",
                                    {"name": "n", "project": "acme/web", "role": "ci"},
                                    [201, 403, 201, 404, 403, 403, 403, 201, 403, 403, 201]),
    "reset a CI token": ("post", "/tokens/{ci}/reset", None,
                              [200, 404, 404, 404, 403, 403, 403, 200, 403, 403, 404]),
    "delete a web deployment token": ("delete", "/tokens/{dep_web}", None,
                                      [204, 404, 204, 404, 403, 403, 403, 204, 403, 403, 204]),
    # Legacy server tokens are listed and revoked, never given a new secret: 409.
    "reset a legacy server token": ("post", "/tokens/{srv}/reset", None,
                                         [409, 404, 404, 404, 403, 403, 403, 409, 403, 403, 404]),
    "revoke a legacy server token": ("delete", "/tokens/{srv}", None,
                                     [204, 404, 404, 404, 403, 403, 403, 204, 403, 403, 404]),
}  # fmt: skip

CELLS = [
    (endpoint, caller, statuses[index])
    for endpoint, (_, _, _, statuses) in ENDPOINTS.items()
    for index, caller in enumerate(CALLERS)
]


@pytest.mark.parametrize(
    ("endpoint", "caller", "expected"), CELLS, ids=[f"{e} · {c}" for e, c, _ in CELLS]
)
def test_permission_matrix(client, db, endpoint, caller, expected):
    world = build_world()
    method, path, body, _ = ENDPOINTS[endpoint]
    path = path.format(**{name: token.pk for name, token in world.targets.items()})
    headers = {"Authorization": f"Bearer {world.callers[caller]}"}
    if body is None:
        response = getattr(client, method)(f"/api/v1{path}", headers=headers)
    else:
        response = getattr(client, method)(
            f"/api/v1{path}", body, content_type="application/json", headers=headers
        )
    assert response.status_code == expected, response.content
    if expected in (401, 403):
        challenge = response["WWW-Authenticate"]
        assert challenge.startswith('Bearer realm="tokendesk", error="')
        assert response.json()["error"] in challenge
    if expected >= 400:
        assert set(response.json()) == {"error", "detail"}


# Which audit events each caller that may read the log gets: the organization's whole log,
# or only its own project's events.
AUDIT_REACH = {
    "pat_owner": "organization",
    "ci_read_only": "organization",
    "ci_admin": "organization",
    "dep_web_admin": "web",
}


@pytest.mark.parametrize(("caller", "reach"), AUDIT_REACH.items())
def test_audit_reach(client, db, caller, reach):
    world = build_world()
    owner = Membership.objects.get(organization=world.acme, role="owner").user
    member = Membership.objects.filter(organization=world.acme, role="member").first()
    record("member.remove", actor=Actor(user=owner), target=member,
           data={"email": member.user.email})  # fmt: skip
    record("project.update", actor=Actor(user=owner), target=world.api)
    record("project.update", actor=Actor(user=owner), target=world.web)
    make_deployment_token(world.api, owner, name="api later")
    make_deployment_token(world.web, owner, name="web later")
    response = client.get(
        "/api/v1/orgs/acme/audit?limit=100",
        headers={"Authorization": f"Bearer {world.callers[caller]}"},
    )
    assert response.status_code == 200
    seen = {item["id"] for item in response.json()["items"]}
    everything = set(
        AuditEvent.objects.filter(organization=world.acme).values_list("pk", flat=True)
    )
    webs = set(
        AuditEvent.objects.filter(organization=world.acme, project=world.web).values_list(
            "pk", flat=True
        )
    )
    assert seen == (everything if reach == "organization" else webs)
    assert len(webs) >= 4 and webs < everything  # the web project's own events, fewer than all
