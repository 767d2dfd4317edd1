from django.contrib import admin

from trust.models import OidcExchange, TrustedPublisher


class ReadOnlyAdmin(admin.ModelAdmin):
    """Listed here, changed only on the project's page (audited, re-authenticated)."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(TrustedPublisher)
class TrustedPublisherAdmin(ReadOnlyAdmin):
    list_display = ["project", "issuer", "audience", "lifetime_minutes", "created_at"]
    list_select_related = ["project__organization"]


@admin.register(OidcExchange)
class OidcExchangeAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "issuer", "subject", "policy", "token"]
    list_select_related = ["policy__project__organization", "token"]
    search_fields = ["subject", "jti"]
