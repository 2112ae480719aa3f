"""People's own on-call changes on the web: ask someone to cover, accept or decline what
you were asked, cancel what you asked, take the shift now. Thin over
escalations.schedules.services, which ask the same rules as the API."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone

from escalations.models import CoverRequestStatus, OnCallOverrideRequest, OnCallSchedule
from escalations.schedules import services
from escalations.schedules.selectors import cover_requests_for, schedules_of, who_is_on_call
from incidents.actions import action_routes, action_view
from incidents.views import attach_errors

LOCAL_INPUT = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class CoverRequestForm(forms.Form):
    """Times are read in the person's own zone (the middleware's current zone)."""

    schedule = forms.ModelChoiceField(queryset=OnCallSchedule.objects.none(), label="Schedule")
    to_person = forms.ModelChoiceField(
        queryset=get_user_model().objects.none(), label="Ask", empty_label="Choose a person"
    )
    start = forms.DateTimeField(label="From", widget=LOCAL_INPUT)
    end = forms.DateTimeField(label="Until", widget=LOCAL_INPUT)
    reason = forms.CharField(label="Reason", max_length=200, required=False)
    swap_start = forms.DateTimeField(
        label="In return, I cover from",
        widget=LOCAL_INPUT,
        required=False,
        help_text="Optional: a swap, part of their shift you take instead.",
    )
    swap_end = forms.DateTimeField(label="In return, until", widget=LOCAL_INPUT, required=False)

    def __init__(self, *args, user, schedules, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["schedule"].queryset = OnCallSchedule.objects.filter(
            pk__in=[s.pk for s in schedules]
        )
        if len(schedules) == 1:
            self.fields["schedule"].initial = schedules[0].pk
        usernames = {p for s in schedules for p in s.rotation_people}
        teams = {s.team_id for s in schedules if s.team_id}
        people = get_user_model().objects.filter(is_active=True).exclude(pk=user.pk)
        self.fields["to_person"].queryset = (
            (people.filter(username__in=usernames) | people.filter(groups__in=teams))
            .distinct()
            .order_by("first_name", "last_name", "username")
        )
        self.fields["to_person"].label_from_instance = lambda u: (
            f"{u.get_full_name()} ({u.get_username()})" if u.get_full_name() else u.get_username()
        )


class TakeForm(forms.Form):
    hours = forms.FloatField(
        label="Hours",
        required=False,
        min_value=0.25,
        max_value=168,
        help_text="Empty: until the current shift ends.",
    )


def _page(request: HttpRequest, *, form=None, status: int = 200) -> HttpResponse:
    user = request.user
    schedules = schedules_of(user)
    now = timezone.now()
    rows = list(cover_requests_for(user, now=now))
    return render(
        request,
        "escalations/oncall_requests.html",
        {
            "to_me": [r for r in rows if r.to_person_id == user.pk],
            "from_me": [r for r in rows if r.from_person_id == user.pk],
            "requested": CoverRequestStatus.REQUESTED,
            "form": form or CoverRequestForm(user=user, schedules=schedules),
            "on_call": [_on_call_row(s, now, user) for s in schedules],
            "take_form": TakeForm(),
        },
        status=status,
    )


def _on_call_row(schedule: OnCallSchedule, now, user) -> dict:
    current = who_is_on_call(schedule, now)
    person = current.current.person if current.current else None
    return {
        "schedule": schedule,
        "who": current.name(person) if person else None,
        "mine": person == user.get_username(),
        "until": current.current.end if current.current else None,
    }


@login_required
def oncall_requests(request: HttpRequest) -> HttpResponse:
    """Requests to and from me, a form to ask for cover, and "take the shift now"."""
    return _page(request)


@action_view("schedule.request_cover")
def cover_request_new(request: HttpRequest) -> HttpResponse:
    form = CoverRequestForm(request.POST, user=request.user, schedules=schedules_of(request.user))
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.cover_request(
                actor=request.user,
                schedule=data["schedule"],
                to_person=data["to_person"],
                start=data["start"],
                end=data["end"],
                reason=data["reason"],
                swap_start=data["swap_start"],
                swap_end=data["swap_end"],
            )
        except ValidationError as error:
            attach_errors(form, error)
        else:
            messages.success(request, f"Asked {data['to_person']} to cover.")
            return redirect("oncall_requests")
    return _page(request, form=form, status=400)


def _answer(call, done: str):
    def view(request: HttpRequest, pk: int) -> HttpResponse:
        cover = get_object_or_404(OnCallOverrideRequest, pk=pk)
        try:
            call(actor=request.user, request=cover)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, done)
        return redirect("oncall_requests")

    return view


cover_accept = action_view("schedule.accept_cover")(
    _answer(services.cover_accept, "Accepted: you are on call for that interval.")
)
cover_decline = action_view("schedule.decline_cover")(_answer(services.cover_decline, "Declined."))
cover_cancel = action_view("schedule.cancel_cover")(
    _answer(services.cover_cancel, "Request cancelled.")
)
cover_actions = action_routes(
    {"accept": cover_accept, "decline": cover_decline, "cancel": cover_cancel}
)


@action_view("schedule.take_shift")
def shift_take(request: HttpRequest, pk: int) -> HttpResponse:
    schedule = get_object_or_404(OnCallSchedule, pk=pk)
    form = TakeForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(m for ms in form.errors.values() for m in ms))
        return redirect("oncall_requests")
    try:
        row = services.shift_take(
            actor=request.user, schedule=schedule, hours=form.cleaned_data["hours"]
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        until = timezone.localtime(row.end).strftime("%Y-%m-%d %H:%M %Z")
        messages.success(request, f"You are on call on {schedule.name} until {until}.")
    return redirect("oncall_requests")
