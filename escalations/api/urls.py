"""The escalations app's API router."""

from rest_framework.routers import SimpleRouter

from escalations.api import views

router = SimpleRouter()
router.register("escalations", views.EscalationViewSet, basename="api-escalation")
# Only detail actions: /api/incidents/<reference>/escalate/ and friends.
router.register("incidents", views.IncidentEscalationViewSet, basename="api-incident-escalation")
router.register("policies", views.PolicyViewSet, basename="api-policy")
# Reviews are addressed by their incident's reference: /api/reviews/<reference>/.
router.register("reviews", views.ReviewViewSet, basename="api-review")
router.register("action-items", views.ActionItemViewSet, basename="api-action-item")
router.register("schedules", views.ScheduleViewSet, basename="api-schedule")
router.register("metrics", views.MetricsViewSet, basename="api-metrics")

urlpatterns = router.urls
