"""POST /api/v1/oidc/token against a real issuer on loopback: its keys sign the ID tokens and
Tokendesk fetches its discovery document and JWKS over HTTP. Nothing on the verification
path is mocked."""

import base64
import json
import time
from datetime import timedelta

import jwt
import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.core.cache import cache
from django.utils import timezone

from events.models import ExpiryNotice
from events.scheduler import tick
from orgs.audit import Actor
from orgs.models import AuditEvent, Deployment
from tests.factories import make_deployment_token, make_org, make_project
from tokens.models import Token
from trust.models import OidcExchange
from trust.services import PUBLISHER_PERMISSIONS, clean_policy, publisher_create

URL = "/api/v1/oidc/token"
AUDIENCE = "https://tokendesk.example.test"


@pytest.fixture
def world(issuer, db):
    org = make_org("acme", owner="owner@example.test")
    web = make_project(org, "web")
    api = make_project(org, "api")
    policy = make_policy(web, issuer.url)
    return {"org": org, "web": web, "api": api, "policy": policy}


def make_policy(project, issuer_url, **conditions):
    conditions = conditions or {
        "repository": "acme/web",
        "ref": "refs/heads/main",
        "environment": "production",
        "workflow_ref": "acme/web/.github/workflows/deploy.yml@refs/heads/main",
    }
    fields = clean_policy(
        issuer=issuer_url,
        audience=AUDIENCE,
        conditions=conditions,
        permissions=["projects:read", "deployments:write"],
        lifetime_minutes=15,
    )
    return publisher_create(project=project, fields=fields, actor=Actor())


def post(client, id_token, project="acme/web"):
    return client.post(
        URL, {"id_token": id_token, "project": project}, content_type="application/json"
    )


def assert_refused(response, check: str, id_token: str):
    assert response.status_code == 401, response.content
    body = response.json()
    assert body["error"] == "invalid_id_token"
    assert body["detail"].startswith(check), body["detail"]
    assert id_token not in response.content.decode()
    assert not Token.objects.filter(kind=Token.Kind.DEPLOYMENT).exists()


