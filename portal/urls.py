from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from incidents.views import customer_status

from . import views

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
    path("incidents/", include("escalations.urls")),
    path("status/<str:token>/", customer_status, name="customer-status"),
    # Inbound mail (customer replies) from the ESP, behind basic auth: see README.
    path("anymail/", include("anymail.urls")),
    path("admin/", admin.site.urls),
]
