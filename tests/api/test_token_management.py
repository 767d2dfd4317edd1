import pytest

from orgs.audit import Actor
from orgs.models import Membership
from tests.api.world import build_world, personal
from tests.factories import make_ci_token, make_deployment_token
from tokens.models import Token
from tokens.services import token_issue, token_verify

API = "/api/v1"


def deploy(client, token, ref, project="web"):
    return call(client, token, "post", f"/orgs/acme/projects/{project}/deployments", {"ref": ref})


def create(client, token, **body):
    return call(client, token, "post", "/tokens", body)


def call(client, token, method, path, body=None):
    headers = {"Authorization": f"Bearer {token}"}
    if body is None:
        return getattr(client, method)(API + path, headers=headers)
    return getattr(client, method)(
        API + path, body, content_type="application/json", headers=headers
    )


@pytest.fixture
def world(db):
    return build_world()


@pytest.fixture
def owner(world):
    return Membership.objects.get(organization=world.acme, role="owner").user


class TestNoEscalation:
    def refused(self, client, token, body, error="insufficient_scope"):
        before = Token.objects.count()
        response = call(client, token, "post", "/tokens", body)
        assert response.status_code == 403, response.content
        assert response.json()["error"] == error
        assert Token.objects.count() == before
        return response.json()["detail"]

    def test_a_token_cannot_grant_a_permission_it_lacks(self, client, world, owner):
        narrow = personal(owner, "narrow", {"tokens:write", "projects:read"})
        detail = self.refused(client, narrow, {"name": "x", "permissions": ["audit:read"]})
        assert "audit:read" in detail

    def test_write_implied_read_can_be_granted(self, client, world, owner):
        narrow = personal(owner, "narrow", {"tokens:write", "deployments:write"})
        response = call(
            client, narrow, "post", "/tokens", {"name": "x", "permissions": ["tokens:read"]}
        )
        assert response.status_code == 201

    def test_a_member_cannot_grant_beyond_their_role(self, client, world):
        member = Membership.objects.get(user__email="maintainer@acme.test").user
        token = personal(member, "all")
        detail = self.refused(
            client, token, {"name": "x", "project": "acme/web", "permissions": ["members:write"]}
        )
        assert "members:write" in detail

    def test_a_deployment_token_cannot_reach_wider(self, client, world, owner):
        dep = token_issue(
            kind="dep", project=world.web, name="minting", role="custom",
            permissions=frozenset({"tokens:write", "deployments:write"}), actor=Actor(user=owner),
        ).plaintext  # fmt: skip
        self.refused(
            client, dep, {"name": "x", "org": "acme", "permissions": ["deployments:write"]}
        )
        self.refused(client, dep, {"name": "x", "permissions": ["deployments:write"]})
        other = create(client, dep, name="x", project="acme/api", permissions=["deployments:write"])
        assert other.status_code == 403
        own = create(client, dep, name="x", project="acme/web", permissions=["deployments:write"])
        assert own.status_code == 201
        assert token_verify(own.json()["token"]).project == world.web

    def test_a_ci_token_cannot_reach_another_org(self, client, world):
        admin = world.callers["ci_admin"]
        response = call(
            client, admin, "post", "/tokens", {"name": "x", "org": "beta", "role": "ci"}
        )
        assert response.status_code == 404
        assert not Token.objects.filter(organization=world.beta).exists()

    def test_a_token_cannot_mint_one_that_outlives_it(self, client, world, owner):
        short = personal(owner, "short", expires_in_days=5)
        self.refused(client, short, {"name": "forever", "permissions": ["projects:read"]})
        self.refused(
            client, short, {"name": "long", "permissions": ["projects:read"], "expires_in_days": 30}
        )
        ok = create(client, short, name="ok", permissions=["projects:read"], expires_in_days=2)
        assert ok.status_code == 201

    def test_resetting_a_stronger_token_is_refused(self, client, world, owner):
        weak = make_ci_token(world.acme, owner, name="weak", role="ci")
        custom = token_issue(
            kind="ci", organization=world.acme, name="rotator", role="custom",
            permissions=frozenset({"tokens:write"}), actor=Actor(user=owner),
        ).plaintext  # fmt: skip
        strong = make_ci_token(world.acme, owner, name="strong", role="admin")
        assert call(client, custom, "post", f"/tokens/{strong.token.pk}/reset").status_code == 403
        token_verify(strong.plaintext)  # still the old secret
        assert call(client, custom, "post", f"/tokens/{weak.token.pk}/reset").status_code == 403

    def test_a_personal_token_follows_its_users_role_at_request_time(self, client, world, owner):
        admin_user = Membership.objects.get(user__email="member@acme.test")
        admin_user.role = "super_admin"
        admin_user.save()
        token = personal(admin_user.user, "mine")
        assert call(client, token, "get", "/tokens?type=ci").json()["count"] == 4
        admin_user.role = "member"
        admin_user.save()
        assert call(client, token, "get", "/tokens?type=ci").json()["count"] == 0
        admin_user.delete()
        assert call(client, token, "get", "/orgs/acme/projects").status_code == 404


