"""Every page of the app, for the browser tests that visit them all (the Content-Security-Policy
check and the phone/keyboard/axe check): one list, so a new page is added once.

Each entry is a URL and who may see it: "all" (every signed-in demo user), "admins" (owners
and super admins; a member gets the app's 404) or "web" (admins and the maintainers of the
demo project `web`, i.e. also dev@acme.test)."""

from accounts.guides import GUIDES

OWNER = "owner@acme.test"
ADMIN = "admin@acme.test"
DEV = "dev@acme.test"
DEMO_USERS = (OWNER, ADMIN, DEV)
ADMINS = {OWNER, ADMIN}

ORG = "/orgs/acme"
WEB = f"{ORG}/projects/web/settings"
API = f"{ORG}/projects/api/settings"

PAGES: list[tuple[str, str]] = [
    ("/", "all"),
    ("/settings/tokens/", "all"),
    ("/settings/tokens/?show=revoked", "all"),
    ("/settings/tokens/activity/", "all"),
    ("/settings/security/", "all"),
    (f"{ORG}/", "all"),
    (f"{ORG}/settings/members/", "all"),
    (f"{ORG}/settings/tokens/", "admins"),
    (f"{ORG}/settings/tokens/?show=revoked", "admins"),
    (f"{ORG}/settings/deploy-auth/", "admins"),
    (f"{ORG}/audit/", "admins"),
    (f"{ORG}/audit/?action=token.create", "admins"),
    (f"{ORG}/settings/webhooks/", "admins"),
    (f"{WEB}/deployment-tokens/", "web"),
    (f"{WEB}/deployment-tokens/?show=revoked", "web"),
    (f"{WEB}/trusted-publishers/", "web"),
    (f"{API}/deployment-tokens/", "admins"),
    ("/docs/", "all"),
    *((f"/docs/{slug}/", "all") for slug in GUIDES if slug != "index"),
    ("/cli/", "all"),
    ("/api/v1/docs", "all"),
]

# Pages reached through a list: each token's own page (its usage), the first row's name link.
DETAIL_LINKS = {
    "/settings/tokens/": "#token-table tbody td:first-child a",
    f"{ORG}/settings/tokens/": "#token-table tbody td:first-child a",
    f"{WEB}/deployment-tokens/": "#token-table tbody td:first-child a",
}

# Pages without signing in.
ANONYMOUS_PAGES = ["/accounts/login/", "/docs/", "/cli/", "/api/v1/docs"]

# The pages a reviewer looks at on both widths (tests/browser/screenshots/, git-ignored).
SCREENSHOTS = {
    "/settings/tokens/": "personal",
    "/settings/tokens/?show=revoked": "personal-revoked",
    f"{ORG}/settings/tokens/": "ci",
    f"{WEB}/deployment-tokens/": "deployment",
}


def may_see(email: str, who: str) -> bool:
    if who == "all":
        return True
    if who == "admins":
        return email in ADMINS
    return email in ADMINS or email == DEV  # "web": dev maintains web


def pages_for(email: str) -> list[tuple[str, bool]]:
    """(url, whether `email` sees it: else the app's 404 page)."""
    return [(url, may_see(email, who)) for url, who in PAGES]
