from django.contrib import admin

from orgs.models import AuditEvent, Invitation, Membership, Organization, Project


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["slug", "name", "allow_personal_token_deploys", "created_at"]
    search_fields = ["slug", "name"]
    inlines = [MembershipInline]


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ["__str__", "name", "created_at"]
    list_select_related = ["organization"]
    search_fields = ["slug", "name", "organization__slug"]
    filter_horizontal = ["maintainers"]


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: the audit log is append-only."""

    list_display = ["created_at", "organization", "actor_label", "action", "target_label", "ip"]
    list_filter = ["action"]
    list_select_related = ["organization"]
    search_fields = ["actor_label", "target_label", "action"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    """Read-only and without the digest: invitations are sent, resent and revoked from the
    organization's members page, where each change is audited."""

    list_display = ["email", "organization", "role", "created_at", "expires_at", "accepted_at"]
    list_filter = ["role"]
    list_select_related = ["organization"]
    search_fields = ["email", "organization__slug"]
    exclude = ["digest"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
