"""The incidents app's API: its router, plus the alert webhooks (not REST resources)."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from incidents.api import ingest, views

router = SimpleRouter()
router.register("incidents", views.IncidentViewSet, basename="api-incident")
router.register("accounts", views.AccountViewSet, basename="api-account")
router.register("components", views.ComponentViewSet, basename="api-component")
router.register("channels", views.ChannelViewSet, basename="api-channel")
router.register("categories", views.CategoryViewSet, basename="api-category")

urlpatterns = [
    path("alerts/v2/enqueue", ingest.EventsV2View.as_view(), name="alerts-events-v2"),
    path("alerts/<str:token>/", ingest.AlertWebhookView.as_view(), name="alerts-webhook"),
    *router.urls,
]
