"""Every verified API call is counted: per token, day, route template, address, agent,
permission and status class; written at most once a minute per token and process."""

from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from tests.factories import make_ci_token, make_org, make_personal_token, make_project
from tokens import usage
from tokens.models import TokenUsage

CLI = "tokendesk-cli/0.2.1"


@pytest.fixture
def org(db):
    organization = make_org("acme", owner="owner@acme.test")
    make_project(organization, "web")
    return organization


@pytest.fixture
def ci(org):
    return make_ci_token(org, org.memberships.get().user)


def api(client, method, path, token, *, address="203.0.113.5", agent=CLI, **extra):
    headers = {"Authorization": f"Bearer {token}", "User-Agent": agent}
    call = getattr(client, method)
    return call(
        path, headers=headers, REMOTE_ADDR=address, content_type="application/json", **extra
    )


def rows(token):
    usage.flush()
    return list(TokenUsage.objects.filter(token=token).order_by("route", "address", "method"))


def test_it_counts_two_routes_from_two_addresses_by_route_template(client, ci):
    plaintext = ci.plaintext
    assert api(client, "get", "/api/v1/orgs/acme/projects", plaintext).status_code == 200
    assert api(client, "get", "/api/v1/orgs/acme/projects", plaintext).status_code == 200
    deploy = api(
        client,
        "post",
        "/api/v1/orgs/acme/projects/web/deployments",
        plaintext,
        address="198.51.100.7",
        agent="curl/8.5.0",
        data={"ref": "abc123"},
    )
    assert deploy.status_code == 201

    projects, deployments = rows(ci.token)
    assert (projects.method, projects.route) == ("GET", "/api/v1/orgs/{org}/projects")
    assert (projects.address, projects.agent, projects.calls) == (
        "203.0.113.5",
        "tokendesk-cli/0.2",
        2,
    )
    assert (projects.permission, projects.granted, projects.status_class) == (
        "projects:read",
        True,
        2,
    )
    assert projects.project == ""
    assert deployments.method == "POST"
    assert deployments.route == "/api/v1/orgs/{org}/projects/{project}/deployments"
    assert (deployments.address, deployments.agent, deployments.calls) == (
        "198.51.100.7",
        "curl",
        1,
    )
    assert deployments.permission == "deployments:write" and deployments.project == "acme/web"
    assert projects.day == deployments.day == timezone.now().date()
    assert projects.first_seen <= projects.last_seen


def test_routes_are_templates_never_the_raw_path(client, ci):
    api(client, "get", "/api/v1/orgs/acme/projects/web/deployments", ci.plaintext)
    api(client, "delete", f"/api/v1/tokens/{ci.token.preview[:12]}", ci.plaintext)
    api(client, "post", f"/api/v1/tokens/{ci.token.pk}/rotate", ci.plaintext, data={})
    routes = {row.route for row in rows(ci.token)}
    assert routes == {
        "/api/v1/orgs/{org}/projects/{project}/deployments",
        "/api/v1/tokens/{id_or_prefix}",
        "/api/v1/tokens/{token_id}/rotate",
    }
    assert not any("acme" in route or "/web/" in route or "tdk_" in route for route in routes)
    assert f"/api/v1/tokens/{ci.token.pk}/rotate" not in routes


def test_a_403_insufficient_scope_is_an_attempt_not_a_use(client, ci):
    # The "ci" role has projects:read and deployments:write, not tokens:read.
    assert api(client, "get", "/api/v1/orgs/acme/projects", ci.plaintext).status_code == 200
    refused = api(client, "get", "/api/v1/tokens", ci.plaintext)
    assert refused.status_code == 403 and refused.json()["error"] == "insufficient_scope"
    missing = api(client, "get", "/api/v1/orgs/acme/projects/nope/deployments", ci.plaintext)
    assert missing.status_code == 404

    by_route = {row.route: row for row in rows(ci.token)}
    ok = by_route["/api/v1/orgs/{org}/projects"]
    assert (ok.status_class, ok.granted) == (2, True)
    attempt = by_route["/api/v1/tokens"]
    assert (attempt.permission, attempt.status_class, attempt.granted) == ("tokens:read", 4, False)
    # Outside the token's reach, not outside its permissions: the permission was exercised.
    not_found = by_route["/api/v1/orgs/{org}/projects/{project}/deployments"]
    assert (not_found.status_class, not_found.granted) == (4, True)

    used, attempted, first_day = usage.used_permissions(ci.token)
    assert used == {"projects:read", "deployments:read"}
    assert attempted == {"tokens:read"}
    assert first_day == timezone.now().date()


def test_whoami_counts_without_a_permission(client, user):
    issued = make_personal_token(user)
    assert api(client, "get", "/api/v1/whoami", issued.plaintext).status_code == 200
    (row,) = rows(issued.token)
    assert (row.route, row.permission, row.granted) == ("/api/v1/whoami", "", True)


def test_unauthenticated_and_refused_tokens_are_not_counted(client, ci):
    api(client, "get", "/api/v1/whoami", "tdk_ci_nonsense")
    client.get("/api/v1/whoami")
    assert rows(ci.token) == []
    assert not TokenUsage.objects.exists()


