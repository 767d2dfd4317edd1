"""What a trusted-publishing exchange costs (docs/trusted-publishing.md), and what verifying the
short-lived token it issues costs next to any other deployment token.

    .venv/bin/python bench/oidc_exchange.py [--calls 200]

A real issuer runs on loopback (the tests' one: discovery, a JWKS, RS256 and ES256 keys made
at start); its ID tokens are signed before the clock starts, each with its own jti. The
issuer's keys are fetched once and then come from the cache, so the figure is the exchange
itself: signature check, claims, policy match, one token issued and one exchange recorded
(each a transaction with its audit events). In-process (no HTTP server) on a throwaway
SQLite file; `make bench` measures the HTTP path of the other endpoints.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"

VERIFY_CALLS = 2000


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=200, help="exchanges to time")
    args = parser.parse_args(argv)

    import bench.settings as bench_settings

    workdir = tempfile.mkdtemp(prefix="tokendesk-oidc-bench-")
    bench_settings.DATABASES["default"]["NAME"] = str(Path(workdir) / "oidc.sqlite3")

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.test import Client

    call_command("migrate", verbosity=0)

    from orgs.audit import Actor
    from orgs.models import Organization, Project
    from tests.trust.issuer import LoopbackIssuer
    from tokens import permissions as perms
    from tokens.models import Token
    from tokens.services import token_issue, token_verify
    from trust.services import clean_policy, publisher_create

    issuer = LoopbackIssuer()
    settings.TRUSTED_PUBLISHER_ISSUERS = {
        **settings.TRUSTED_PUBLISHER_ISSUERS,
        issuer.url: "github",
    }
    settings.TRUSTED_PUBLISHER_ALLOW_INSECURE_ISSUERS = True
    # Every timed exchange comes from this one address: the per-address limit is not measured.
    settings.TRUSTED_PUBLISHER_EXCHANGES_PER_MINUTE = 10**9
    audience = "https://tokens.example.test"
    try:
        organization = Organization.objects.create(slug="acme", name="Acme")
        project = Project.objects.create(organization=organization, slug="web", name="Web")
        fields = clean_policy(
            issuer=issuer.url,
            audience=audience,
            conditions={"repository": "acme/web", "ref": "refs/heads/main"},
            permissions=["projects:read", "deployments:write"],
            lifetime_minutes=15,
        )
        publisher_create(project=project, fields=fields, actor=Actor())
        client = Client()

        def exchange(id_token: str) -> str:
            response = client.post(
                "/api/v1/oidc/token",
                {"id_token": id_token, "project": "acme/web"},
                content_type="application/json",
            )
            assert response.status_code == 201, response.content
            return response.json()["token"]

        figures = {}
        for alg in ("RS256", "ES256"):
            exchange(issuer.sign(issuer.claims(audience), alg=alg))  # warm: keys cached
            id_tokens = [issuer.sign(issuer.claims(audience), alg=alg) for _ in range(args.calls)]
            timings = []
            for id_token in id_tokens:
                start = time.perf_counter()
                exchange(id_token)
                timings.append((time.perf_counter() - start) * 1e3)
            figures[alg] = timings
        fetches = issuer.requests.count("/jwks")

        issued = exchange(issuer.sign(issuer.claims(audience)))
        ordinary = token_issue(
            kind=Token.Kind.DEPLOYMENT,
            project=project,
            name="ordinary deploy",
            role="ci",
            permissions=perms.ROLE_PRESETS["ci"],
            actor=Actor(),
        ).plaintext

        def slice_us(plaintext: str) -> float:
            calls = VERIFY_CALLS // 10
            start = time.perf_counter()
            for _ in range(calls):
                token_verify(plaintext)
            return (time.perf_counter() - start) / calls * 1e6

        # Interleaved slices, so both tokens meet the same load; the best slice of each.
        verify = {"issued": [], "ordinary": []}
        for _ in range(10):
            verify["issued"].append(slice_us(issued))
            verify["ordinary"].append(slice_us(ordinary))

        print(f"OIDC exchange, POST /api/v1/oidc/token in-process, {args.calls} calls per alg")
        print(f"  (issuer keys fetched {fetches} time(s) in all: cached)")
        for alg, timings in figures.items():
            timings.sort()
            p95 = timings[int(len(timings) * 0.95) - 1]
            print(
                f"  {alg}: median {statistics.median(timings):6.2f} ms   "
                f"p95 {p95:6.2f} ms   min {timings[0]:6.2f} ms"
            )
        print("Verify (token_verify, best of 10 interleaved slices):")
        print(f"  short-lived token from the exchange  {min(verify['issued']):7.1f} µs/call")
        print(f"  ordinary deployment token            {min(verify['ordinary']):7.1f} µs/call")
    finally:
        issuer.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
