"""Comparison endpoints. Every scheme serves the same two operations:

- whoami: serialize a small identity (the credential and its user) as JSON;
- deploy: resolve ORG/PROJECT, insert one orgs.Deployment through orgs.services and return it.

Tokendesk's own endpoints are the real /api/v1/whoami and /api/v1/.../deployments; their
no-auth twins below run the same django-ninja code on a credential loaded once per process.
DRF TokenAuthentication, knox and drf-api-key share DRF views; their no-auth twin is the same
DRF view with no authentication. Each scheme's ratio is taken against its own twin, so the
ratio is the cost of authentication, not of the framework."""

import functools
from types import SimpleNamespace

from django.http import Http404, HttpRequest
from knox.auth import TokenAuthentication as KnoxTokenAuthentication
from ninja import NinjaAPI, Status
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token as DrfToken
from rest_framework.exceptions import NotFound
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_api_key.permissions import HasAPIKey

from bench import names
from lib.errors import RuleError
from orgs.audit import Actor
from orgs.models import Deployment, Project
from orgs.services import deployment_create
from tokens import authorization
from tokens.api.schemas import DeploymentIn, DeploymentOut, WhoAmIOut
from tokens.credential import Credential
from tokens.lookup import credential_by_digest
from tokens.models import Token

# Tokendesk's no-auth twins ---------------------------------------------------------------

twin_api = NinjaAPI(
    title="Tokendesk bench twins",
    version="bench",
    urls_namespace="bench-twins",
    auth=None,
    docs_url=None,
    openapi_url=None,
)


@functools.cache
def _tokendesk_token(name: str) -> Credential:
    """The credential the authenticated endpoint would have verified, loaded once."""
    digest = Token.objects.get(name=name, revoked_at__isnull=True).digest
    return credential_by_digest([digest])


@twin_api.get("/whoami", response=WhoAmIOut)
def twin_whoami(request: HttpRequest):
    credential = _tokendesk_token(names.WHOAMI_LABEL)
    user = {"email": credential.user_email} if credential.user_id else None
    return {"token": credential, "user": user}


@twin_api.post("/orgs/{org}/projects/{project}/deployments", response={201: DeploymentOut})
def twin_deploy(request: HttpRequest, org: str, project: str, payload: DeploymentIn):
    # What /api/v1/.../deployments does for a CI token once the token is verified.
    token = _tokendesk_token(names.DEPLOY_LABEL)
    scope = authorization.authorize(token, "deployments:write", org_slug=org, project_slug=project)
    authorization.check_deploy_policy(scope)
    try:
        deployment = deployment_create(
            project=scope.project,
            ref=payload.ref,
            environment=payload.environment,
            actor=Actor.from_request(request, token=token),
        )
    except RuleError as error:
        raise Http404(error.message) from None
    return Status(201, deployment)


# DRF-based schemes ------------------------------------------------------------------------


def _identity(*, preview: str, name: str, kind: str, created, expires, email: str | None):
    return {
        "token": {
            "preview": preview,
            "name": name,
            "kind": kind,
            "created_at": created,
            "expires_at": expires,
        },
        "user": {"email": email} if email else None,
    }


def _deployment_json(deployment: Deployment) -> dict:
    return {
        "id": deployment.pk,
        "project": str(deployment.project),
        "ref": deployment.ref,
        "environment": deployment.environment,
        "created_at": deployment.created_at,
        "created_by": deployment.created_by.email if deployment.created_by_id else None,
        "token": deployment.token_preview or None,
        "token_kind": None,
    }


class HasAPIKeyKept(HasAPIKey):
    """drf-api-key's HasAPIKey (the same one lookup), keeping the key it found so whoami can
    describe it without looking it up a second time."""

    def has_permission(self, request, view) -> bool:
        key = self.get_key(request)
        if not key:
            return False
        try:
            api_key = self.model.objects.get_from_key(key)
        except self.model.DoesNotExist:
            return False
        if api_key.has_expired:
            return False
        request.api_key = api_key
        return True


