from django.apps import AppConfig


class OpsConfig(AppConfig):
    """Operational plumbing no domain app owns: the shared cache table, the response headers
    every page carries, and which address a request comes from behind proxies."""

    name = "ops"
    verbose_name = "Operations"
