"""A fresh bench database with 10,000 credentials of each scheme.

The credentials the load presents are made through each scheme's own API (Tokendesk's
token_issue, DRF's Token.objects.create, knox's AuthToken.objects.create, drf-api-key's
create_key); the other rows are bulk inserts carrying real digests, so the tables and their
indexes look like real ones without paying the per-token service 40,000 times."""

import random
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.management import call_command
from django.db import connection, connections
from django.utils import timezone
from knox.crypto import create_token_string, hash_token
from knox.models import AuthToken
from knox.settings import CONSTANTS as KNOX
from knox.settings import knox_settings
from rest_framework.authtoken.models import Token as DrfToken
from rest_framework_api_key.models import APIKey

from accounts.models import User
from bench import names
from orgs.audit import Actor
from orgs.models import AuditEvent, Membership, Organization, Project
from tokens import format as token_format
from tokens import permissions as perms
from tokens.models import Token
from tokens.services import token_issue

BATCH = 2_000
SMALL = 10
DEPLOYMENT_PROJECTS = 20

# Every write to last_used_at is logged by the database itself, whichever process made it.
TOUCH_LOG_SQLITE = (
    "CREATE TABLE bench_touch_log ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT, token_id INTEGER NOT NULL, at TEXT NOT NULL)",
    "CREATE TRIGGER bench_touch AFTER UPDATE OF last_used_at ON tokens_token"
    " WHEN NEW.last_used_at IS NOT NULL"
    " BEGIN INSERT INTO bench_touch_log (token_id, at) VALUES (NEW.id, NEW.last_used_at); END",
)
TOUCH_LOG_POSTGRESQL = (
    "CREATE TABLE bench_touch_log ("
    " id bigserial PRIMARY KEY, token_id bigint NOT NULL, at timestamptz NOT NULL)",
    "CREATE FUNCTION bench_touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
    " INSERT INTO bench_touch_log (token_id, at) VALUES (NEW.id, NEW.last_used_at);"
    " RETURN NEW; END $$",
    "CREATE TRIGGER bench_touch AFTER UPDATE OF last_used_at ON tokens_token FOR EACH ROW"
    " WHEN (NEW.last_used_at IS NOT NULL) EXECUTE FUNCTION bench_touch()",
)

# Every counter row the usage buffer writes (tokens/usage.py), inserted or added to, logged
# with the database's clock: one row per token for the load (one route, address and agent).
USAGE_LOG_SQLITE = (
    "CREATE TABLE bench_usage_log ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT, token_id INTEGER NOT NULL, at TEXT NOT NULL)",
    "CREATE TRIGGER bench_usage_insert AFTER INSERT ON tokens_tokenusage BEGIN"
    " INSERT INTO bench_usage_log (token_id, at)"
    " VALUES (NEW.token_id, strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')); END",
    "CREATE TRIGGER bench_usage_update AFTER UPDATE ON tokens_tokenusage BEGIN"
    " INSERT INTO bench_usage_log (token_id, at)"
    " VALUES (NEW.token_id, strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')); END",
)
USAGE_LOG_POSTGRESQL = (
    "CREATE TABLE bench_usage_log ("
    " id bigserial PRIMARY KEY, token_id bigint NOT NULL, at timestamptz NOT NULL)",
    "CREATE FUNCTION bench_usage() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
    " INSERT INTO bench_usage_log (token_id, at) VALUES (NEW.token_id, clock_timestamp());"
    " RETURN NEW; END $$",
    "CREATE TRIGGER bench_usage AFTER INSERT OR UPDATE ON tokens_tokenusage FOR EACH ROW"
    " EXECUTE FUNCTION bench_usage()",
)


@dataclass
class Seeded:
    """Plaintext credentials the load and the in-process measurements present."""

    tokendesk_whoami: str = ""
    tokendesk_burst: str = ""
    tokendesk_deploy: str = ""
    drf: str = ""
    knox: str = ""
    api_key: str = ""
    counts: dict[str, int] = field(default_factory=dict)


def reset_database() -> None:
    """Delete the bench database (the SQLite file, or every table of the throwaway
    PostgreSQL database) and migrate a new one."""
    connections.close_all()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("DROP SCHEMA public CASCADE")
            cursor.execute("CREATE SCHEMA public")
        touch_log = TOUCH_LOG_POSTGRESQL + USAGE_LOG_POSTGRESQL
    else:
        path = Path(settings.DATABASES["default"]["NAME"])
        path.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        touch_log = TOUCH_LOG_SQLITE + USAGE_LOG_SQLITE
    call_command("migrate", interactive=False, verbosity=0)
    with connection.cursor() as cursor:
        for statement in touch_log:
            cursor.execute(statement)


