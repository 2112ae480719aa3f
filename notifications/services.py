"""The outbox: deciding to notify (in the caller's transaction) and delivering.

`notification_enqueue` writes a row in the transaction that decided it; after
commit a worker is kicked to deliver it. Nothing is sent before that commit,
and if the broker loses the kick, beat's `deliver_due` finds the row anyway.
Delivery claims rows (SKIP LOCKED + a status flip, a claim token and a short
lease) and re-checks the claim right before each send, so two workers never send
the same one; the unique dedup key makes deciding twice harmless.
"""

from __future__ import annotations

import itertools
import logging
import os
import secrets
import threading
import time
import uuid
import weakref
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import lru_cache
from urllib.parse import urlsplit

from celery import current_app
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Q
from django.utils import timezone
from django.utils.html import escape

from notifications import transports
from notifications.models import CUSTOMER_KINDS, Channel, DeliverySettings, Notification, Status
from notifications.rendering import render_bodies
from portal.bulk import append_rows_ignoring_duplicates
from portal.db import asynchronous_commit

log = logging.getLogger(__name__)


# This thread's pending kick: a weak reference to the callback on_commit holds.
_pending = threading.local()
# notifications.tasks.deliver_due, the worker side of the outbox.
DELIVERY_TASK = "notifications.tasks.deliver_due"


def kick_after_commit() -> None:
    """Ask a worker to deliver once this transaction commits (once per transaction).

    on_commit keeps a callback until it runs it (at commit) or drops it (when the
    transaction, or the savepoint it was registered in, rolls back). A weak
    reference to the kick registered last says which: still alive and not run,
    this transaction kicks already; gone or run, this one needs its own.
    """
    pending = getattr(_pending, "kick", None)
    if pending is not None and pending() is not None:
        return

    def _kick() -> None:
        _pending.kick = None  # ran: a later transaction asks for its own
        # By name: the task module imports this one, not the other way round.
        current_app.send_task(DELIVERY_TASK)

    _pending.kick = weakref.ref(_kick)
    # robust: a broker that is down must not turn a committed change into an
    # error for the user; the beat drain delivers the row a little later.
    transaction.on_commit(_kick, robust=True)


def with_message_id(channel: str, headers: dict) -> dict:
    """Emails get their Message-ID when queued: the same on every retry, and known
    before sending, so a customer's reply can be matched to its incident."""
    if channel != Channel.EMAIL:
        return headers
    return headers_with_message_id(headers)()


def headers_with_message_id(headers: dict) -> Callable[[], dict]:
    """with_message_id for many emails with the same `headers`: each call of the
    returned function gives one email's own copy, with a new Message-ID unless
    `headers` names one (then that one, as with_message_id keeps it)."""
    if any(k.lower() == "message-id" for k in headers):
        return lambda: dict(headers)
    domain = _domain(settings.SITE_URL)
    return lambda: {**headers, "Message-ID": new_message_id(domain)}


class _MessageIds:
    """Message-IDs of email.utils.make_msgid's shape, <time.pid.random@domain>, made
    for a third of its cost: make_msgid reads the clock, the pid and 64 random bits for
    each id, and a storm's outbox rows each need one. Here a process draws its random
    part once (and again in a forked child) and appends a count: unique within the
    process by the count, across processes and machines by the random part."""

    def __init__(self) -> None:
        self._start()
        os.register_at_fork(after_in_child=self._start)

    def _start(self) -> None:
        # Fixed width: the count appended to it never makes another process's id.
        self._head = f"{int(time.time() * 100)}.{os.getpid()}.{secrets.randbits(64):020d}"
        self._count = itertools.count()

    def __call__(self, domain: str) -> str:
        return f"<{self._head}{next(self._count)}@{domain}>"


new_message_id = _MessageIds()


