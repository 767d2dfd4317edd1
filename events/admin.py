from django.contrib import admin
from django.db import models

from events.models import Delivery, Endpoint


@admin.register(Endpoint)
class EndpointAdmin(admin.ModelAdmin):
    list_display = ["url", "organization", "is_active", "failing_since", "created_at"]
    list_filter = ["is_active"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    # The encrypted signing secret is never shown; its preview is enough to recognise it.
    fields = ["organization", "url", "description", "events", "secret_preview", "is_active",
              "failing_since", "created_by", "created_at"]  # fmt: skip
    readonly_fields = ["secret_preview", "created_by", "created_at"]

    def has_add_permission(self, request) -> bool:
        return False  # an endpoint gets its secret from the webhooks page, shown once there


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ["event_type", "endpoint", "status", "response_code", "attempts", "created_at"]
    list_filter = ["status", "event_type"]
    readonly_fields = [f.name for f in Delivery._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False
