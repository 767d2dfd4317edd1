from django.contrib import admin, messages

from orgs.audit import Actor
from tokens.models import Token
from tokens.services import token_revoke


@admin.register(Token)
class TokenAdmin(admin.ModelAdmin):
    """Tokens are listed and revoked here, never created or edited: a token exists only as
    the plaintext shown once by the app, and the digest is not shown at all."""

    list_display = ["name", "kind", "preview", "user", "organization", "project", "created_at",
                    "last_used_at", "expires_at", "revoked_at"]  # fmt: skip
    list_filter = ["kind", ("revoked_at", admin.EmptyFieldListFilter)]
    list_select_related = ["user", "organization", "project__organization"]
    search_fields = ["name", "preview", "user__email", "organization__slug"]
    exclude = ["digest", "salt_fingerprint"]
    actions = ["revoke"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.action(description="Revoke the selected tokens")
    def revoke(self, request, queryset) -> None:
        actor = Actor.from_request(request)
        revoked = sum(
            token_revoke(token=token, actor=actor, reason="revoked in admin") for token in queryset
        )
        self.message_user(request, f"Revoked {revoked} token(s).", messages.SUCCESS)
