from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from orgs.audit import Actor
from tests.factories import make_personal_token
from tokens.models import Token
from tokens.services import (
    InvalidToken,
    TokenConfigurationError,
    token_revoke,
    token_verify,
)


def test_a_valid_token_verifies_with_one_query_once_recently_used(user, django_assert_num_queries):
    issued = make_personal_token(user)
    token_verify(issued.plaintext)  # first use writes last_used_at
    with django_assert_num_queries(1):
        token = token_verify(issued.plaintext)
    assert token.pk == issued.token.pk
    assert token.user == user


def test_an_unknown_well_formed_token_costs_one_query(db, django_assert_num_queries):
    from tokens import format as token_format

    unknown = token_format.generate("pat", "tdk")
    with django_assert_num_queries(1), pytest.raises(InvalidToken) as caught:
        token_verify(unknown)
    assert caught.value.reason == "unknown"


@pytest.mark.parametrize(
    "garbage", ["", "nope", "tdk_pat_short", "x" * 5000, "tdk_pat_" + "é" * 38]
)
def test_garbage_is_rejected_without_a_query(db, garbage, django_assert_num_queries):
    with django_assert_num_queries(0), pytest.raises(InvalidToken) as caught:
        token_verify(garbage)
    assert caught.value.reason == "malformed"


def test_a_bad_checksum_is_rejected_without_a_query(user, django_assert_num_queries):
    plaintext = make_personal_token(user).plaintext
    typo = plaintext[:-1] + ("A" if plaintext[-1] != "A" else "B")
    with django_assert_num_queries(0), pytest.raises(InvalidToken) as caught:
        token_verify(typo)
    assert caught.value.reason == "bad_checksum"


def test_a_revoked_token_is_refused(user):
    issued = make_personal_token(user)
    token_revoke(token=issued.token, actor=Actor(user=user))
    with pytest.raises(InvalidToken) as caught:
        token_verify(issued.plaintext)
    assert caught.value.reason == "revoked"


def test_an_expired_token_is_refused(user):
    issued = make_personal_token(user, expires_in_days=1)
    assert token_verify(issued.plaintext)
    later = timezone.now() + timedelta(days=1, seconds=1)
    with time_machine.travel(later), pytest.raises(InvalidToken) as caught:
        token_verify(issued.plaintext)
    assert caught.value.reason == "expired"


def test_a_deactivated_users_token_is_refused(user):
    issued = make_personal_token(user)
    user.is_active = False
    user.save()
    with pytest.raises(InvalidToken):
        token_verify(issued.plaintext)


def test_a_token_issued_under_another_salt_is_unknown(user, settings):
    issued = make_personal_token(user)
    settings.TOKEN_HASH_SALT = "another-salt-" + "z" * 32
    with pytest.raises(InvalidToken) as caught:
        token_verify(issued.plaintext)
    assert caught.value.reason == "unknown"


@pytest.mark.parametrize("salt", ["", "too-short"])
def test_a_missing_or_short_salt_is_a_configuration_error(user, settings, salt):
    issued = make_personal_token(user)
    settings.TOKEN_HASH_SALT = salt
    with pytest.raises(TokenConfigurationError):
        token_verify(issued.plaintext)


class TestLastUsed:
    def test_first_use_records_time_and_ip(self, user):
        issued = make_personal_token(user)
        token_verify(issued.plaintext, ip="198.51.100.4")
        token = Token.objects.get(pk=issued.token.pk)
        assert token.last_used_at is not None
        assert token.last_used_ip == "198.51.100.4"

    def test_it_is_written_at_most_once_a_minute(self, user, django_assert_num_queries):
        issued = make_personal_token(user)
        start = timezone.now()
        with time_machine.travel(start, tick=False):
            token_verify(issued.plaintext, ip="198.51.100.4")
        # 59 s later: the SELECT only
        with (
            time_machine.travel(start + timedelta(seconds=59), tick=False),
            django_assert_num_queries(1),
        ):
            token_verify(issued.plaintext, ip="198.51.100.5")
        assert Token.objects.get(pk=issued.token.pk).last_used_ip == "198.51.100.4"
        # 61 s later: the SELECT and one conditional UPDATE (in a savepoint, so a refused
        # write cannot break the caller's transaction)
        with (
            time_machine.travel(start + timedelta(seconds=61), tick=False),
            CaptureQueriesContext(connection) as queries,
        ):
            token_verify(issued.plaintext, ip="198.51.100.6")
        statements = [q["sql"] for q in queries if "SAVEPOINT" not in q["sql"].upper()]
        assert len(statements) == 2, statements
        assert Token.objects.get(pk=issued.token.pk).last_used_ip == "198.51.100.6"

    def test_a_stale_copy_does_not_write_twice(self, user):
        """Two processes holding the same stale row: only one UPDATE matches."""
        from tokens.services import token_touch

        issued = make_personal_token(user)
        first = Token.objects.get(pk=issued.token.pk)
        second = Token.objects.get(pk=issued.token.pk)
        now = timezone.now()
        assert token_touch(first, ip="192.0.2.1", now=now) is True
        assert token_touch(second, ip="192.0.2.2", now=now) is False


