"""A real OIDC issuer on loopback for the trusted-publishing tests: it serves a discovery
document and a JWKS over HTTP (a threaded http.server), signs RS256 and ES256 ID tokens
with keys generated when it starts, and answers GitHub Actions' ID-token request endpoint
(ACTIONS_ID_TOKEN_REQUEST_URL) for the CLI test."""

import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

REQUEST_TOKEN = "actions-request-token-for-tests"


class LoopbackIssuer:
    def __init__(self):
        self.keys: dict[str, tuple[str, object]] = {}  # kid -> (alg, private key)
        self.requests: list[str] = []
        self.actions_claims: dict = {}
        self.failing = False  # True: discovery answers 500, as an issuer having an outage
        self.add_key("RS256")
        self.add_key("ES256")
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def add_key(self, alg: str) -> str:
        """A new signing key (what a key rotation publishes); returns its kid."""
        kid = f"{alg.lower()}-{uuid.uuid4().hex[:8]}"
        if alg == "RS256":
            private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        else:
            private = ec.generate_private_key(ec.SECP256R1())
        self.keys[kid] = (alg, private)
        return kid

    def kid(self, alg: str = "RS256") -> str:
        return next(kid for kid, (key_alg, _) in self.keys.items() if key_alg == alg)

    def public_pem(self, kid: str) -> bytes:
        from cryptography.hazmat.primitives import serialization

        return (
            self.keys[kid][1]
            .public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )

    def jwks(self) -> dict:
        keys = []
        for kid, (alg, private) in self.keys.items():
            algorithm = RSAAlgorithm if alg == "RS256" else ECAlgorithm
            jwk = algorithm.to_jwk(private.public_key(), as_dict=True)
            keys.append({**jwk, "kid": kid, "alg": alg, "use": "sig"})
        return {"keys": keys}

    def claims(self, audience: str, **overrides) -> dict:
        now = int(time.time())
        claims = {
            "iss": self.url,
            "aud": audience,
            "sub": "repo:acme/web:environment:production",
            "repository": "acme/web",
            "ref": "refs/heads/main",
            "environment": "production",
            "workflow_ref": "acme/web/.github/workflows/deploy.yml@refs/heads/main",
            "iat": now,
            "nbf": now,
            "exp": now + 300,
            "jti": uuid.uuid4().hex,
        }
        claims.update(overrides)
        return {key: value for key, value in claims.items() if value is not None}

    def sign(self, claims: dict, *, alg: str = "RS256", kid: str | None = None) -> str:
        kid = kid or self.kid(alg)
        return jwt.encode(claims, self.keys[kid][1], algorithm=alg, headers={"kid": kid})

    def _handler(self):
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _json(self, status: int, body: dict) -> None:
                raw = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def do_GET(self):
                url = urlsplit(self.path)
                issuer.requests.append(url.path)
                if issuer.failing and url.path != "/actions-token":
                    self._json(500, {"message": "outage"})
                elif url.path == "/.well-known/openid-configuration":
                    self._json(200, {"issuer": issuer.url, "jwks_uri": issuer.url + "/jwks"})
                elif url.path == "/jwks":
                    self._json(200, issuer.jwks())
                elif url.path == "/actions-token":
                    if self.headers.get("Authorization") != f"bearer {REQUEST_TOKEN}":
                        self._json(401, {"message": "bad request token"})
                        return
                    audience = parse_qs(url.query).get("audience", [""])[0]
                    claims = issuer.claims(audience, **issuer.actions_claims)
                    self._json(200, {"count": 1, "value": issuer.sign(claims)})
                else:
                    self._json(404, {})

        return Handler