def test_the_address_is_the_trusted_proxys_client(client, ci, settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    api(
        client,
        "get",
        "/api/v1/whoami",
        ci.plaintext,
        address="10.1.2.3",
        HTTP_X_FORWARDED_FOR="192.0.2.99, 203.0.113.9",
    )
    (row,) = rows(ci.token)
    assert row.address == "203.0.113.9"


class TestBoundedWrites:
    def test_a_busy_token_is_written_once_a_minute_per_process(self, client, ci):
        start = timezone.now()
        with time_machine.travel(start, tick=False) as clock:
            for _ in range(20):
                api(client, "get", "/api/v1/whoami", ci.plaintext)
            # The first call was written at once, the next 19 wait for the window.
            assert usage.BUFFER.writes == 1
            assert TokenUsage.objects.get(token=ci.token).calls == 1
            clock.shift(timedelta(seconds=59))
            api(client, "get", "/api/v1/whoami", ci.plaintext)
            assert usage.BUFFER.writes == 1
            clock.shift(timedelta(seconds=2))
            api(client, "get", "/api/v1/whoami", ci.plaintext)
            assert usage.BUFFER.writes == 2
        assert TokenUsage.objects.get(token=ci.token).calls == 22

    def test_verification_stays_one_query_while_the_buffer_is_not_due(
        self, client, ci, django_assert_num_queries
    ):
        api(client, "get", "/api/v1/whoami", ci.plaintext)  # last use and counters written
        with django_assert_num_queries(1):
            assert api(client, "get", "/api/v1/whoami", ci.plaintext).status_code == 200

    def test_a_quiet_tokens_counters_go_out_with_another_tokens_call(self, client, org, ci):
        other = make_ci_token(org, org.memberships.get().user, name="Other")
        start = timezone.now()
        with time_machine.travel(start, tick=False) as clock:
            api(client, "get", "/api/v1/whoami", ci.plaintext)
            api(client, "get", "/api/v1/whoami", ci.plaintext)  # buffered
            clock.shift(timedelta(minutes=2))
            api(client, "get", "/api/v1/whoami", other.plaintext)
            assert TokenUsage.objects.get(token=ci.token).calls == 2
            clock.shift(timedelta(minutes=2))
            api(client, "get", "/api/v1/whoami", other.plaintext)
        # Nothing pending for the quiet token, and its window passed: the buffer forgot it.
        assert ci.token.pk not in usage.BUFFER.due and ci.token.pk not in usage.BUFFER.pending

    def test_a_failed_write_is_logged_and_never_fails_the_request(
        self, client, ci, caplog, monkeypatch
    ):
        monkeypatch.setattr(usage, "_upsert_sql", lambda rows: "SELECT * FROM no_such_table")
        assert api(client, "get", "/api/v1/whoami", ci.plaintext).status_code == 200
        assert f"skipped usage counters of tokens [{ci.token.pk}]" in caplog.text
        assert not TokenUsage.objects.exists()


class TestRetention:
    def test_the_purge_keeps_the_retention_window_and_is_idempotent(self, ci, settings):
        settings.TOKENDESK_USAGE_RETENTION_DAYS = 90
        today = timezone.now().date()
        for age in (0, 89, 90, 400):
            day = today - timedelta(days=age)
            usage.record(
                usage.Call(ci.token.pk, day, "GET", "/api/v1/whoami", "", "curl", "", True, 2, "")
            )
            usage.flush()
        assert usage.purge(today=today) == 2
        assert usage.purge(today=today) == 0
        kept = sorted((today - row.day).days for row in TokenUsage.objects.all())
        assert kept == [0, 89]

    def test_the_command_and_the_scheduler_purge(self, ci):
        old = timezone.now().date() - timedelta(days=365)
        usage.record(usage.Call(ci.token.pk, old, "GET", "/r", "", "curl", "", True, 2, ""))
        usage.flush()
        from io import StringIO

        out = StringIO()
        call_command("purge_token_usage", stdout=out)
        assert "Deleted 1 usage counter older than 90 days." in out.getvalue()
        from events import scheduler

        assert scheduler.tick()["token usage purged"] == 0


@pytest.mark.parametrize(
    ("header", "family"),
    [
        ("tokendesk-cli/0.2.1", "tokendesk-cli/0.2"),
        ("tokendesk-cli/1", "tokendesk-cli/1"),
        ("curl/8.5.0", "curl"),
        ("python-requests/2.32.3", "python-requests"),
        ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/131.0", "browser"),
        ("Go-http-client/2.0", "go-http-client"),
        ("", "other"),
        ("my-script " + "x" * 500, "other"),
        ("tokendesk-cli/" + "9" * 50, "other"),
    ],
)
def test_agent_families_are_short_names(header, family):
    assert usage.agent_family(header) == family
    assert len(usage.agent_family(header)) <= usage.AGENT_MAX


def test_route_templates_drop_converters():
    assert (
        usage.route_template("api/v1/tokens/<int:token_id>/usage")
        == "/api/v1/tokens/{token_id}/usage"
    )
    assert usage.route_template("api/v1/orgs/<org>/audit") == "/api/v1/orgs/{org}/audit"
