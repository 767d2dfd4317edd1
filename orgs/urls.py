from django.urls import path

from orgs import views

app_name = "orgs"
urlpatterns = [
    path("", views.overview, name="overview"),
    path("projects/new/", views.project_create, name="project-create"),
    path("projects/<slug:project>/edit/", views.project_edit, name="project-edit"),
    path("projects/<slug:project>/delete/", views.project_delete, name="project-delete"),
    path("settings/members/", views.members, name="members"),
    path("settings/members/add/", views.member_add, name="member-add"),
    path("settings/members/<id:membership_id>/role/", views.member_role, name="member-role"),
    path("settings/members/<id:membership_id>/remove/", views.member_remove, name="member-remove"),
    path("settings/members/invite/", views.member_invite, name="member-invite"),
    path(
        "settings/members/invitations/<id:invitation_id>/resend/",
        views.invitation_resend,
        name="invitation-resend",
    ),
    path(
        "settings/members/invitations/<id:invitation_id>/revoke/",
        views.invitation_revoke,
        name="invitation-revoke",
    ),
    path("settings/two-factor/", views.two_factor_policy, name="two-factor-policy"),
    path("two-factor-required/", views.two_factor_required, name="two-factor-required"),
    path("settings/sso/", views.sso_policy, name="sso-policy"),
    path("sso-required/", views.sso_required, name="sso-required"),
    path("audit/", views.audit_log, name="audit"),
]
