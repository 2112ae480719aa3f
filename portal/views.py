from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render

from .models import User


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


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A form the CSRF check refused: a page in the site's layout that says what to do
    (the reason is for logs, not for people)."""
    return render(request, "403_csrf.html", {"reason": reason}, status=403)