class Scheme:
    """How a DRF view of one scheme learns who is calling."""

    authentication_classes: list = []
    permission_classes: list = []

    def identity(self, request) -> dict:
        raise NotImplementedError

    def caller(self, request) -> tuple:
        """(user, credential-like object with pk, kind, preview) for the deployment row."""
        raise NotImplementedError


@functools.cache
def _drf_token() -> DrfToken:
    return DrfToken.objects.select_related("user").get(user__email=names.DRF_EMAIL)


class NoAuth(Scheme):
    def identity(self, request) -> dict:
        token = _drf_token()
        return _identity(
            preview=token.key[:8],
            name="",
            kind="drf",
            created=token.created,
            expires=None,
            email=token.user.email,
        )

    def caller(self, request) -> tuple:
        token = _drf_token()
        return token.user, SimpleNamespace(pk=None, kind="", preview=token.key[:8])


class DrfTokenAuth(Scheme):
    authentication_classes = [TokenAuthentication]
    permission_classes = [IsAuthenticated]

    def identity(self, request) -> dict:
        token = request.auth
        return _identity(
            preview=token.key[:8],
            name="",
            kind="drf",
            created=token.created,
            expires=None,
            email=request.user.email,
        )

    def caller(self, request) -> tuple:
        return request.user, SimpleNamespace(pk=None, kind="", preview=request.auth.key[:8])


class KnoxAuth(Scheme):
    authentication_classes = [KnoxTokenAuthentication]
    permission_classes = [IsAuthenticated]

    def identity(self, request) -> dict:
        token = request.auth
        return _identity(
            preview=token.token_key,
            name="",
            kind="knox",
            created=token.created,
            expires=token.expiry,
            email=request.user.email,
        )

    def caller(self, request) -> tuple:
        return request.user, SimpleNamespace(pk=None, kind="", preview=request.auth.token_key)


class ApiKeyAuth(Scheme):
    permission_classes = [HasAPIKeyKept]

    def identity(self, request) -> dict:
        key = request.api_key
        return _identity(
            preview=key.prefix,
            name=key.name,
            kind="api-key",
            created=key.created,
            expires=key.expiry_date,
            email=None,
        )

    def caller(self, request) -> tuple:
        return None, SimpleNamespace(pk=None, kind="", preview=request.api_key.prefix)


class WhoamiView(APIView):
    scheme: Scheme = NoAuth()

    def get(self, request):
        return Response(self.scheme.identity(request))


class DeployView(APIView):
    scheme: Scheme = NoAuth()

    def post(self, request, org: str, project: str):
        target = (
            Project.objects.select_related("organization")
            .filter(organization__slug=org, slug=project)
            .first()
        )
        if target is None:
            raise NotFound()
        user, credential = self.scheme.caller(request)
        try:
            deployment = deployment_create(
                project=target,
                ref=str(request.data.get("ref", "")),
                environment=str(request.data.get("environment", "production")),
                actor=Actor(user=user, token=credential),
            )
        except RuleError as error:
            return Response({"error": "validation_error", "detail": error.message}, status=422)
        return Response(_deployment_json(deployment), status=201)


DRF_SCHEMES: dict[str, Scheme] = {
    "drf-noauth": NoAuth(),
    "drf": DrfTokenAuth(),
    "knox": KnoxAuth(),
    "api-key": ApiKeyAuth(),
}


def drf_views(scheme_name: str):
    """(whoami view, deploy view) protected by the named scheme."""
    scheme = DRF_SCHEMES[scheme_name]
    attrs = {
        "scheme": scheme,
        "authentication_classes": scheme.authentication_classes,
        "permission_classes": scheme.permission_classes,
    }
    return (
        WhoamiView.as_view(**attrs),
        DeployView.as_view(**attrs),
    )
