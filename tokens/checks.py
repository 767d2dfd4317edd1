from django.core import checks

from tokens.services import MIN_SALT_LENGTH, salt_is_configured


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
