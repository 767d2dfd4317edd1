"""docs/design.md#permissions-and-roles as a table: every page and action × owner, super
admin, member, maintainer, outsider. Allowed → works (2xx/3xx); not a member or a hidden
page → 404; a member on a page they can see but an action they cannot do → 403. Never a
500."""

import pytest
from django.urls import reverse

from orgs.models import Membership
from tests.factories import make_ci_token, make_deployment_token, make_org, make_project, make_user

ROLES = ["owner", "super_admin", "member", "maintainer", "outsider"]


@pytest.fixture
def world(db):
    org = make_org("acme", owner="owner@x.test", super_admin="admin@x.test")
    for email in ("member@x.test", "maintainer@x.test"):
        Membership.objects.create(user=make_user(email), organization=org, role="member")
    make_user("outsider@x.test")
    web = make_project(org, "web")
    make_project(org, "api")
    web.maintainers.add(Membership.objects.get(user__email="maintainer@x.test").user)
    owner = Membership.objects.get(user__email="owner@x.test").user
    ci = make_ci_token(org, owner).token
    dep = make_deployment_token(web, owner).token
    second_owner = make_user("owner2@x.test")
    victim = Membership.objects.create(user=second_owner, organization=org, role="member")
    return {"org": org, "web": web, "ci": ci, "dep": dep, "victim": victim}


def client_for(client, role):
    from accounts.models import User

    client.force_login(
        User.objects.get(email=f"{'admin' if role == 'super_admin' else role}@x.test")
    )
    return client


# (name, method, url builder, data, {role: expected status})
CASES = [
    ("overview", "get", lambda w: reverse("orgs:overview", args=["acme"]), None,
     {"owner": 200, "super_admin": 200, "member": 200, "maintainer": 200, "outsider": 404}),
    ("members page", "get", lambda w: reverse("orgs:members", args=["acme"]), None,
     {"owner": 200, "super_admin": 200, "member": 200, "maintainer": 200, "outsider": 404}),
    ("add member", "post", lambda w: reverse("orgs:member-add", args=["acme"]),
     {"email": "outsider@x.test", "role": "member"},
     {"owner": 302, "super_admin": 302, "member": 403, "maintainer": 403, "outsider": 404}),
    ("change a member's role", "post",
     lambda w: reverse("orgs:member-role", args=["acme", w["victim"].pk]), {"role": "super_admin"},
     {"owner": 302, "super_admin": 302, "member": 403, "maintainer": 403, "outsider": 404}),
    ("remove a member", "post",
     lambda w: reverse("orgs:member-remove", args=["acme", w["victim"].pk]), {},
     {"owner": 302, "super_admin": 302, "member": 403, "maintainer": 403, "outsider": 404}),
    ("create project", "post", lambda w: reverse("orgs:project-create", args=["acme"]),
     {"name": "Docs", "slug": "docs"},
     {"owner": 302, "super_admin": 302, "member": 403, "maintainer": 403, "outsider": 404}),
    ("edit project", "post",
     lambda w: reverse("orgs:project-edit", args=["acme", "api"]), {"name": "API 2"},
     {"owner": 302, "super_admin": 302, "member": 403, "maintainer": 403, "outsider": 404}),
    ("delete project", "post", lambda w: reverse("orgs:project-delete", args=["acme", "api"]), {},
     {"owner": 302, "super_admin": 302, "member": 403, "maintainer": 403, "outsider": 404}),
    ("CI tokens page", "get", lambda w: reverse("tokens:ci", args=["acme"]), None,
     {"owner": 200, "super_admin": 200, "member": 404, "maintainer": 404, "outsider": 404}),
    ("create CI token", "post", lambda w: reverse("tokens:ci-create", args=["acme"]),
     {"name": "new", "role": "ci", "expires_in_days": ""},
     {"owner": 200, "super_admin": 200, "member": 404, "maintainer": 404, "outsider": 404}),
    ("reset CI token", "post",
     lambda w: reverse("tokens:ci-reset", args=["acme", w["ci"].pk]), {},
     {"owner": 200, "super_admin": 200, "member": 404, "maintainer": 404, "outsider": 404}),
    ("delete CI token", "post",
     lambda w: reverse("tokens:ci-revoke", args=["acme", w["ci"].pk]), {},
     {"owner": 302, "super_admin": 302, "member": 404, "maintainer": 404, "outsider": 404}),
    ("token policy", "post", lambda w: reverse("tokens:ci-policy", args=["acme"]),
     {"max_lifetime_days": "90", "confirmed": "on"},
     {"owner": 302, "super_admin": 302, "member": 404, "maintainer": 404, "outsider": 404}),
    ("audit log", "get", lambda w: reverse("orgs:audit", args=["acme"]), None,
     {"owner": 200, "super_admin": 200, "member": 404, "maintainer": 404, "outsider": 404}),
    ("deploy-auth page", "get", lambda w: reverse("tokens:deploy-auth", args=["acme"]), None,
     {"owner": 200, "super_admin": 200, "member": 404, "maintainer": 404, "outsider": 404}),
    ("deploy-auth switch", "post",
     lambda w: reverse("tokens:deploy-auth-policy", args=["acme"]), {},
     {"owner": 302, "super_admin": 302, "member": 404, "maintainer": 404, "outsider": 404}),
    ("deployment tokens page", "get",
     lambda w: reverse("tokens:deployment", args=["acme", "web"]), None,
     {"owner": 200, "super_admin": 200, "member": 404, "maintainer": 200, "outsider": 404}),
    ("another project's deployment tokens", "get",
     lambda w: reverse("tokens:deployment", args=["acme", "api"]), None,
     {"owner": 200, "super_admin": 200, "member": 404, "maintainer": 404, "outsider": 404}),
    ("generate deployment token", "post",
     lambda w: reverse("tokens:deployment-generate", args=["acme", "web"]), {},
     {"owner": 200, "super_admin": 200, "member": 404, "maintainer": 200, "outsider": 404}),
    ("delete deployment token", "post",
     lambda w: reverse("tokens:deployment-revoke", args=["acme", "web", w["dep"].pk]), {},
     {"owner": 302, "super_admin": 302, "member": 404, "maintainer": 302, "outsider": 404}),
]  # fmt: skip


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    ("name", "method", "url", "data", "expected"), CASES, ids=[case[0] for case in CASES]
)
def test_role_matrix(client, world, role, name, method, url, data, expected):
    client = client_for(client, role)
    response = (
        getattr(client, method)(url(world), data) if data is not None else client.get(url(world))
    )
    assert response.status_code == expected[role], f"{role} → {name}"


