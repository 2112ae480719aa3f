"""Weekly report emails (seed 004) through the outbox: a service run by Celery beat.

Beat runs `send_weekly_reports` (escalations/tasks.py, registered under its old
name notifications.tasks.send_weekly_reports) every 15 minutes. Each active subscriber whose
Monday morning (WEEKLY_REPORT_HOUR, in the subscription's time zone) has come
gets last week's report, once per subscriber and ISO week: the dedup key
`weekly_report:<user>:<week>` is unique in the outbox, so running twice, or in
two workers at once, queues one message. A subscriber whose Monday passed while
beat was down gets it at the next run that week; one who subscribes after the
Monday morning gets the first report the Monday after.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from escalations.analytics.reports import week_label, week_start_of, weekly_report
from escalations.policies import reach
from notifications.models import Notification, ReportSubscription
from notifications.rendering import render_message
from notifications.services import notification_enqueue

KIND = "weekly_report"


def report_dedup_key(user_id: int, monday) -> str:
    return f"{KIND}:{user_id}:{week_label(monday)}"


def report_week_due(now: datetime, tz) -> tuple[date, datetime] | None:
    """(Monday of last week, this Monday's sending time) once this week's Monday
    morning has come in `tz`; None before it: last week's report is not due yet."""
    local = now.astimezone(tz)
    this_monday = week_start_of(local.date())
    send_from = datetime.combine(this_monday, time(settings.WEEKLY_REPORT_HOUR), tzinfo=tz)
    if local < send_from:
        return None
    return this_monday - timedelta(days=7), send_from


def weekly_report_send(*, subscription: ReportSubscription, now: datetime | None = None):
    """Queue one subscriber's report for the week now due; None if it was queued before."""
    now = now or timezone.now()
    user = subscription.user
    tz = ZoneInfo(str(subscription.zone))
    due = report_week_due(now, tz)
    if due is None:
        return None
    monday, send_from = due
    if subscription.created_at > send_from:
        return None  # subscribed after this Monday's sending time: from next week on
    key = report_dedup_key(user.pk, monday)
    if not user.email or Notification.objects.filter(dedup_key=key).exists():
        return None
    with timezone.override(tz):
        report = weekly_report(
            user=user,
            monday=monday,
            tz=tz,
            now=now,
            site_url=settings.SITE_URL,
            with_queues=True,
        )
        report_url = settings.SITE_URL + reverse("weekly_report_week", args=[report["week"]])
        subject, text, html = render_message(
            KIND, {"report": report, "report_url": report_url, "subject_line": ""}
        )
    recipient = reach.person(user)
    with transaction.atomic():
        return notification_enqueue(
            kind=KIND,
            channel="email",
            recipient=user.email,
            recipient_user=user,
            dedup_key=key,
            subject=subject,
            text=text,
            html=html,
            not_before=recipient.not_before("P3", now),
            now=now,
        )


def weekly_reports_send(*, now: datetime | None = None) -> int:
    """Every active subscriber whose report is due and not yet queued; returns how many."""
    now = now or timezone.now()
    queued = 0
    subscriptions = ReportSubscription.objects.filter(
        is_active=True, user__is_active=True
    ).select_related("user")
    for subscription in subscriptions:
        if weekly_report_send(subscription=subscription, now=now) is not None:
            queued += 1
    return queued
