from django.urls import path

from tokens import views

app_name = "tokens"
urlpatterns = [
    path("", views.personal_tokens, name="personal"),
    path("new/", views.personal_token_create, name="personal-create"),
    path("<int:token_id>/revoke/", views.personal_token_revoke, name="personal-revoke"),
    path("revoke-all/", views.personal_tokens_revoke_all, name="personal-revoke-all"),
]
