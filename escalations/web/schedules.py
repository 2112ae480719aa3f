"""On-call pages (issue 18, the people's side): every schedule with who is on call and its
coverage gaps, one schedule's final shifts, "my shifts", and the signed iCal feeds.

Reading schedules needs only a sign-in (as the API); changing them happens in the admin,
linked for those whose rule (`schedule.*` in incidents.permissions) allows it. The feeds are
fetched by calendar apps without a session: their signed token is the credential, and a
bad one is a 404 like a missing page."""

from __future__ import annotations

from datetime import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST, require_safe

from escalations.models import OnCallSchedule
from escalations.schedules import feeds, services
from escalations.schedules.selectors import COVERAGE_DAYS
from escalations.schedules.shifts import (
    MY_SHIFTS_DAYS,
    my_shifts,
    schedule_summaries,
    schedule_summary,
)
from incidents.permissions import allowed
from portal.links import site_link


def _manager_links(user) -> dict[str, bool]:
    """Admin links only for those the admin (staff) and the rule both let in."""
    staff = user.is_staff
    return {
        "may_edit": staff and allowed(user, "schedule.update"),
        "may_override": staff and allowed(user, "schedule.add_override"),
        "may_create": staff and allowed(user, "schedule.create"),
    }


def _zone_context() -> dict[str, str]:
    return {"reader_zone": timezone.get_current_timezone_name()}


@login_required
@require_safe
def schedule_list(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    summaries = schedule_summaries(OnCallSchedule.objects.select_related("team"), now=now)
    return render(
        request,
        "escalations/schedules.html",
        {
            "summaries": summaries,
            "now": now,
            "days": COVERAGE_DAYS,
            "with_gaps": [summary for summary in summaries if summary.gaps],
            **_manager_links(request.user),
            **_zone_context(),
        },
    )


@login_required
@require_safe
def schedule_detail(request: HttpRequest, pk: int) -> HttpResponse:
    schedule = get_object_or_404(OnCallSchedule.objects.select_related("team"), pk=pk)
    now = timezone.now()
    summary = schedule_summary(schedule, now=now)
    token = feeds.schedule_feed_token(schedule, request.user)
    return render(
        request,
        "escalations/schedule_detail.html",
        {
            "schedule": schedule,
            "summary": summary,
            "now": now,
            "days": COVERAGE_DAYS,
            "feed_url": site_link("schedule_feed", token),
            "overrides_url": reverse("admin:escalations_oncalloverride_changelist")
            + f"?schedule__id__exact={schedule.pk}",
            **_manager_links(request.user),
            **_zone_context(),
            # Members ask for cover and take the shift (escalations.web.oncall).
            "is_member": schedule.has_member(request.user),
        },
    )


def _month_start(now: datetime) -> datetime:
    """Midnight on the first of this month in the reader's zone (the active one)."""
    zone = timezone.get_current_timezone()
    local = timezone.localtime(now, zone)
    return timezone.make_aware(datetime(local.year, local.month, 1), zone)


@login_required
@require_safe
def my_shifts_page(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    mine = my_shifts(request.user.get_username(), now=now, month_start=_month_start(now))
    return render(
        request,
        "escalations/my_shifts.html",
        {
            "mine": mine,
            "now": now,
            "days": MY_SHIFTS_DAYS,
            "feed_url": site_link("person_feed", feeds.person_feed_token(request.user)),
            **_zone_context(),
        },
    )


@login_required
@require_POST
def feed_links_reset(request: HttpRequest) -> HttpResponse:
    """A link shared by mistake: every calendar link shown to this person stops working."""
    services.feed_links_reset(actor=request.user)
    messages.success(
        request,
        "Your calendar links were reset: the old ones no longer work. "
        "Subscribe again with the new link below.",
    )
    target = request.POST.get("next", "")
    if not target.startswith("/") or not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = reverse("my_shifts")
    return HttpResponseRedirect(target)


def _calendar_response(body: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    # The URL is a credential: keep it out of shared caches and search engines.
    response["Cache-Control"] = "private, max-age=300"
    response["X-Robots-Tag"] = "noindex"
    return response


@require_safe
def person_feed(request: HttpRequest, token: str) -> HttpResponse:
    person = feeds.person_for_token(token)
    if person is None:
        raise Http404("No such calendar.")
    return _calendar_response(feeds.person_feed(person, now=timezone.now()), "my-shifts.ics")


@require_safe
def schedule_feed(request: HttpRequest, token: str) -> HttpResponse:
    schedule = feeds.schedule_for_token(token)
    if schedule is None:
        raise Http404("No such calendar.")
    return _calendar_response(
        feeds.schedule_feed(schedule, now=timezone.now()), f"schedule-{schedule.pk}.ics"
    )
