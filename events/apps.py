from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "events"
    verbose_name = "Events: webhooks, jobs and audit export"

    def ready(self) -> None:
        from events import receivers  # noqa: F401  (connects the audit-event listener)
