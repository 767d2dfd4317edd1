from django.contrib import admin

from orgs.models import Membership, Organization, Project


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