def test_a_super_admin_cannot_touch_an_owner(client, world):
    owner = Membership.objects.get(user__email="owner@x.test")
    client = client_for(client, "super_admin")
    url = reverse("orgs:member-role", args=["acme", owner.pk])
    assert client.post(url, {"role": "member"}).status_code == 403
    assert client.post(reverse("orgs:member-remove", args=["acme", owner.pk])).status_code == 403
    promote = reverse("orgs:member-role", args=["acme", world["victim"].pk])
    assert client.post(promote, {"role": "owner"}).status_code == 403
    add = reverse("orgs:member-add", args=["acme"])
    assert client.post(add, {"email": "outsider@x.test", "role": "owner"}).status_code == 403
    assert Membership.objects.get(pk=owner.pk).role == "owner"
    assert Membership.objects.get(pk=world["victim"].pk).role == "member"


class TestAnotherOrganization:
    """A super admin of org A guessing ids and slugs of org B finds nothing."""

    @pytest.fixture
    def other(self, world):
        beta = make_org("beta", owner="boss@beta.test")
        boss = Membership.objects.get(organization=beta).user
        secret = make_project(beta, "secret")
        return {
            "beta": beta,
            "ci": make_ci_token(beta, boss, name="beta ci").token,
            "dep": make_deployment_token(secret, boss).token,
            "member": Membership.objects.get(organization=beta),
        }

    def test_nothing_of_org_b_is_reachable(self, client, world, other):
        client = client_for(client, "super_admin")
        urls = [
            ("get", reverse("orgs:overview", args=["beta"])),
            ("get", reverse("tokens:ci", args=["beta"])),
            ("post", reverse("tokens:ci-reset", args=["beta", other["ci"].pk])),
            ("post", reverse("tokens:ci-revoke", args=["beta", other["ci"].pk])),
            # org B's ids through org A's URLs
            ("post", reverse("tokens:ci-reset", args=["acme", other["ci"].pk])),
            ("post", reverse("tokens:ci-revoke", args=["acme", other["ci"].pk])),
            ("post", reverse("tokens:deployment-revoke", args=["acme", "web", other["dep"].pk])),
            ("get", reverse("tokens:deployment", args=["beta", "secret"])),
            ("get", reverse("tokens:deployment", args=["acme", "secret"])),
            ("post", reverse("orgs:member-role", args=["acme", other["member"].pk])),
            ("post", reverse("orgs:member-remove", args=["acme", other["member"].pk])),
            ("post", reverse("orgs:project-delete", args=["acme", "secret"])),
        ]
        for method, url in urls:
            assert getattr(client, method)(url).status_code == 404, url
        other["ci"].refresh_from_db()
        other["dep"].refresh_from_db()
        assert other["ci"].revoked_at is None and other["dep"].revoked_at is None
        assert Membership.objects.get(pk=other["member"].pk).role == "owner"