def seed(n: int = 10_000) -> Seeded:
    rng = random.Random(5)  # reproducible shapes; secrets still come from `secrets`
    now = timezone.now()
    seeded = Seeded()

    acme = Organization.objects.create(slug=names.ORG, name="Acme")
    small_org = Organization.objects.create(slug=names.SMALL_ORG, name="Small")
    large_org = Organization.objects.create(slug=names.LARGE_ORG, name="Large")
    Project.objects.create(organization=acme, slug=names.PROJECT, name="Web")
    projects = [
        Project.objects.create(organization=large_org, slug=f"p{i:02d}", name=f"Project {i}")
        for i in range(DEPLOYMENT_PROJECTS)
    ]
    load_user = User.objects.create_user(names.LOAD_EMAIL)
    small_user = User.objects.create_user(names.SMALL_EMAIL)
    large_user = User.objects.create_user(names.LARGE_EMAIL)
    for user, org in ((load_user, acme), (small_user, small_org), (large_user, large_org)):
        Membership.objects.create(user=user, organization=org, role=Membership.Role.OWNER)

    # Tokendesk: the presented tokens through the real service ...
    def personal(name: str) -> str:
        return token_issue(
            kind=Token.Kind.PERSONAL,
            user=load_user,
            name=name,
            permissions=perms.DEFAULT_PERMISSIONS,
            actor=Actor(user=load_user),
        ).plaintext

    seeded.tokendesk_whoami = personal(names.WHOAMI_LABEL)
    seeded.tokendesk_burst = personal(names.BURST_LABEL)
    seeded.tokendesk_deploy = token_issue(
        kind=Token.Kind.CI,
        organization=acme,
        name=names.DEPLOY_LABEL,
        role="ci",
        permissions=perms.for_role("ci"),
        actor=Actor(user=load_user),
    ).plaintext

    # ... and the rest in bulk: personal tokens of the page users, CI tokens of the page
    # organizations, deployment tokens spread over projects.
    salt = settings.TOKEN_HASH_SALT
    prefix = settings.TOKEN_PREFIX

    def row(kind: str, number: int, **owner) -> Token:
        plaintext = token_format.generate(kind, prefix)
        created = now - timedelta(minutes=number)
        return Token(
            kind=kind,
            name=f"token {number:05d}",
            description="Seeded for the bench." if number % 3 == 0 else "",
            role="" if kind == Token.Kind.PERSONAL else "ci",
            permissions=sorted(perms.DEFAULT_PERMISSIONS),
            digest=token_format.digest(plaintext, salt),
            preview=token_format.preview(plaintext),
            created_at=created,
            expires_at=created + timedelta(days=rng.choice((30, 90, 365))) if number % 2 else None,
            last_used_at=now - timedelta(hours=rng.randint(1, 500)) if number % 4 else None,
            last_used_ip="192.0.2.10" if number % 4 else None,
            **owner,
        )

    bulk = [row(Token.Kind.PERSONAL, i, user=large_user, created_by=large_user) for i in range(n)]
    bulk += [row(Token.Kind.CI, i, organization=large_org, created_by=large_user) for i in range(n)]
    bulk += [
        row(Token.Kind.PERSONAL, i, user=small_user, created_by=small_user) for i in range(SMALL)
    ]
    bulk += [
        row(Token.Kind.CI, i, organization=small_org, created_by=small_user) for i in range(SMALL)
    ]
    bulk += [
        row(
            Token.Kind.DEPLOYMENT,
            i,
            organization=large_org,
            project=projects[i % DEPLOYMENT_PROJECTS],
            created_by=large_user,
        )
        for i in range(n // 5)
    ]
    Token.objects.bulk_create(bulk, batch_size=BATCH)

    # Audit events for the audit page at 10 and at n rows.
    def event(org: Organization, user: User, number: int) -> AuditEvent:
        return AuditEvent(
            created_at=now - timedelta(minutes=number),
            action=rng.choice(("token.create", "token.revoke", "token.reset")),
            organization=org,
            actor_user=user,
            actor_label=user.email,
            target_type="token",
            target_id=number,
            target_label=f"token {number:05d} (tdk_ci_abcd…wxyz)",
            ip="192.0.2.10",
            user_agent="bench",
        )

    AuditEvent.objects.bulk_create(
        [event(large_org, large_user, i) for i in range(n)]
        + [event(small_org, small_user, i) for i in range(SMALL)],
        batch_size=BATCH,
    )

    # DRF authtoken is one token per user, so n users; knox tokens belong to the same users.
    unusable = make_password(None)
    User.objects.bulk_create(
        [User(email=f"user{i:05d}@bench.test", password=unusable) for i in range(n - 1)],
        batch_size=BATCH,
    )
    drf_user = User.objects.create_user(names.DRF_EMAIL)
    users = list(User.objects.filter(email__startswith="user").order_by("pk"))
    DrfToken.objects.bulk_create(
        [DrfToken(key=DrfToken.generate_key(), user=user) for user in users], batch_size=BATCH
    )
    seeded.drf = DrfToken.objects.create(user=drf_user).key

    knox_expiry = now + knox_settings.TOKEN_TTL

    def knox_row(user: User) -> AuthToken:
        token = create_token_string()
        return AuthToken(
            digest=hash_token(token),
            token_key=token[: KNOX.TOKEN_KEY_LENGTH],
            user=user,
            expiry=knox_expiry,
        )

    AuthToken.objects.bulk_create([knox_row(user) for user in users], batch_size=BATCH)
    _, seeded.knox = AuthToken.objects.create(user=drf_user)

    generator = APIKey.objects.key_generator
    keys = []
    for i in range(n - 1):
        _, key_prefix, hashed = generator.generate()
        keys.append(
            APIKey(
                id=f"{key_prefix}.{hashed}",
                prefix=key_prefix,
                hashed_key=hashed,
                name=f"key {i:05d}",
            )
        )
    APIKey.objects.bulk_create(keys, batch_size=BATCH)
    _, seeded.api_key = APIKey.objects.create_key(name=names.APIKEY_NAME)

    seeded.counts = {
        "tokendesk": Token.objects.count(),
        "drf": DrfToken.objects.count(),
        "knox": AuthToken.objects.count(),
        "api-key": APIKey.objects.count(),
        "audit_events": AuditEvent.objects.count(),
    }
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    connections.close_all()
    return seeded