@lru_cache(maxsize=8)
def _domain(site_url: str) -> str:
    """The host of SITE_URL, for Message-IDs (split once, not for every email)."""
    host = urlsplit(site_url).hostname or "localhost"
    return f"[{host}]" if ":" in host else host  # an IPv6 address: a domain literal


def notification_enqueue(
    *,
    kind: str,
    channel: str,
    recipient: str,
    dedup_key: str,
    subject: str = "",
    text: str = "",
    html: str = "",
    payload: dict | None = None,
    headers: dict | None = None,
    incident=None,
    recipient_user=None,
    urgent: bool = False,
    not_before: datetime | None = None,
    now: datetime | None = None,
) -> Notification | None:
    """Queue one message; None if this dedup key was queued before."""
    now = now or timezone.now()
    headers = with_message_id(channel, headers or {})
    row = Notification(
        kind=kind,
        channel=channel,
        recipient=recipient,
        dedup_key=dedup_key[:255],
        subject=subject[:255],
        body_text=text,
        body_html=html,
        payload=payload or {},
        headers=headers,
        message_id=headers.get("Message-ID", ""),
        incident=incident,
        recipient_user=recipient_user,
        urgent=urgent,
        next_attempt_at=max(now, not_before or now),
    )
    try:
        with transaction.atomic():
            row.save(force_insert=True)
    except IntegrityError:
        if Notification.objects.filter(dedup_key=row.dedup_key).exists():
            return None
        raise
    kick_after_commit()
    return row


def notifications_enqueue_many(rows: list[Notification]) -> int:
    """Bulk form for sweeps: rows whose dedup key exists already are skipped.
    Returns how many were offered."""
    if not rows:
        return 0
    append_rows_ignoring_duplicates(Notification, rows)
    kick_after_commit()
    return len(rows)


# --- delivery --------------------------------------------------------------------------------


def _message(row: Notification) -> transports.Message:
    return transports.Message(
        channel=row.channel,
        recipient=row.recipient,
        subject=row.subject,
        text=row.body_text,
        html=row.body_html,
        payload=row.payload,
        headers=row.headers,
        # PagerDuty's own dedup key is the incident reference (in the payload).
        dedup_key=row.payload.get("dedup_key") or row.dedup_key,
        # Customers' answers go to the inbound address, where they are matched back.
        reply_to=settings.EMAIL_REPLY_TO
        if row.channel == Channel.EMAIL and row.kind in CUSTOMER_KINDS
        else "",
    )


# deliver() of a row whose claim lapsed before its send: another worker has it.
CLAIM_LOST = "lost"


def _claim_lease() -> timedelta:
    return timedelta(seconds=settings.NOTIFICATION_CLAIM_LEASE)


def _send_lease() -> timedelta:
    return timedelta(seconds=settings.NOTIFICATION_SEND_LEASE)


def claim_due(*, now: datetime, limit: int) -> list[Notification]:
    """Take up to `limit` due rows for this worker: pending -> sending, under one
    claim token and a short lease that the worker renews as it goes."""
    token = uuid.uuid4().hex
    with transaction.atomic():
        ids = list(
            Notification.objects.filter(status=Status.PENDING, next_attempt_at__lte=now)
            .order_by("next_attempt_at", "id")
            .select_for_update(skip_locked=True)
            .values_list("pk", flat=True)[:limit]
        )
        if not ids:
            return []
        Notification.objects.filter(pk__in=ids, status=Status.PENDING).update(
            status=Status.SENDING,
            claimed_at=now,
            claim_token=token,
            lease_until=now + _claim_lease(),
        )
    claimed = Notification.objects.filter(pk__in=ids, status=Status.SENDING, claim_token=token)
    return sorted(claimed, key=_send_order)


def _send_order(row: Notification):
    """Urgent first (a page never waits behind a slow email), then oldest due."""
    return (not row.urgent, row.next_attempt_at, row.pk)


