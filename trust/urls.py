from django.urls import path

from trust import views

app_name = "trust"
BASE = "orgs/<slug:org>/projects/<slug:project>/settings/trusted-publishers/"
urlpatterns = [
    path(BASE, views.publishers, name="publishers"),
    path(BASE + "new/", views.publisher_create, name="publisher-create"),
    path(BASE + "<id:policy_id>/edit/", views.publisher_edit, name="publisher-edit"),
    path(BASE + "<id:policy_id>/delete/", views.publisher_delete, name="publisher-delete"),
]
