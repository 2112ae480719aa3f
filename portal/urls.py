from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path
from django.views.generic import RedirectView

from escalations.web import oncall
from escalations.web import schedules as schedule_views
from escalations.web import views as escalation_views
from incidents.views import customer_status, public_status_page
from notifications.webhooks import inbound_webhook
from portal import views
from portal.api.docs import DocsView, SchemaView
from portal.api.errors import not_found

admin.site.site_header = "Escalation portal"
admin.site.site_title = "Escalation portal admin"
admin.site.index_title = "Queues, policies and people"

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("profile/", views.profile, name="profile"),
    path("healthz", views.healthz, name="healthz"),
    path("incidents/", include("incidents.urls")),
    path("incidents/", include("escalations.web.urls")),
    path("status/", public_status_page, name="public-status"),
    path("status/<str:token>/", customer_status, name="customer-status"),
    # Inbound mail (customer replies) from the configured ESP, behind basic auth: see README.
    path(
        "anymail/mailgun/inbound_mime/",
        inbound_webhook,
        {"esp": "mailgun"},
        name="inbound_mail_mailgun_mime",
    ),
    path("anymail/<slug:esp>/inbound/", inbound_webhook, name="inbound_mail"),
    path("queues/", escalation_views.review_queues, name="queues"),
    path("queues/<slug:slug>/", escalation_views.review_queues, name="queue"),
    path("metrics/", escalation_views.metrics_page, name="metrics"),
    path("metrics/<slug:slug>.csv", escalation_views.metrics_csv, name="metrics_csv"),
    path("reports/weekly/", escalation_views.weekly_report_page, name="weekly_report"),
    path("policies/what-if/", escalation_views.simulation_page, name="simulation"),
    path(
        "reports/weekly/<str:week>/",
        escalation_views.weekly_report_page,
        name="weekly_report_week",
    ),
    path(
        "reports/weekly/<str:week>.<str:fmt>",
        escalation_views.weekly_report_download,
        name="weekly_report_download",
    ),
    # People's own on-call changes (issue 18): cover requests and taking the shift now.
    path("schedules/requests/", oncall.oncall_requests, name="oncall_requests"),
    path("schedules/requests/new/", oncall.cover_request_new, name="oncall_request_new"),
    path(
        "schedules/requests/<int:pk>/<slug:action>/",
        oncall.cover_actions,
        name="oncall_request_action",
    ),
    path("schedules/<int:pk>/take/", oncall.shift_take, name="oncall_take"),
    # On-call: schedules, my shifts, and the signed calendar feeds (no session needed).
    path("schedules/", schedule_views.schedule_list, name="schedules"),
    path("schedules/mine/", schedule_views.my_shifts_page, name="my_shifts"),
    path("schedules/feed/reset/", schedule_views.feed_links_reset, name="schedule_feed_reset"),
    path("schedules/<int:pk>/", schedule_views.schedule_detail, name="schedule"),
    path("schedules/feed/person/<str:token>.ics", schedule_views.person_feed, name="person_feed"),
    path(
        "schedules/feed/schedule/<str:token>.ics",
        schedule_views.schedule_feed,
        name="schedule_feed",
    ),
    path("admin/", admin.site.urls),
    # REST API: one router per app (<app>/api/urls.py), the schema and its docs.
    path("api/", include("incidents.api.urls")),
    path("api/", include("escalations.api.urls")),
    path("api/schema/", SchemaView.as_view(), name="api-schema"),
    path("api/docs/", DocsView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/", RedirectView.as_view(pattern_name="api-docs"), name="api-root"),
    # Anything else under /api/ is a JSON 404, as API clients expect, not an HTML page.
    re_path(r"^api/", not_found),
]
