import io
import re
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError, SystemCheckError
from django.utils import timezone

from accounts.models import User
from orgs.models import Deployment, Membership, Organization, Project
from tokens.models import Token, TokenUsage
from tokens.services import token_verify
from tokens.usage import usage_of


def run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


class TestSeedDemo:
    def test_it_creates_the_demo_organization(self, db):
        run("seed_demo")
        acme = Organization.objects.get(slug="acme")
        assert acme.name == "Acme Inc"
        roles = dict(
            Membership.objects.filter(organization=acme).values_list("user__email", "role")
        )
        assert roles == {
            "owner@acme.test": "owner",
            "admin@acme.test": "super_admin",
            "dev@acme.test": "member",
        }
        assert set(Project.objects.filter(organization=acme).values_list("slug", flat=True)) == {
            "web",
            "api",
        }
        web = Project.objects.get(organization=acme, slug="web")
        assert list(web.maintainers.values_list("email", flat=True)) == ["dev@acme.test"]
        assert User.objects.get(email="dev@acme.test").check_password("demo-password")
        kinds = set(Token.objects.values_list("kind", flat=True))
        assert kinds == {"pat", "ci", "dep", "srv"}
        legacy = Token.objects.get(kind="srv")
        assert legacy.last_used_at is not None

    def test_its_timestamps_are_consistent(self, db):
        """Every token was created before it was last used and before it deployed (not
        "created 3 minutes ago · last used 2 days ago")."""
        run("seed_demo")
        tokens = Token.objects.all()
        assert tokens.count() == 7
        for token in tokens:
            assert token.created_at < timezone.now() - timedelta(days=7), token.name
            if token.last_used_at is not None:
                assert token.created_at < token.last_used_at, token.name
            used = TokenUsage.objects.filter(token=token).order_by("first_seen").first()
            if used is not None:
                assert token.created_at < used.first_seen, token.name
            first = Deployment.objects.filter(token_id=token.pk).order_by("created_at").first()
            if first is not None:
                assert token.created_at < first.created_at, token.name
                last = Deployment.objects.filter(token_id=token.pk).latest("created_at")
                assert token.last_used_at >= last.created_at, token.name

    def test_it_is_idempotent(self, db):
        run("seed_demo")
        counts = (User.objects.count(), Token.objects.count(), Membership.objects.count())
        usage = list(TokenUsage.objects.values_list("token_id", "day", "route", "calls"))
        run("seed_demo")
        assert (User.objects.count(), Token.objects.count(), Membership.objects.count()) == counts
        assert list(TokenUsage.objects.values_list("token_id", "day", "route", "calls")) == usage

    def test_its_tokens_have_usage_and_one_suggests_narrowing(self, db):
        run("seed_demo")
        checklist = Token.objects.get(name="Release checklist")
        suggestion = usage_of(checklist).suggestion
        assert suggestion == {"projects:read", "audit:read"}
        github = usage_of(Token.objects.get(name="GitHub Actions"))
        assert {a.name for a in github.addresses} == {"203.0.113.7", "198.51.100.20"}
        assert github.suggestion is None

    def test_it_keeps_a_changed_password(self, db):
        run("seed_demo")
        dev = User.objects.get(email="dev@acme.test")
        dev.set_password("changed-it")
        dev.save()
        run("seed_demo")
        assert User.objects.get(email="dev@acme.test").check_password("changed-it")


class TestCreateToken:
    def test_it_prints_only_the_plaintext(self, db):
        run("seed_demo")
        out = run("create_token", "--user", "dev@acme.test", "--name", "bootstrap")
        plaintext = out.strip()
        assert re.fullmatch(r"tdk_pat_[0-9A-Za-z]{38}", plaintext)
        token = token_verify(plaintext)
        assert token.name == "bootstrap" and token.user.email == "dev@acme.test"

    def test_org_and_project_scopes_make_ci_and_deployment_tokens(self, db):
        run("seed_demo")
        ci = token_verify(
            run(
                "create_token", "--user", "owner@acme.test", "--name", "gh", "--org", "acme"
            ).strip()
        )
        assert (ci.kind, ci.organization.slug, ci.role) == ("ci", "acme", "ci")
        dep = token_verify(
            run(
                "create_token", "--user", "owner@acme.test", "--name", "d",
                "--project", "acme/web", "--permissions", "deployments:write",
            ).strip()
        )  # fmt: skip
        assert (dep.kind, dep.project.slug, dep.permissions) == (
            "dep",
            "web",
            ("deployments:write",),
        )

    def test_a_legacy_server_token_can_be_imported(self, db):
        run("seed_demo")
        out = run("create_token", "--user", "owner@acme.test", "--name", "old ci", "--org", "acme",
                  "--legacy-server")  # fmt: skip
        token = token_verify(out.strip())
        assert (token.kind, token.user.email, token.organization.slug) == (
            "srv",
            "owner@acme.test",
            "acme",
        )
        with pytest.raises(CommandError, match="--org"):
            run("create_token", "--user", "owner@acme.test", "--name", "x", "--legacy-server")

    @pytest.mark.parametrize(
        ("args", "message"),
        [
            (["--user", "nobody@x.test", "--name", "n"], "No user"),
            (["--user", "dev@acme.test", "--name", "n", "--org", "nope"], "No organization"),
            (["--user", "dev@acme.test", "--name", "n", "--project", "acme"], "No project"),
            (["--user", "dev@acme.test", "--name", "n", "--permissions", "x:y"], "x:y"),
            (["--user", "dev@acme.test", "--name", "n", "--expires-days", "0"], "between 1"),
        ],
    )
    def test_bad_arguments_fail_clearly(self, db, args, message):
        run("seed_demo")
        with pytest.raises(CommandError, match=message):
            run("create_token", *args)

    def test_without_a_salt_it_fails_clearly(self, db, settings):
        run("seed_demo")
        settings.TOKEN_HASH_SALT = "short"
        with pytest.raises(CommandError, match="TOKEN_HASH_SALT"):
            run("create_token", "--user", "dev@acme.test", "--name", "n")


class TestCheck:
    def test_it_passes_with_a_salt(self, db):
        run("check")

    @pytest.mark.parametrize("salt", ["", "x" * 31])
    def test_it_reports_a_missing_or_short_salt(self, db, settings, salt):
        settings.TOKEN_HASH_SALT = salt
        with pytest.raises(SystemCheckError, match=r"tokens\.E001"):
            run("check")