def _take(row: Notification, now: datetime) -> bool:
    """Right before a send: check that this worker's claim still holds (same token,
    lease not lapsed) and extend it over the send, in one conditional UPDATE. False:
    the claim lapsed and the row was (or may be) released to another worker."""
    taken = Notification.objects.filter(
        pk=row.pk, status=Status.SENDING, claim_token=row.claim_token, lease_until__gt=now
    ).update(lease_until=now + _send_lease(), attempts=F("attempts") + 1)
    if taken:
        row.attempts += 1
    return bool(taken)


def _renew(ids: list[int], token: str, now: datetime) -> None:
    """Between sends, once a third of the lease is used: the rows still waiting in
    this worker's batch stay claimed for another short lease (a lapsed one is not
    revived)."""
    Notification.objects.filter(
        pk__in=ids, status=Status.SENDING, claim_token=token, lease_until__gt=now
    ).update(lease_until=now + _claim_lease())


def _finish(row: Notification, **fields) -> int:
    """Record an outcome in one statement; only the claim that took the row may
    close it. What was sent (rendered bodies) is stored with it."""
    fields.update(getattr(row, "rendered_fields", {}))
    fields.setdefault("lease_until", None)  # whatever the outcome, the claim ends here
    return Notification.objects.filter(
        pk=row.pk, status=Status.SENDING, claim_token=row.claim_token
    ).update(**fields)


def _folded_with(leader: Notification, now: datetime) -> list[Notification]:
    """The rows folded into `leader` (stored before it is sent) that this worker
    still holds; their claims are extended over the leader's send."""
    held = Notification.objects.filter(
        folded_into=leader.pk,
        status=Status.SENDING,
        claim_token=leader.claim_token,
        lease_until__gt=now,
    )
    with transaction.atomic():
        rows = list(held.select_for_update().order_by("created_at", "pk"))
        held.filter(pk__in=[r.pk for r in rows]).update(lease_until=now + _send_lease())
    return rows


def _unfold(leader: Notification, *, next_attempt_at: datetime) -> None:
    """The leader did not go: what was folded into it waits to be sent (or folded) again."""
    Notification.objects.filter(
        folded_into=leader.pk, status=Status.SENDING, claim_token=leader.claim_token
    ).update(
        status=Status.PENDING,
        folded_into=None,
        claim_token="",
        lease_until=None,
        next_attempt_at=next_attempt_at,
    )


def deliver(row: Notification, *, now: datetime | None = None) -> str:
    """Send one claimed row and record the outcome; returns the new status, or
    CLAIM_LOST (nothing sent) when its claim lapsed before the send."""
    now = timezone.now() if now is None else now
    if not _take(row, now):
        if getattr(row, "leads_fold", False):
            _unfold(row, next_attempt_at=now)
        log.warning("notification %s: claim lapsed before its send; left to its new worker", row.pk)
        return CLAIM_LOST
    rendered = {}
    if row.context and not row.body_text:
        rendered = render_bodies(row)
    folded = _folded_with(row, now) if getattr(row, "leads_fold", False) else []
    if folded:
        bodies = {
            "body_text": row.body_text,
            **({"body_html": row.body_html} if row.body_html else {}),
            **rendered,
        }
        rendered.update(_with_folded(bodies, folded))
    if rendered:
        for name, value in rendered.items():
            setattr(row, name, value)
        row.rendered_fields = rendered  # stored with the outcome: what was sent stays
    try:
        # Every channel, email included, is bounded by NOTIFICATION_TIMEOUT: the
        # send lease taken above outlasts the slowest send it allows.
        sent = transports.send(_message(row), timeout=settings.NOTIFICATION_TIMEOUT)
    except transports.DeliveryError as error:
        message = str(error)[:2000]
        if error.transient and row.attempts < settings.NOTIFICATION_MAX_ATTEMPTS:
            delay = transports.retry_delay(
                row.attempts, base=settings.NOTIFICATION_RETRY_BASE, retry_after=error.retry_after
            )
            retry_at = now + timedelta(seconds=delay)
            with transaction.atomic():
                _finish(row, status=Status.PENDING, last_error=message, next_attempt_at=retry_at)
                if folded:
                    _unfold(row, next_attempt_at=retry_at)
            log.warning(
                "notification %s: transient failure, retry in %.0fs: %s", row.pk, delay, message
            )
            return Status.PENDING
        with transaction.atomic():
            _finish(row, status=Status.FAILED, last_error=message)
            if folded:
                _unfold(row, next_attempt_at=now)
        log.error("notification %s failed after %s attempt(s): %s", row.pk, row.attempts, message)
        return Status.FAILED
    # The folded rows are closed only with their leader's sent mark: a crash before
    # this commit leaves them claimed, and a later drain sends them.
    with transaction.atomic():
        marked = _finish(
            row,
            status=Status.SENT,
            sent_at=timezone.now(),
            provider_message_id=sent.provider_message_id[:255],
            last_error="",
        )
        if marked and folded:
            Notification.objects.filter(
                pk__in=[r.pk for r in folded], status=Status.SENDING, claim_token=row.claim_token
            ).update(
                status=Status.SUPPRESSED, suppressed_reason=f"folded into notification {row.pk}"
            )
    return Status.SENT


