"""The verification lookup: one hand-written SQL statement, the same on SQLite and PostgreSQL,
returning a `Credential` (tokens/credential.py). No ORM on this path: building SQL through
the ORM and model instances from its rows costs more than running the indexed SELECT.

On PostgreSQL the statement is a server-side prepared statement (psycopg 3, `prepare=True`)
unless TOKEN_LOOKUP_PREPARED is off: planning the four-table join costs more than running
it, and a prepared statement is planned once per connection. Turn it off behind a pooler in
transaction mode (PgBouncer before 1.21), which cannot keep a connection's statements.

With CONN_HEALTH_CHECKS (settings.py), the lookup doubles as the request's connection check:
Django's own check is a SELECT 1 before the first query of every request.

While Django records queries (DEBUG, or a test counting them) the statement goes through
Django's cursor instead, so it is counted and logged like any other."""

import json
from datetime import UTC, datetime
from functools import cache

import psycopg
from django.conf import settings
from django.db import InterfaceError, OperationalError, connections

from accounts.models import User
from orgs.models import Organization, Project
from tokens.credential import Credential
from tokens.models import Token

# (table alias, model, column) in the order of Credential's fields.
_COLUMNS = (
    ("t", Token, "id"),
    ("t", Token, "kind"),
    ("t", Token, "name"),
    ("t", Token, "description"),
    ("t", Token, "preview"),
    ("t", Token, "role"),
    ("t", Token, "permissions"),
    ("t", Token, "digest"),
    ("t", Token, "salt_fingerprint"),
    ("t", Token, "created_at"),
    ("t", Token, "expires_at"),
    ("t", Token, "last_used_at"),
    ("t", Token, "revoked_at"),
    ("t", Token, "created_by_id"),
    ("t", Token, "user_id"),
    ("u", User, "email"),
    ("u", User, "is_active"),
    ("t", Token, "organization_id"),
    ("o", Organization, "slug"),
    ("o", Organization, "name"),
    ("o", Organization, "allow_personal_token_deploys"),
    ("o", Organization, "max_token_lifetime_days"),
    ("t", Token, "project_id"),
    ("p", Project, "slug"),
    ("p", Project, "name"),
    ("p", Project, "deleted_at"),
)
_DATETIMES = tuple(
    index
    for index, (_, model, column) in enumerate(_COLUMNS)
    if model._meta.get_field(column).get_internal_type() == "DateTimeField"
)
_PERMISSIONS = 6


def _column(model, attname: str) -> str:
    return next(f.column for f in model._meta.concrete_fields if f.attname == attname)


@cache
def lookup_sql(candidates: int, placeholder: str = "%s") -> str:
    """SELECT … WHERE digest IN (candidates placeholders): one indexed row at most."""
    columns = ", ".join(f"{alias}.{_column(model, name)}" for alias, model, name in _COLUMNS)
    token, user = Token._meta, User._meta
    organization, project = Organization._meta, Project._meta
    digests = ", ".join([placeholder] * candidates)
    # Only names from the models' metadata and placeholders: the digests are parameters.
    return (
        f"SELECT {columns} FROM {token.db_table} t"  # noqa: S608
        f" LEFT JOIN {user.db_table} u ON u.{user.pk.column} = t.{_column(Token, 'user_id')}"
        f" LEFT JOIN {organization.db_table} o"
        f" ON o.{organization.pk.column} = t.{_column(Token, 'organization_id')}"
        f" LEFT JOIN {project.db_table} p"
        f" ON p.{project.pk.column} = t.{_column(Token, 'project_id')}"
        f" WHERE t.{_column(Token, 'digest')} IN ({digests})"
    )


def _aware(value):
    # SQLite hands back naive UTC (Django stores UTC there); PostgreSQL aware datetimes.
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value is not None and value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value


def _credential(row) -> Credential:
    row = list(row)
    for index in _DATETIMES:
        row[index] = _aware(row[index])
    permissions = row[_PERMISSIONS]
    if isinstance(permissions, str | bytes):
        permissions = json.loads(permissions)
    row[_PERMISSIONS] = tuple(permissions)
    if row[16] is not None:  # SQLite answers booleans as integers
        row[16] = bool(row[16])
    if row[20] is not None:
        row[20] = bool(row[20])
    return Credential(*row)


def _fetch(connection, digests: list[str], prepare: bool):
    if connection.queries_logged:
        with connection.cursor() as cursor:
            cursor.execute(lookup_sql(len(digests)), digests)
            return cursor.fetchone()
    if (
        connection.connection is not None
        and connection.health_check_enabled
        and not connection.health_check_done
        and not connection.in_atomic_block
    ):
        # The lookup is the request's health check: rather than Django's SELECT 1 before the
        # first query of each request (a round trip on every API call), run it, and if the
        # reused connection turns out broken, reconnect once and run it again.
        try:
            row = _execute(connection, digests, prepare)
        except (OperationalError, InterfaceError):
            connection.close()
            row = _execute(connection, digests, prepare)
        connection.health_check_done = True
        return row
    return _execute(connection, digests, prepare)


def _execute(connection, digests: list[str], prepare: bool):
    connection.ensure_connection()
    with connection.wrap_database_errors:
        raw = connection.connection
        if connection.vendor == "sqlite":
            return raw.execute(lookup_sql(len(digests), "?"), digests).fetchone()
        if connection.vendor == "postgresql":
            # A server-binding cursor: Django's own (client-side binding) cannot prepare.
            with psycopg.Cursor(raw) as cursor:
                cursor.execute(lookup_sql(len(digests)), digests, prepare=prepare)
                return cursor.fetchone()
    with connection.cursor() as cursor:
        cursor.execute(lookup_sql(len(digests)), digests)
        return cursor.fetchone()


def credential_by_digest(
    digests: list[str], *, using: str = "default", prepare: bool | None = None
) -> Credential | None:
    """The credential whose digest is one of `digests` (user, organization, project joined).
    `prepare` overrides TOKEN_LOOKUP_PREPARED (the bench measures both)."""
    if prepare is None:
        prepare = settings.TOKEN_LOOKUP_PREPARED
    row = _fetch(connections[using], digests, prepare)
    return None if row is None else _credential(row)
