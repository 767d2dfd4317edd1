from django.core.checks import Warning, register

from accounts import sso


@register()
def single_sign_on_settings(app_configs, **kwargs) -> list[Warning]:
    """Some OIDC variables set but not all: SSO stays off (no button), the rest works."""
    missing = sso.missing_settings()
    if not missing:
        return []
    return [
        Warning(
            f"Single sign-on is not configured completely: {', '.join(missing)} "
            f"{'is' if len(missing) == 1 else 'are'} not set, so the 'Sign in with …' "
            "button is hidden.",
            hint="Set OIDC_ISSUER_URL, OIDC_CLIENT_ID and OIDC_CLIENT_SECRET together "
            "(README, 'Single sign-on'), or unset them all.",
            id="accounts.W001",
        )
    ]
