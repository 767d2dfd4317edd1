from django.urls import path

from tokens import org_views, views

app_name = "tokens"
urlpatterns = [
    path("settings/tokens/", views.personal_tokens, name="personal"),
    path("settings/tokens/new/", views.personal_token_create, name="personal-create"),
    path("settings/tokens/activity/", views.personal_activity, name="personal-activity"),
    path("settings/tokens/<id:token_id>/", views.personal_token_detail, name="personal-detail"),
    path(
        "settings/tokens/<id:token_id>/narrow/",
        views.personal_token_narrow,
        name="personal-narrow",
    ),
    path(
        "settings/tokens/<id:token_id>/revoke/",
        views.personal_token_revoke,
        name="personal-revoke",
    ),
    path(
        "settings/tokens/<id:token_id>/rotate/",
        views.personal_token_rotate,
        name="personal-rotate",
    ),
    path(
        "settings/tokens/<id:token_id>/end-overlap/",
        views.personal_token_end_overlap,
        name="personal-end-overlap",
    ),
    path(
        "settings/tokens/revoke-all/",
        views.personal_tokens_revoke_all,
        name="personal-revoke-all",
    ),
    path("orgs/<slug:org>/settings/tokens/", org_views.ci_tokens, name="ci"),
    path("orgs/<slug:org>/settings/tokens/new/", org_views.ci_token_create, name="ci-create"),
    path("orgs/<slug:org>/settings/tokens/policy/", org_views.ci_token_policy, name="ci-policy"),
    path(
        "orgs/<slug:org>/settings/tokens/<id:token_id>/",
        org_views.ci_token_detail,
        name="ci-detail",
    ),
    path(
        "orgs/<slug:org>/settings/tokens/<id:token_id>/narrow/",
        org_views.ci_token_narrow,
        name="ci-narrow",
    ),
    path(
        "orgs/<slug:org>/settings/tokens/<id:token_id>/reset/",
        org_views.ci_token_reset,
        name="ci-reset",
    ),
    path(
        "orgs/<slug:org>/settings/tokens/<id:token_id>/rotate/",
        org_views.ci_token_rotate,
        name="ci-rotate",
    ),
    path(
        "orgs/<slug:org>/settings/tokens/<id:token_id>/end-overlap/",
        org_views.ci_token_end_overlap,
        name="ci-end-overlap",
    ),
    path(
        "orgs/<slug:org>/settings/tokens/<id:token_id>/revoke/",
        org_views.ci_token_revoke,
        name="ci-revoke",
    ),
    path("orgs/<slug:org>/settings/deploy-auth/", org_views.deploy_auth, name="deploy-auth"),
    path(
        "orgs/<slug:org>/settings/deploy-auth/policy/",
        org_views.deploy_auth_policy,
        name="deploy-auth-policy",
    ),
    path(
        "orgs/<slug:org>/settings/deploy-auth/legacy/<id:token_id>/revoke/",
        org_views.legacy_token_revoke,
        name="legacy-revoke",
    ),
    path(
        "orgs/<slug:org>/projects/<slug:project>/settings/deployment-tokens/",
        org_views.deployment_tokens,
        name="deployment",
    ),
    path(
        "orgs/<slug:org>/projects/<slug:project>/settings/deployment-tokens/generate/",
        org_views.deployment_token_generate,
        name="deployment-generate",
    ),
    path(
        "orgs/<slug:org>/projects/<slug:project>/settings/deployment-tokens/<id:token_id>/",
        org_views.deployment_token_detail,
        name="deployment-detail",
    ),
    path(
        "orgs/<slug:org>/projects/<slug:project>/settings/deployment-tokens/<id:token_id>/narrow/",
        org_views.deployment_token_narrow,
        name="deployment-narrow",
    ),
    path(
        "orgs/<slug:org>/projects/<slug:project>/settings/deployment-tokens/<id:token_id>/rotate/",
        org_views.deployment_token_rotate,
        name="deployment-rotate",
    ),
    path(
        "orgs/<slug:org>/projects/<slug:project>/settings/deployment-tokens/<id:token_id>/end-overlap/",
        org_views.deployment_token_end_overlap,
        name="deployment-end-overlap",
    ),
    path(
        "orgs/<slug:org>/projects/<slug:project>/settings/deployment-tokens/<id:token_id>/revoke/",
        org_views.deployment_token_revoke,
        name="deployment-revoke",
    ),
]
