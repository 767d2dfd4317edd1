from django.apps import AppConfig


class LibConfig(AppConfig):
    """What every app shares (UI helpers, ids, listing, limits, rule errors, template tags).
    It imports no domain app; any app may import it."""

    name = "lib"
    verbose_name = "Shared code"
