from django.urls import path

from . import views

app_name = "escalations"

urlpatterns = [
    path("<str:reference>/escalation/<slug:action>/", views.escalation_action, name="action"),
    path("<str:reference>/escalation.json", views.escalation_json, name="json"),
    path("<str:reference>/tracking.md", views.tracking_document, name="tracking"),
]
