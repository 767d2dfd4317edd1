from django.conf import settings
from django.http import HttpRequest

from accounts import sso
from accounts.models import User


def _no_users_yet() -> bool:
    return not User.objects.exists()


def sign_in(request: HttpRequest) -> dict:
    """`first_run` (no user exists yet: the sign-in page says how to make one) is a callable,
        so only the templates that use it pay for its query. `sso_provider`: the single sign-on
    provider's id and name, None when SSO is not (completely) configured."""
    return {
        "first_run": _no_users_yet,
        "open_signup": settings.TOKENDESK_OPEN_SIGNUP,
        "sso_provider": sso.provider(),
    }