def test_a_deployment_token_arrives_with_its_project_and_organization(
    db, django_assert_num_queries
):
    from tests.factories import make_deployment_token, make_org, make_project, make_user

    owner = make_user("o@x.test")
    org = make_org("acme")
    issued = make_deployment_token(make_project(org, "web"), owner)
    token_verify(issued.plaintext)
    with django_assert_num_queries(1):
        token = token_verify(issued.plaintext)
        assert str(token.project) == "acme/web"
        assert token.organization.slug == "acme"
        assert token.created_by_id == owner.pk


def test_the_credential_carries_the_rows_values_as_the_orm_reads_them(user):
    from tokens.credential import Credential
    from tokens.models import Token

    issued = make_personal_token(user, expires_in_days=5)
    verified = token_verify(issued.plaintext)
    assert isinstance(verified, Credential)
    loaded = Token.objects.select_related("user").get(pk=issued.token.pk)
    for name in (
        "id", "kind", "name", "description", "preview", "role", "digest", "salt_fingerprint",
        "created_at", "expires_at", "last_used_at", "revoked_at", "created_by_id", "user_id",
        "organization_id", "project_id",
    ):  # fmt: skip
        assert getattr(verified, name) == getattr(loaded, name), name
    assert verified.expires_at.tzinfo is not None and verified.last_used_at is not None
    assert verified.permissions == tuple(loaded.permissions)
    assert (verified.user_email, verified.user_is_active) == (user.email, True)
    assert verified.user == user and verified.organization is None and verified.project is None


def test_a_ci_credential_names_its_organization_without_another_query(
    user, django_assert_num_queries
):
    from tests.factories import make_ci_token, make_org

    org = make_org("acme")
    issued = make_ci_token(org, user)
    token_verify(issued.plaintext)
    with django_assert_num_queries(1):
        credential = token_verify(issued.plaintext)
        assert credential.organization == org and credential.organization.slug == "acme"
        assert credential.organization_name == org.name
        assert credential.user_id is None and credential.user is None


@pytest.mark.parametrize("prepared", [True, False])
def test_the_lookup_answers_the_same_prepared_or_not(user, settings, prepared):
    """The raw path (not counted by Django: the test counts nothing here) on either backend,
    with PostgreSQL's prepared statement and without."""
    from tokens.lookup import credential_by_digest

    settings.TOKEN_LOOKUP_PREPARED = prepared
    issued = make_personal_token(user)
    for _ in range(3):  # psycopg prepares on first use, then executes by name
        found = credential_by_digest([issued.token.digest])
        assert found is not None and found.id == issued.token.pk
    assert credential_by_digest(["0" * 64]) is None
    assert credential_by_digest(["0" * 64, issued.token.digest]).id == issued.token.pk


def test_postgresql_keeps_the_lookup_as_a_prepared_statement(user, settings):
    if connection.vendor != "postgresql":
        pytest.skip("prepared statements are PostgreSQL's: this runs with DATABASE_URL")
    from tokens.lookup import credential_by_digest

    settings.TOKEN_LOOKUP_PREPARED = True
    issued = make_personal_token(user)
    credential_by_digest([issued.token.digest])
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s",
            ["%tokens_token%digest%"],
        )
        assert cursor.fetchone()[0] >= 1


@pytest.mark.parametrize("state", ["revoked", "expired"])
def test_a_refused_token_costs_one_query(user, state, django_assert_num_queries):
    issued = make_personal_token(user, expires_in_days=1)
    if state == "revoked":
        token_revoke(token=issued.token, actor=Actor(user=user))
    with (
        time_machine.travel(timezone.now() + timedelta(days=2 if state == "expired" else 0)),
        django_assert_num_queries(1),
        pytest.raises(InvalidToken) as caught,
    ):
        token_verify(issued.plaintext)
    assert caught.value.reason == state


@pytest.mark.django_db(transaction=True)
def test_the_lookup_reconnects_once_when_the_reused_connection_died(settings):
    """With CONN_HEALTH_CHECKS the lookup is the request's connection check (no SELECT 1 of
    Django's first): a connection the server dropped between requests is replaced."""
    if connection.vendor != "postgresql":
        pytest.skip("a server that drops connections: this runs with DATABASE_URL=postgres://…")
    import psycopg
    from django.db import close_old_connections

    from tests.factories import make_user

    issued = make_personal_token(make_user("reconnect@x.test"))
    connection.ensure_connection()
    settings_dict = connection.settings_dict
    before = connection.connection.info.backend_pid
    with psycopg.connect(
        host=settings_dict["HOST"] or "localhost",
        port=settings_dict["PORT"] or 5432,
        user=settings_dict["USER"],
        password=settings_dict["PASSWORD"] or None,
        dbname=settings_dict["NAME"],
        autocommit=True,
    ) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [before])
    close_old_connections()  # what a new request does: the next query checks the connection
    assert connection.health_check_enabled and not connection.health_check_done

    assert token_verify(issued.plaintext).id == issued.token.pk
    assert connection.connection.info.backend_pid != before
    assert connection.health_check_done
