from django.urls import path

from . import views

app_name = "escalations"

urlpatterns = [
    path("<str:reference>/escalation/<slug:action>/", views.escalation_action, name="action"),
    path("<str:reference>/escalation.json", views.escalation_json, name="json"),
    path("<str:reference>/tracking.md", views.tracking_document, name="tracking"),
    # Follow-up work: war room, vendor cases, post-incident review and its action items.
    path("<str:reference>/war-room/<slug:action>/", views.war_room_action, name="war_room"),
    path("<str:reference>/vendor-cases/<slug:action>/", views.vendor_case_action, name="vendor"),
    path(
        "<str:reference>/vendor-cases/<int:pk>/<slug:action>/",
        views.vendor_case_action,
        name="vendor_case",
    ),
    path("<str:reference>/pir/edit/", views.review_detail, name="pir"),
    path("<str:reference>/pir/<slug:action>/", views.review_action, name="pir_action"),
    path(
        "<str:reference>/pir/items/<int:pk>/<slug:action>/",
        views.action_item_action,
        name="item",
    ),
    path("<str:reference>/pir.md", views.review_markdown_download, name="pir_md"),
    path("<str:reference>/pir.yaml", views.review_yaml_download, name="pir_yaml"),
]
