from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from portal.models import User


class ProfileForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["first_name", "last_name", "email", "phone", "time_zone"]


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    # Only the user's own presentation settings: not a state change of the domain.
    form = ProfileForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Profile saved. Times are now shown in your time zone.")
        return redirect("profile")
    return render(
        request,
        "portal/profile.html",
        {"form": form},
        status=400 if request.method == "POST" else 200,
    )


def home(request: HttpRequest) -> HttpResponse:
    return redirect("incidents:list")


def healthz(request: HttpRequest) -> HttpResponse:
    """For load balancers and the run command: the app answers and the database does."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


def login_locked_out(
    request: HttpRequest, original_response=None, credentials=None
) -> HttpResponse:
    """django-axes' lockout answer: the same sign-in page, with the reason, as 429."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    message = (
        "Too many failed sign-ins for this username from your address. "
        f"Try again in {minutes} minutes, or ask an administrator to unlock it."
    )
    username = (credentials or {}).get("username") or request.POST.get("username", "")
    context = {
        "form": AuthenticationForm(request, initial={"username": username}),
        "locked_out": message,
        "next": request.POST.get("next", ""),
    }
    template = "registration/login.html"
    if request.path == reverse("admin:login"):
        template = "admin/login.html"
        context |= {**admin.site.each_context(request), "title": "Log in", "app_path": request.path}
    return render(request, template, context, status=429)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A form the CSRF check refused: a page in the site's layout that says what to do
    (the reason is for logs, not for people)."""
    return render(request, "403_csrf.html", {"reason": reason}, status=403)