def _with_folded(rendered: dict, folded: list[Notification]) -> dict:
    """The leader of a fold lists what came with it."""
    lines = [f"- {row.subject}" for row in folded]
    extra = {
        "body_text": rendered.get("body_text", "")
        + (f"\n\nAlso for you in the same minutes ({len(folded)}):\n" + "\n".join(lines))
    }
    if "body_html" in rendered:
        items = "".join(f"<li>{escape(row.subject)}</li>" for row in folded)
        block = f"<h3>Also for you in the same minutes ({len(folded)})</h3><ul>{items}</ul>"
        html = rendered["body_html"]
        extra["body_html"] = (
            html.replace("</body>", block + "</body>") if "</body>" in html else html + block
        )
    return extra


def release_stale_claims(*, now: datetime) -> int:
    """Rows whose claim lease lapsed (their worker died, or is too slow to reach
    them) go back to pending, folded ones freed from their unsent leader.

    A worker checks its claim right before each send, so a released row is not
    sent by its old worker; and a row marked sent is never touched again. A worker
    that died after the provider accepted a message and before marking it sent
    can cause one repeat; dedup keys (PagerDuty, Message-ID) let the provider or
    the reader see it as the same message.
    """
    stale = Notification.objects.filter(status=Status.SENDING).filter(
        Q(lease_until__lt=now) | Q(lease_until__isnull=True)
    )
    return stale.update(
        status=Status.PENDING,
        next_attempt_at=now,
        claim_token="",
        lease_until=None,
        folded_into=None,
        last_error="worker lost during delivery (claim lapsed)",
    )


def _apply_limits(rows: list[Notification], now: datetime) -> list[Notification]:
    """Fold and cap a claimed batch; returns the rows still to send.

    Non-urgent email and chat to one recipient within the fold window go as one
    message listing the others: the fold is stored (folded rows point at their
    leader and stay claimed) before the leader is sent, and they become
    "folded into N" with its sent mark. Beyond the daily cap, non-urgent messages
    are suppressed with the reason. Urgent messages and pages always go.
    """
    config = DeliverySettings.current()
    limited = [r for r in rows if not r.urgent and r.channel in (Channel.EMAIL, Channel.SLACK)]
    if not limited:
        return rows
    window = timedelta(minutes=config.fold_window_minutes)
    sent_today = dict(
        Notification.objects.filter(
            status=Status.SENT,
            sent_at__gte=now - timedelta(days=1),
            recipient__in={r.recipient for r in limited},
        )
        .values_list("recipient")
        .annotate(count=Count("id"))
        .values_list("recipient", "count")
    )
    to_send = [r for r in rows if r not in limited]
    groups: dict[tuple[str, str], list[Notification]] = {}
    for row in sorted(limited, key=lambda r: (r.created_at, r.pk)):
        groups.setdefault((row.channel, row.recipient.lower()), []).append(row)
    for group in groups.values():
        leader, folded = None, []
        for row in group:
            if leader is not None and window and row.created_at - leader.created_at <= window:
                folded.append(row)
                continue
            if leader is not None:
                _finish_leader(leader, folded, sent_today, config, to_send)
            leader, folded = row, []
        _finish_leader(leader, folded, sent_today, config, to_send)
    return sorted(to_send, key=_send_order)