class TestCreateAndList:
    def test_create_answers_the_plaintext_once_with_no_store(self, client, world):
        response = create(
            client,
            world.callers["ci_admin"],
            name="Deploy bot",
            project="acme/web",
            role="ci",
            expires_in_days=30,
        )
        assert response.status_code == 201
        assert response["Cache-Control"] == "no-store"
        body = response.json()
        assert body["kind"] == "deployment" and body["project"] == "acme/web"
        assert body["permissions"] == ["projects:read", "deployments:write"]
        token = token_verify(body["token"])
        assert token.preview == body["preview"]
        listing = call(client, world.callers["ci_admin"], "get", "/tokens?project=acme/web")
        assert body["token"] not in listing.content.decode()
        assert body["id"] in [item["id"] for item in listing.json()["items"]]

    @pytest.mark.parametrize(
        ("body", "error", "named"),
        [
            (
                {"name": "x", "permissions": ["rockets:launch"]},
                "unknown_permission",
                "rockets:launch",
            ),
            ({"name": "x", "role": "root"}, "unknown_role", "root"),
            (
                {"name": "x", "role": "ci", "permissions": ["projects:read"]},
                "validation_error",
                "either",
            ),
            ({"name": "", "permissions": ["projects:read"]}, "validation_error", "name"),
            ({"name": "x", "expires_in_days": 0}, "validation_error", "expires_in_days"),
            ({"name": "x", "expires_in_days": 4000}, "validation_error", "expires_in_days"),
            ({"permissions": ["projects:read"]}, "validation_error", "name"),
        ],
    )
    def test_bad_bodies_answer_422_naming_the_problem(self, client, world, body, error, named):
        before = Token.objects.count()
        response = call(client, world.callers["pat_owner"], "post", "/tokens", body)
        assert response.status_code == 422
        assert response.json()["error"] == error
        assert named in response.json()["detail"].lower() or named in response.json()["detail"]
        assert Token.objects.count() == before

    def test_list_filters_and_paginates(self, client, world, owner):
        for number in range(7):
            make_deployment_token(world.api, owner, name=f"api {number}")
        caller = world.callers["ci_read_only"]
        page = call(client, caller, "get", "/tokens?type=deployment&project=acme/api&limit=5")
        assert page.json()["count"] == 8  # 7 + the caller set's api token
        assert len(page.json()["items"]) == 5
        rest = call(
            client, caller, "get", "/tokens?type=deployment&project=acme/api&limit=5&offset=5"
        )
        assert len(rest.json()["items"]) == 3
        assert call(client, caller, "get", "/tokens?type=bogus").status_code == 422
        for item in page.json()["items"]:
            assert set(item) >= {"id", "preview"} and "digest" not in item and "token" not in item

    def test_delete_by_preview_prefix_and_ambiguity(self, client, world, owner):
        issued = make_deployment_token(world.web, owner, name="by prefix")
        caller = world.callers["ci_admin"]
        prefix = issued.token.preview.split("…")[0]
        assert call(client, caller, "delete", f"/tokens/{prefix}").status_code == 204
        assert Token.objects.get(pk=issued.token.pk).revoked_at is not None
        assert call(client, caller, "delete", "/tokens/tdk_dep_").status_code == 422
        twins = [make_deployment_token(world.web, owner, name=f"twin {n}").token for n in range(2)]
        Token.objects.filter(pk__in=[t.pk for t in twins]).update(preview="tdk_dep_SAME…xxxx")
        ambiguous = call(client, caller, "delete", "/tokens/tdk_dep_SAME")
        assert ambiguous.status_code == 409
        assert "tdk_dep_SAME…" not in ambiguous.json()["detail"]
        assert (
            Token.objects.filter(pk__in=[t.pk for t in twins], revoked_at__isnull=True).count() == 2
        )

    def test_deleting_twice_answers_404_the_second_time(self, client, world):
        target = world.targets["dep_web"].pk
        caller = world.callers["pat_owner"]
        assert call(client, caller, "delete", f"/tokens/{target}").status_code == 204
        assert call(client, caller, "delete", f"/tokens/{target}").status_code == 404


class TestDeployments:
    def test_the_personal_token_deploy_policy(self, client, world):
        world.acme.allow_personal_token_deploys = False
        world.acme.save()
        refused = deploy(client, world.callers["pat_owner"], "a")
        assert refused.status_code == 403
        assert refused.json()["error"] == "personal_token_deploys_disabled"
        assert "CI token" in refused.json()["detail"]
        assert (
            call(client, world.callers["pat_owner"], "get", "/orgs/acme/projects").status_code
            == 200
        )
        ok = deploy(client, world.callers["ci_ci"], "a")
        assert ok.status_code == 201 and ok.json()["token_kind"] == "ci"

    def test_a_legacy_server_token_works_but_is_marked_deprecated(self, client, world, owner):
        legacy = token_issue(
            kind="srv", organization=world.acme, user=owner, name="legacy",
            permissions=frozenset({"projects:read", "deployments:write"}), actor=Actor(user=owner),
        ).plaintext  # fmt: skip
        response = deploy(client, legacy, "b")
        assert response.status_code == 201
        assert response["Deprecation"] == "true"
        assert "CI token" in response["Warning"]
        assert response.json()["token_kind"] == "server"
        ci = deploy(client, world.callers["ci_ci"], "c")
        assert "Deprecation" not in ci

    def test_deployments_are_listed_newest_first(self, client, world):
        for ref in ("one", "two", "three"):
            deploy(client, world.callers["dep_web"], ref)
        listing = call(
            client, world.callers["dep_web"], "get", "/orgs/acme/projects/web/deployments"
        )
        assert [d["ref"] for d in listing.json()["items"]] == ["three", "two", "one"]

    @pytest.mark.parametrize("ref", ["", "   ", "x" * 201])
    def test_a_bad_ref_answers_422(self, client, world, ref):
        response = deploy(client, world.callers["ci_ci"], ref)
        assert response.status_code == 422

    def test_a_deleted_projects_token_reaches_nothing(self, client, world, owner):
        from orgs.services import project_delete

        project_delete(project=world.web, actor=Actor(user=owner))
        response = call(client, world.callers["dep_web"], "get", "/orgs/acme/projects")
        assert response.status_code == 401