@pytest.mark.parametrize("alg", ["RS256", "ES256"])
def test_a_valid_id_token_buys_a_short_lived_deployment_token_that_deploys(
    client, issuer, world, alg
):
    id_token = issuer.sign(issuer.claims(AUDIENCE), alg=alg)

    response = post(client, id_token)

    assert response.status_code == 201, response.content
    answer = response.json()
    assert answer["token"].startswith("tdk_dep_")
    assert answer["kind"] == "deployment" and answer["project"] == "acme/web"
    assert answer["permissions"] == ["projects:read", "deployments:write"]
    assert answer["policy"] == world["policy"].pk
    assert answer["matched"]["repository"] == "acme/web"
    assert response["Cache-Control"] == "no-store"
    token = Token.objects.get(kind=Token.Kind.DEPLOYMENT)
    lifetime = token.expires_at - token.created_at
    assert timedelta(minutes=14) < lifetime <= timedelta(minutes=15)
    assert answer["token"] not in token.digest  # stored as a digest, like every token
    record = OidcExchange.objects.get()
    assert record.token == token and record.policy == world["policy"]
    event = AuditEvent.objects.get(action="oidc.exchange")
    assert event.data["policy"] == world["policy"].pk
    assert event.data["matched"] == world["policy"].conditions
    assert event.actor_label == "trusted publisher repo:acme/web:environment:production"
    assert id_token not in json.dumps(event.data)
    assert not any(id_token in json.dumps(e.data) for e in AuditEvent.objects.all())

    deployed = client.post(
        "/api/v1/orgs/acme/projects/web/deployments",
        {"ref": "abc123", "environment": "production"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {answer['token']}",
    )
    assert deployed.status_code == 201, deployed.content
    assert Deployment.objects.get().token_id == token.pk
    other_project = client.post(
        "/api/v1/orgs/acme/projects/api/deployments",
        {"ref": "abc123"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {answer['token']}",
    )
    assert other_project.status_code == 404


def test_the_issued_token_stops_working_when_its_lifetime_ends(client, issuer, world):
    answer = post(client, issuer.sign(issuer.claims(AUDIENCE))).json()
    Token.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    whoami = client.get("/api/v1/whoami", HTTP_AUTHORIZATION=f"Bearer {answer['token']}")
    assert whoami.status_code == 401


def test_wrong_audience(client, issuer, world):
    id_token = issuer.sign(issuer.claims("https://elsewhere.example.test"))
    assert_refused(post(client, id_token), "audience", id_token)


def test_wrong_issuer(client, issuer, world):
    id_token = issuer.sign(issuer.claims(AUDIENCE, iss="https://evil.example.test"))
    assert_refused(post(client, id_token), "issuer", id_token)


def test_a_trusted_issuer_that_this_project_does_not_trust(client, issuer, world):
    id_token = issuer.sign(issuer.claims(AUDIENCE, iss=settings_github()))
    assert_refused(post(client, id_token), "policy", id_token)


def settings_github() -> str:
    return next(url for url, kind in settings.TRUSTED_PUBLISHER_ISSUERS.items() if "github" in url)


def test_expired(client, issuer, world):
    now = int(time.time())
    id_token = issuer.sign(issuer.claims(AUDIENCE, iat=now - 900, nbf=now - 900, exp=now - 300))
    assert_refused(post(client, id_token), "expired", id_token)


def test_not_yet_valid(client, issuer, world):
    now = int(time.time())
    id_token = issuer.sign(issuer.claims(AUDIENCE, nbf=now + 600, exp=now + 900))
    assert_refused(post(client, id_token), "not yet valid", id_token)


def test_issued_in_the_future(client, issuer, world):
    now = int(time.time())
    id_token = issuer.sign(issuer.claims(AUDIENCE, iat=now + 600, nbf=None, exp=now + 900))
    assert_refused(post(client, id_token), "not yet valid", id_token)


def test_an_absurd_expiry_is_refused_not_a_500(client, issuer, world):
    id_token = issuer.sign(issuer.claims(AUDIENCE, exp=10**20))
    assert_refused(post(client, id_token), "malformed", id_token)


def test_a_small_clock_skew_is_tolerated(client, issuer, world):
    now = int(time.time())
    id_token = issuer.sign(issuer.claims(AUDIENCE, iat=now + 20, nbf=now + 20))
    assert post(client, id_token).status_code == 201


def _unsigned(header: dict, claims: dict) -> str:
    def part(value: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part(header)}.{part(claims)}."


def test_alg_none(client, issuer, world):
    id_token = _unsigned(
        {"alg": "none", "typ": "JWT", "kid": issuer.kid()}, issuer.claims(AUDIENCE)
    )
    assert_refused(post(client, id_token), "algorithm", id_token)


def test_hs256_signed_with_the_public_key(client, issuer, world):
    kid = issuer.kid("RS256")
    public_pem = issuer.public_pem(kid)
    # PyJWT refuses to HMAC with a PEM key itself; the attacker's own HMAC needs no library.
    import hashlib
    import hmac

    header = base64.urlsafe_b64encode(
        json.dumps({"alg": "HS256", "typ": "JWT", "kid": kid}).encode()
    ).rstrip(b"=")
    body = base64.urlsafe_b64encode(json.dumps(issuer.claims(AUDIENCE)).encode()).rstrip(b"=")
    signature = hmac.new(public_pem, header + b"." + body, hashlib.sha256).digest()
    id_token = b".".join([header, body, base64.urlsafe_b64encode(signature).rstrip(b"=")]).decode()
    assert_refused(post(client, id_token), "algorithm", id_token)


def test_rs256_header_on_an_es256_key(client, issuer, world):
    es_kid = issuer.kid("ES256")
    claims = issuer.claims(AUDIENCE)
    id_token = jwt.encode(claims, issuer.keys[issuer.kid("RS256")][1], "RS256", {"kid": es_kid})
    assert_refused(post(client, id_token), "algorithm", id_token)


def test_a_signature_by_another_key(client, issuer, world):
    # Signed by a key the issuer never published, under the kid of one it did.
    from tests.trust.issuer import LoopbackIssuer

    impostor = LoopbackIssuer()
    try:
        claims = issuer.claims(AUDIENCE)
        id_token = jwt.encode(
            claims, impostor.keys[impostor.kid()][1], "RS256", {"kid": issuer.kid()}
        )
    finally:
        impostor.stop()
    assert_refused(post(client, id_token), "signature", id_token)


def test_unknown_kid_then_key_rotation_is_picked_up(client, issuer, world):
    assert post(client, issuer.sign(issuer.claims(AUDIENCE))).status_code == 201
    fetched = issuer.requests.count("/jwks")
    assert fetched == 1

    new_kid = issuer.add_key("RS256")  # the issuer rotates its keys
    rotated = issuer.sign(issuer.claims(AUDIENCE), kid=new_kid)
    assert post(client, rotated).status_code == 201
    assert issuer.requests.count("/jwks") == 2

    # A made-up kid right after: refused, and no third fetch (once per refresh period).
    made_up = jwt.encode(issuer.claims(AUDIENCE), issuer.keys[new_kid][1], "RS256", {"kid": "x"})
    assert_refused_keeping_tokens(post(client, made_up), "key", made_up)
    assert issuer.requests.count("/jwks") == 2
    # Cached: a verify costs no fetch.
    assert post(client, issuer.sign(issuer.claims(AUDIENCE))).status_code == 201
    assert issuer.requests.count("/jwks") == 2


def assert_refused_keeping_tokens(response, check, id_token):
    assert response.status_code == 401
    assert response.json()["detail"].startswith(check)
    assert id_token not in response.content.decode()


@pytest.mark.parametrize("claim", ["repository", "ref", "environment", "workflow_ref"])
def test_each_claim_condition_must_match_exactly(client, issuer, world, claim):
    id_token = issuer.sign(issuer.claims(AUDIENCE, **{claim: "acme/web-other"}))
    response = post(client, id_token)
    assert_refused(response, "claims", id_token)
    assert claim in response.json()["detail"]


def test_a_missing_claim_does_not_match(client, issuer, world):
    id_token = issuer.sign(issuer.claims(AUDIENCE, environment=None))
    assert_refused(post(client, id_token), "claims", id_token)


def test_a_replayed_jti_is_refused(client, issuer, world):
    id_token = issuer.sign(issuer.claims(AUDIENCE))
    assert post(client, id_token).status_code == 201
    again = post(client, id_token)
    assert again.status_code == 401
    assert again.json()["detail"].startswith("replayed")
    assert Token.objects.filter(kind=Token.Kind.DEPLOYMENT).count() == 1


def test_an_id_token_without_jti_is_refused(client, issuer, world):
    id_token = issuer.sign(issuer.claims(AUDIENCE, jti=None))
    assert_refused(post(client, id_token), "missing claim: jti", id_token)


def test_issuer_down_answers_503_with_retry_after(client, issuer, world):
    id_token = issuer.sign(issuer.claims(AUDIENCE))
    issuer.stop()
    response = post(client, id_token)
    assert response.status_code == 503
    assert response.json()["error"] == "issuer_unavailable"
    assert int(response["Retry-After"]) > 0
    assert id_token not in response.content.decode()


def test_an_issuer_in_an_outage_is_not_asked_again_at_once_then_used_again(client, issuer, world):
    from trust import oidc

    issuer.failing = True
    first = post(client, issuer.sign(issuer.claims(AUDIENCE)))
    assert first.status_code == 503 and first["Retry-After"]
    asked = len(issuer.requests)
    # For the next few seconds requests do not wait on it again.
    assert post(client, issuer.sign(issuer.claims(AUDIENCE))).status_code == 503
    assert len(issuer.requests) == asked
    issuer.failing = False
    oidc.forget_keys(issuer.url)  # what the passing of DOWN_SECONDS does
    assert post(client, issuer.sign(issuer.claims(AUDIENCE))).status_code == 201


def test_a_policy_of_another_project_does_not_open_this_one(client, issuer, world):
    id_token = issuer.sign(issuer.claims(AUDIENCE))
    # acme/api has no policy: the web repository's ID token opens nothing there.
    assert_refused(post(client, id_token, project="acme/api"), "policy", id_token)
    # Nor does it once acme/api trusts another repository of the same issuer.
    make_policy(world["api"], issuer.url, repository="acme/api")
    id_token = issuer.sign(issuer.claims(AUDIENCE))
    response = post(client, id_token, project="acme/api")
    assert_refused(response, "claims", id_token)
    assert "repository" in response.json()["detail"]


def test_an_unknown_project_answers_like_one_without_a_policy(client, issuer, world):
    id_token = issuer.sign(issuer.claims(AUDIENCE))
    unknown = post(client, id_token, project="nope/nothing").json()
    without = post(client, id_token, project="acme/api").json()
    assert unknown == without


@pytest.mark.parametrize("id_token", ["", "not-a-jwt", "a.b.c", "eyJhbGciOiJSUzI1NiJ9.e30.c2ln"])
def test_garbage_is_refused_cleanly(client, issuer, world, id_token):
    response = post(client, id_token)
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_id_token"


def test_no_bearer_is_needed_and_one_is_ignored(client, issuer, world):
    response = client.post(
        URL,
        {"id_token": issuer.sign(issuer.claims(AUDIENCE)), "project": "acme/web"},
        content_type="application/json",
        HTTP_AUTHORIZATION="Bearer nonsense",
    )
    assert response.status_code == 201


def test_documented_in_openapi(client, db):
    schema = client.get("/api/v1/openapi.json").json()
    operation = schema["paths"]["/api/v1/oidc/token"]["post"]
    assert {"201", "401", "503"} <= set(operation["responses"])
    assert "security" not in operation or operation["security"] in ([], [{}])


def test_permissions_beyond_a_deployment_token_are_refused_at_save(issuer):
    from lib.errors import RuleError

    with pytest.raises(RuleError) as refused:
        clean_policy(
            issuer=issuer.url,
            audience=AUDIENCE,
            conditions={"repository": "acme/web"},
            permissions=["deployments:write", "tokens:write"],
            lifetime_minutes=15,
        )
    assert refused.value.field == "permissions"
    assert "tokens:write" in refused.value.message
    assert "deployments:write" in PUBLISHER_PERMISSIONS


def test_a_short_lived_token_is_never_announced_as_expiring(client, issuer, world, settings):
    """One exchange per pipeline run: its token is made to expire in minutes, so neither the
    expiry e-mails nor the token.expiring / token.expired webhook events mention it."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    assert post(client, issuer.sign(issuer.claims(AUDIENCE))).status_code == 201
    tick(now=timezone.now() + timedelta(minutes=5))
    tick(now=timezone.now() + timedelta(minutes=30))
    assert mail.outbox == []
    assert not ExpiryNotice.objects.exists()


def test_a_flood_of_exchanges_from_one_address_is_rate_limited(client, issuer, world, settings):
    cache.clear()
    settings.TRUSTED_PUBLISHER_EXCHANGES_PER_MINUTE = 2
    forged = issuer.sign(issuer.claims("https://not-us.example.test"))
    assert post(client, forged).status_code == 401
    assert post(client, forged).status_code == 401
    limited = post(client, issuer.sign(issuer.claims(AUDIENCE)))
    assert limited.status_code == 429
    assert limited.json()["error"] == "rate_limited"
    assert 0 < int(limited["Retry-After"]) <= 60
    assert not Token.objects.exists()
    other = client.post(
        URL,
        {"id_token": issuer.sign(issuer.claims(AUDIENCE)), "project": "acme/web"},
        content_type="application/json",
        REMOTE_ADDR="192.0.2.44",
    )
    assert other.status_code == 201, other.content


def test_expired_exchange_tokens_leave_the_table_then_the_database(client, issuer, world):
    """Listed while they live, hidden once expired, deleted (with their exchange record)
    after TRUSTED_PUBLISHER_TOKENS_KEPT_DAYS; the audit log keeps the exchange."""
    client.force_login(world["org"].memberships.get().user)
    page = "/orgs/acme/projects/web/settings/deployment-tokens/"
    made = make_deployment_token(world["web"], world["org"].memberships.get().user)
    Token.objects.filter(pk=made.token.pk).update(
        created_at=timezone.now() - timedelta(days=2),
        expires_at=timezone.now() + timedelta(minutes=10),
    )
    answer = post(client, issuer.sign(issuer.claims(AUDIENCE))).json()
    preview = answer["token"][:12]
    assert preview in client.get(page).content.decode()

    later = timezone.now() + timedelta(minutes=16)
    with time_machine.travel(later):
        listed = client.get(page).content.decode()
        assert preview not in listed
        assert made.token.preview in listed  # a token made to last stays, expired or not
        tick(now=later)
    assert OidcExchange.objects.count() == 1

    tick(now=timezone.now() + timedelta(days=31))
    assert not OidcExchange.objects.exists()
    assert list(Token.objects.all()) == [made.token]
    assert AuditEvent.objects.filter(action="oidc.exchange").count() == 1
