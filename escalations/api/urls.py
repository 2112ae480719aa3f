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
# A schedule's overrides and cover requests: /api/schedules/<id>/overrides/ and friends.
router.register(
    r"schedules/(?P<schedule_pk>[0-9]+)/overrides", views.OverrideViewSet, basename="api-override"
)
router.register(
    r"schedules/(?P<schedule_pk>[0-9]+)/override-requests",
    views.CoverRequestViewSet,
    basename="api-cover-request",
)
router.register("metrics", views.MetricsViewSet, basename="api-metrics")

urlpatterns = router.urls
