from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "events"
    verbose_name = "Events: webhooks, jobs and audit export"

    def ready(self) -> None:
        from events import (  # noqa: F401  (connect their receivers)
            metrics,  # jobs finished, for /metrics
            receivers,  # the audit-event listener
        )
