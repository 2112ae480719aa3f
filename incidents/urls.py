from django.urls import path

from . import views

app_name = "incidents"

urlpatterns = [
    path("", views.incident_list, name="list"),
    path("new/", views.incident_create, name="create"),
    path("<str:reference>/", views.incident_detail, name="detail"),
    path("<str:reference>/<slug:action>/", views.incident_action, name="action"),
]
