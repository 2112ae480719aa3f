from django.urls import path

from escalations.web import views
from incidents.actions import action_routes

app_name = "escalations"

# A URL that names its action ("<slug:action>", as the pages post) is served by one view
# per action, each declaring its rule (incidents.actions); another name is a 404.
escalation_actions = action_routes(
    {
        "acknowledge": views.escalation_acknowledge,
        "escalate": views.escalation_escalate,
        "decide": views.escalation_decide,
        "de-escalate": views.escalation_de_escalate,
        "manager-request": views.escalation_manager_request,
    }
)
war_room_actions = action_routes(
    {
        "activate": views.war_room_activate,
        "assign": views.war_room_assign,
        "decide": views.war_room_decide,
        "cadence": views.war_room_cadence,
        "close": views.war_room_close,
    }
)
vendor_actions = action_routes({"open": views.vendor_case_open})
regulatory_actions = action_routes(
    {"require": views.regulatory_report_require, "file": views.regulatory_report_file}
)
vendor_case_actions = action_routes({"update": views.vendor_case_update})
review_actions = action_routes(
    {
        "start": views.review_start,
        "submit": views.review_submit,
        "publish": views.review_publish,
        "return": views.review_return,
        "redraft-timeline": views.review_redraft_timeline,
        "add-item": views.review_add_item,
        "similar": views.review_confirm_similar,
        "unlink-similar": views.review_unlink_similar,
    }
)
action_item_actions = action_routes(
    {"close": views.action_item_close, "update": views.action_item_update}
)

urlpatterns = [
    path("<str:reference>/escalation/<slug:action>/", escalation_actions, name="action"),
    path("<str:reference>/escalation.json", views.escalation_json, name="json"),
    path("<str:reference>/tracking.md", views.tracking_document, name="tracking"),
    # Follow-up work: war room, vendor cases, post-incident review and its action items.
    path("<str:reference>/war-room/<slug:action>/", war_room_actions, name="war_room"),
    path("<str:reference>/vendor-cases/<slug:action>/", vendor_actions, name="vendor"),
    path(
        "<str:reference>/vendor-cases/<int:pk>/<slug:action>/",
        vendor_case_actions,
        name="vendor_case",
    ),
    path(
        "<str:reference>/regulatory-report/<slug:action>/",
        regulatory_actions,
        name="regulatory_report",
    ),
    path("<str:reference>/pir/edit/", views.review_detail, name="pir"),
    path("<str:reference>/pir/<slug:action>/", review_actions, name="pir_action"),
    path("<str:reference>/pir/items/<int:pk>/<slug:action>/", action_item_actions, name="item"),
    path("<str:reference>/pir.md", views.review_markdown_download, name="pir_md"),
    path("<str:reference>/pir.yaml", views.review_yaml_download, name="pir_yaml"),
]
