from django.urls import path

from events import views

app_name = "events"
urlpatterns = [
    path("settings/webhooks/", views.webhooks, name="webhooks"),
    path("settings/webhooks/<id:endpoint_id>/", views.endpoint_detail, name="endpoint"),
    path(
        "settings/webhooks/<id:endpoint_id>/delete/", views.endpoint_delete, name="endpoint-delete"
    ),
    path("settings/webhooks/<id:endpoint_id>/test/", views.endpoint_test, name="endpoint-test"),
    path(
        "settings/webhooks/<id:endpoint_id>/deliveries/<id:delivery_id>/redeliver/",
        views.delivery_redeliver,
        name="redeliver",
    ),
    path("audit/export", views.audit_export, name="audit-export"),
]