def _finish_leader(leader, folded, sent_today, config, to_send) -> None:
    count = sent_today.get(leader.recipient, 0)
    if config.daily_cap and count >= config.daily_cap:
        for row in [leader, *folded]:
            _finish(
                row,
                status=Status.SUPPRESSED,
                suppressed_reason=f"daily cap of {config.daily_cap} reached",
            )
        return
    sent_today[leader.recipient] = count + 1
    if folded:
        Notification.objects.filter(
            pk__in=[r.pk for r in folded], status=Status.SENDING, claim_token=leader.claim_token
        ).update(folded_into=leader)
        leader.leads_fold = True  # this claim only: a released fold is folded afresh
    to_send.append(leader)


def deliver_due(*, limit: int = 500, batch: int = 100, now: datetime | None = None) -> dict:
    """Deliver what is due, in claimed batches; what the beat drain and kicks run."""
    counts = {Status.SENT: 0, Status.PENDING: 0, Status.FAILED: 0, CLAIM_LOST: 0}
    released = release_stale_claims(now=now or timezone.now())
    done = 0
    # A worker that dies right after a commit still leaves the outcome mark (it
    # is in the server's WAL buffers); only a crash of PostgreSQL itself could
    # lose one, which means a re-send, never a lost message.
    with asynchronous_commit():
        while done < limit:
            rows = claim_due(now=now or timezone.now(), limit=min(batch, limit - done))
            if not rows:
                break
            token, ids = rows[0].claim_token, [r.pk for r in rows]
            renewed = now or timezone.now()
            for row in _apply_limits(rows, now or timezone.now()):
                counts[deliver(row, now=now)] += 1
                current = now or timezone.now()
                if current - renewed >= _claim_lease() / 3:  # a third of the lease used
                    _renew(ids, token, current)
                    renewed = current
            done += len(rows)
    return {
        "sent": counts[Status.SENT],
        "retrying": counts[Status.PENDING],
        "failed": counts[Status.FAILED],
        "released": released,
        "lost_claims": counts[CLAIM_LOST],
    }


def notification_requeue(*, notification: Notification, note: str) -> Notification:
    """Put a failed notification back in the queue, due now, with a fresh count of attempts.

    Who may do it is the domain's rule: `escalations.notices.outbox.notification_retry`.
    """
    Notification.objects.filter(pk=notification.pk, status=Status.FAILED).update(
        status=Status.PENDING,
        next_attempt_at=timezone.now(),
        attempts=0,
        last_error=note,
    )
    kick_after_commit()
    notification.refresh_from_db()
    return notification


def notifications_suppress_pending(*, dedup_prefix: str, reason: str) -> int:
    """Withdraw the messages still waiting (held for working hours, or for a retry) whose
    dedup key starts with `dedup_prefix`, because what they say no longer holds; a row a
    worker has claimed already is left to it. Returns how many were suppressed."""
    if not dedup_prefix:
        raise ValueError("a dedup prefix is required")
    return Notification.objects.filter(
        status=Status.PENDING, dedup_key__startswith=dedup_prefix
    ).update(status=Status.SUPPRESSED, suppressed_reason=reason[:255])
