from django.core import checks
from django.db import DatabaseError

from tokens.services import (
    MIN_SALT_LENGTH,
    previous_salts,
    salt_is_configured,
    tokens_on_previous_salts,
)


@checks.register()
def check_token_hash_salt(app_configs, **kwargs) -> list[checks.CheckMessage]:
    if salt_is_configured():
        return []
    return [
        checks.Error(
            f"TOKEN_HASH_SALT is missing or shorter than {MIN_SALT_LENGTH} characters.",
            hint="Set TOKEN_HASH_SALT in the environment to a random string of at least "
            f"{MIN_SALT_LENGTH} characters (python -c 'import secrets; "
            "print(secrets.token_urlsafe(48))'). Tokens cannot be issued or verified without it.",
            id="tokens.E001",
        )
    ]


@checks.register()
def check_salt_rotation(app_configs, **kwargs) -> list[checks.CheckMessage]:
    """While TOKEN_HASH_SALT_PREVIOUS is set, say how many live tokens still need it."""
    if not previous_salts() or not salt_is_configured():
        return []
    try:
        remaining = tokens_on_previous_salts()
    except DatabaseError:  # not migrated yet: nothing to report
        return []
    if not remaining:
        return [
            checks.Info(
                "No live token uses a previous salt any more.",
                hint="TOKEN_HASH_SALT_PREVIOUS can be removed.",
                id="tokens.I002",
            )
        ]
    return [
        checks.Warning(
            f"{remaining} live token(s) still use a previous salt (TOKEN_HASH_SALT_PREVIOUS).",
            hint="They move to TOKEN_HASH_SALT the first time they are used. Keep the previous "
            "salt until this count is zero, or accept that unused ones stop working.",
            id="tokens.W002",
        )
    ]
