from django.apps import AppConfig


class TokensConfig(AppConfig):
    name = "tokens"

    def ready(self) -> None:
        from tokens import checks, receivers  # noqa: F401  (registers the check and receivers)
