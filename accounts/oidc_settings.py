"""Single sign-on settings (one OpenID Connect provider) turned into django-allauth's
SOCIALACCOUNT_PROVIDERS. Pure: settings.py and the tests build the same shape from values."""

# The variables that must all be set for the "Sign in with …" button to appear.
REQUIRED = ("OIDC_ISSUER_URL", "OIDC_CLIENT_ID", "OIDC_CLIENT_SECRET")


def missing(values: dict[str, str]) -> list[str]:
    """The required variables not set, when at least one OIDC variable is (none set: SSO is
    simply off, nothing is missing)."""
    if not any(values.get(name) for name in (*REQUIRED, "OIDC_PROVIDER_NAME")):
        return []
    return [name for name in REQUIRED if not values.get(name)]


def providers(values: dict[str, str], *, provider_id: str, name: str) -> dict:
    """allauth's SOCIALACCOUNT_PROVIDERS: the openid_connect provider with one app (from the
    settings, no database SocialApp) when every required variable is set, none otherwise.
    PKCE is always on."""
    apps = []
    if all(values.get(name) for name in REQUIRED):
        apps.append(
            {
                "provider_id": provider_id,
                "name": name,
                "client_id": values["OIDC_CLIENT_ID"],
                "secret": values["OIDC_CLIENT_SECRET"],
                "settings": {
                    "server_url": values["OIDC_ISSUER_URL"].rstrip("/"),
                    "oauth_pkce_enabled": True,
                },
            }
        )
    return {"openid_connect": {"OAUTH_PKCE_ENABLED": True, "APPS": apps}}
