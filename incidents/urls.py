from django.urls import path

from incidents import views
from incidents.actions import action_routes

app_name = "incidents"

# The page's forms post to "<reference>/<action>/": one view per action, each
# declaring its rule (incidents.actions); another name is a 404.
incident_actions = action_routes(
    {
        "acknowledge": views.incident_acknowledge,
        "comment": views.incident_comment,
        "update": views.incident_public_update,
        "status": views.incident_status,
        "assign": views.incident_assign,
        "severity": views.incident_severity,
        "reopen": views.incident_reopen,
        # the public status page (seed 002)
        "status-page-publish": views.status_page_publish,
        "status-page-title": views.status_page_title,
        "status-page-update": views.status_page_update,
        "status-page-withdraw": views.status_page_withdraw,
    }
)

urlpatterns = [
    path("", views.incident_list, name="list"),
    path("new/", views.incident_create, name="create"),
    path("<str:reference>/", views.incident_detail, name="detail"),
    path("<str:reference>/<slug:action>/", incident_actions, name="action"),
]
