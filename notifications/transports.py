"""Delivery of one notification over one channel: email, Slack, PagerDuty or a webhook.

Each channel is a `Transport` class with a `kind` (the channel's name), registered in
`TRANSPORTS` (kind -> transport). The outbox worker calls `send(message)`, which hands
the message to its channel's transport. It returns `Sent` or raises a `DeliveryError`
whose `.transient` says whether trying again later can help, and whose `.retry_after`
carries the provider's Retry-After (seconds) when it gave one; `retry_delay()` turns an
attempt number into the wait before the next try. Nothing here touches the database.

Error messages name the channel and the status code or exception class and never
contain secrets: webhook URLs are cut to scheme and host, routing keys are left out,
and exceptions from `requests` (whose text contains the full URL) are not chained.
"""

from __future__ import annotations

import email.utils
import hashlib
import hmac
import json
import random
import smtplib
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar
from urllib.parse import urlsplit

import requests
from anymail.exceptions import (
    AnymailAPIError,
    AnymailError,
    AnymailInvalidAddress,
    AnymailRecipientsRefused,
    AnymailSerializationError,
    AnymailUnsupportedFeature,
)
from django.conf import settings
from django.core import mail
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.core.mail import EmailMultiAlternatives, make_msgid
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import validate_email
from django.utils.html import strip_tags

from notifications.rendering import slack_escape

__all__ = [
    "CHANNELS",
    "PAGERDUTY_SEVERITIES",
    "TRANSPORTS",
    "DeliveryError",
    "EmailTransport",
    "Message",
    "PagerDutyTransport",
    "PermanentError",
    "Sent",
    "SlackTransport",
    "TransientError",
    "Transport",
    "WebhookTransport",
    "register_transport",
    "retry_delay",
    "send",
    "sign_webhook",
    "verify_webhook_signature",
]

PAGERDUTY_SEVERITIES = ("critical", "error", "warning", "info")
PAGERDUTY_ACTIONS = ("trigger", "acknowledge", "resolve")
DEFAULT_TIMEOUT = 10.0
DEFAULT_PAGERDUTY_EVENTS_URL = "https://events.pagerduty.com/v2/enqueue"
USER_AGENT = "escalation-portal-notifications/1"
_MAX_RESPONSE_BYTES = 64 * 1024  # enough for any status body; a huge answer is not read
_LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
# Headers EmailMultiAlternatives sets from its own arguments; in `headers` they would
# be duplicated or silently ignored.
_RESERVED_EMAIL_HEADERS = frozenset({"subject", "from", "to", "cc", "bcc", "reply-to", "sender"})


@dataclass(frozen=True)
class Message:
    channel: str  # "email" | "slack" | "pagerduty" | "webhook"
    # email address | Slack incoming-webhook URL | PagerDuty routing key | webhook URL
    recipient: str
    subject: str = ""
    text: str = ""
    html: str = ""
    # Slack blocks / PagerDuty event / webhook JSON body
    payload: Mapping[str, Any] = field(default_factory=dict)
    # extra email headers, e.g. Message-ID, In-Reply-To, References
    headers: Mapping[str, str] = field(default_factory=dict)
    dedup_key: str = ""  # idempotency: PagerDuty dedup_key, webhook X-Portal-Delivery header
    reply_to: str = ""


@dataclass(frozen=True)
class Sent:
    # ESP id (anymail), PagerDuty dedup_key, or for plain SMTP/locmem the Message-ID
    provider_message_id: str = ""
    # email only: the Message-ID header that went out (match replies' In-Reply-To on it)
    message_id: str = ""


class DeliveryError(Exception):
    """A delivery failed. `transient`: trying again later may succeed.

    `retry_after`: seconds the provider asked us to wait (Retry-After), else None.
    `status`: HTTP status or SMTP reply code when there was one, else None.
    """

    transient: bool = True

    def __init__(
        self,
        message: str,
        *,
        channel: str = "",
        status: int | None = None,
        retry_after: float | None = None,
    ):
        super().__init__(message)
        self.channel = channel
        self.status = status
        self.retry_after = retry_after

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""

    def __reduce__(self):  # picklable with the keyword-only attributes (Celery results)
        return (
            _rebuild_error,
            (type(self), str(self), self.channel, self.status, self.retry_after),
        )


def _rebuild_error(cls, message, channel, status, retry_after):
    return cls(message, channel=channel, status=status, retry_after=retry_after)


class TransientError(DeliveryError):
    transient = True


class PermanentError(DeliveryError):
    transient = False


# --- Transports ----------------------------------------------------------------------------


class Transport:
    """Delivery over one channel. A subclass names its channel in `kind` and
    implements `send`, returning `Sent` or raising TransientError/PermanentError."""

    kind: ClassVar[str] = ""

    def send(self, message: Message, timeout: float | None) -> Sent:
        raise NotImplementedError


# Channel (Message.channel, Notification.channel) -> its transport.
TRANSPORTS: dict[str, Transport] = {}


def register_transport[T: type[Transport]](cls: T) -> T:
    """Class decorator: `cls` delivers the messages of channel `cls.kind`."""
    if not cls.kind:
        raise ValueError(f"{cls.__name__} names no kind")
    TRANSPORTS[cls.kind] = cls()
    return cls


# --- Entry points --------------------------------------------------------------------------


def send(message: Message, *, timeout: float | None = None) -> Sent:
    """Deliver `message` over its channel. Raises TransientError or PermanentError."""
    if timeout is not None and not timeout > 0:
        raise ValueError("timeout must be a positive number of seconds")
    transport = TRANSPORTS.get(message.channel)
    if transport is None:
        raise PermanentError(
            f"unknown channel {str(message.channel)[:40]!r}"
            f" (expected one of {', '.join(TRANSPORTS)})",
            channel=str(message.channel)[:40],
        )
    return transport.send(message, timeout)


def retry_delay(
    attempt: int,
    *,
    base: float = 30,
    cap: float = 3600,
    retry_after: float | None = None,
    rng: random.Random | None = None,
) -> float:
    """Seconds to wait before attempt `attempt + 1`, `attempt` counting from 1.

    Full jitter: uniform(0, min(cap, base * 2 ** (attempt - 1))); never less than the
    provider's `retry_after` (itself capped at `cap`).
    """
    attempt = max(1, int(attempt))
    ceiling = min(cap, base * 2 ** min(attempt - 1, 64))  # min(): no float overflow
    delay = (rng or _rng).uniform(0, max(0.0, ceiling))
    if retry_after is not None:
        delay = max(delay, min(cap, max(0.0, float(retry_after))))
    return float(delay)


_rng = random.Random()


# --- Webhook signatures --------------------------------------------------------------------


def sign_webhook(body: bytes, timestamp: int, secret: str) -> str:
    """The X-Portal-Signature value: "sha256=" + hex HMAC-SHA256 of b"<timestamp>.<body>"."""
    if isinstance(body, str):
        body = body.encode("utf-8")
    signed = str(int(timestamp)).encode("ascii") + b"." + body
    digest = hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify_webhook_signature(
    body: bytes | str,
    timestamp: int | str,
    signature: str,
    secret: str,
    *,
    tolerance: float = 300,
    now: float | None = None,
) -> bool:
    """True if `signature` (the X-Portal-Signature header) signs `body` at `timestamp`
    with `secret`, and `timestamp` is within `tolerance` seconds of `now`."""
    try:
        stamp = int(str(timestamp).strip())
    except (TypeError, ValueError):
        return False
    current = time.time() if now is None else now
    if abs(current - stamp) > tolerance:
        return False
    if not isinstance(signature, str):
        return False
    expected = sign_webhook(
        body if isinstance(body, bytes) else body.encode("utf-8"), stamp, secret
    )
    return hmac.compare_digest(expected.encode("ascii"), signature.strip().encode("utf-8"))


# --- Email ---------------------------------------------------------------------------------


@register_transport
class EmailTransport(Transport):
    """Email through the configured mailer (SMTP or an ESP through anymail)."""

    kind = "email"

    def send(self, message: Message, timeout: float | None) -> Sent:
        channel = self.kind
        recipient = _checked_address(message.recipient, "recipient")
        reply_to = [_checked_address(message.reply_to, "reply_to")] if message.reply_to else []
        headers = _checked_headers(message.headers)
        message_id = next((v for k, v in headers.items() if k.lower() == "message-id"), "")
        if not message_id:
            message_id = make_msgid(domain=_from_domain())
            headers["Message-ID"] = message_id
        # A subject is one line: collapse the newlines an incident title may contain.
        subject = " ".join(message.subject.split())
        text = message.text or (strip_tags(message.html) if message.html else "")

        try:
            outgoing = EmailMultiAlternatives(
                subject,
                text,
                settings.DEFAULT_FROM_EMAIL,
                [recipient],
                headers=headers,
                reply_to=reply_to,
            )
            if message.html:
                outgoing.attach_alternative(message.html, "text/html")
        except (TypeError, ValueError) as exc:
            raise PermanentError(
                f"email: message not built ({type(exc).__name__})", channel=channel
            ) from exc

        try:
            mailer = _default_mailer()
        except ImproperlyConfigured as exc:
            # Fixed by an operator, not by the message: keep it for a later try.
            raise TransientError(
                f"email: mailer misconfigured ({type(exc).__name__}: {_short(str(exc))})",
                channel=channel,
            ) from exc
        _apply_timeout(mailer, timeout)

        try:
            count = mailer.send_messages([outgoing])
        except Exception as exc:
            raise _email_error(exc) from exc
        if not count:
            raise TransientError(
                "email: the mail backend sent nothing (0 messages)", channel=channel
            )

        provider_id = message_id
        status = getattr(outgoing, "anymail_status", None)
        esp_id = getattr(status, "message_id", None) if status is not None else None
        if isinstance(esp_id, (set, frozenset)):
            esp_id = next(iter(esp_id)) if len(esp_id) == 1 else None
        if esp_id is not None:
            provider_id = str(esp_id)
        return Sent(provider_message_id=provider_id, message_id=message_id)


def _default_mailer():
    mailers = getattr(mail, "mailers", None)
    if mailers is not None:  # Django 6.1+: settings.MAILERS["default"]
        return mailers.default
    return mail.get_connection(fail_silently=False)  # pragma: no cover (Django < 6.1)


def _apply_timeout(mailer, timeout: float | None) -> None:
    """The mailer waits at most `timeout` (default NOTIFICATION_TIMEOUT), and never longer
    than its own configured timeout: SMTP's and anymail's HTTP backends (whose default is
    30 s) both keep theirs in `.timeout`. The outbox's send lease counts on this bound."""
    if not hasattr(mailer, "timeout"):
        return
    bound = _timeout(timeout)
    mailer.timeout = min(mailer.timeout, bound) if mailer.timeout else bound


def _from_domain() -> str:
    address = email.utils.parseaddr(str(settings.DEFAULT_FROM_EMAIL))[1]
    domain = address.rpartition("@")[2]
    return domain or "localhost"


def _checked_address(value: str, what: str) -> str:
    """Reject what cannot be a single deliverable address, before anything is sent."""
    if not isinstance(value, str) or not value.strip():
        raise PermanentError(f"email: {what} address is empty", channel="email")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise PermanentError(
            f"email: {what} address contains control characters (header injection?)",
            channel="email",
        )
    value = value.strip()
    _name, address = email.utils.parseaddr(value)
    if not address or "@" not in address:
        raise PermanentError(f"email: {what} address is not an email address", channel="email")
    try:
        validate_email(address)
    except ValidationError:
        raise PermanentError(
            f"email: {what} address is not a valid email address", channel="email"
        ) from None
    return value


def _checked_headers(headers: Mapping[str, str]) -> dict[str, str]:
    checked: dict[str, str] = {}
    for name, value in headers.items():
        if (
            not isinstance(name, str)
            or not name
            or any(ord(ch) <= 32 or ord(ch) >= 127 or ch == ":" for ch in name)
        ):
            raise PermanentError(f"email: invalid header name {str(name)[:40]!r}", channel="email")
        if name.lower() in _RESERVED_EMAIL_HEADERS:
            raise PermanentError(
                f"email: header {name} is set from the message's own fields", channel="email"
            )
        value = str(value)
        if any(ch in value for ch in "\r\n\0"):
            raise PermanentError(
                f"email: header {name} contains a line break (header injection?)",
                channel="email",
            )
        checked[name] = value
    return checked


def _email_error(exc: BaseException) -> DeliveryError:
    kind = type(exc).__name__
    ch = "email"

    # anymail (ESP HTTP APIs)
    if isinstance(exc, (AnymailRecipientsRefused, AnymailInvalidAddress)):
        return PermanentError(f"email: recipient refused by the ESP ({kind})", channel=ch)
    if isinstance(exc, (AnymailUnsupportedFeature, AnymailSerializationError)):
        return PermanentError(f"email: the ESP cannot send this message ({kind})", channel=ch)
    if isinstance(exc, AnymailAPIError):
        status = getattr(exc, "status_code", None)
        esp = getattr(exc, "esp_name", None) or "ESP"
        if status is None:
            return TransientError(f"email: {esp} API unreachable ({_cause_name(exc)})", channel=ch)
        response = getattr(exc, "response", None)
        reason = _short(getattr(response, "reason", "") or "")
        retry_after = _parse_retry_after(getattr(response, "headers", None) or {})
        text = f"email: {esp} API answered {status}" + (f" {reason}" if reason else "")
        if 400 <= status < 500 and status not in (408, 429):
            return PermanentError(text, channel=ch, status=status)
        return TransientError(text, channel=ch, status=status, retry_after=retry_after)
    if isinstance(exc, AnymailError):
        return TransientError(f"email: anymail error ({kind})", channel=ch)

    # smtplib (Django's SMTP backend). SMTPException is an OSError: check it first.
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()] or [550]
        detail = "; ".join(
            f"{code} {_short(_decode(reply))}" for code, reply in exc.recipients.values()
        )
        cls = TransientError if all(400 <= c < 500 for c in codes) else PermanentError
        return cls(f"email: SMTP recipient refused: {detail}", channel=ch, status=max(codes))
    if isinstance(exc, smtplib.SMTPServerDisconnected) and isinstance(
        exc.__context__, TimeoutError
    ):  # smtplib reports a read timeout as a disconnection
        return TransientError(f"email: timed out ({kind})", channel=ch)
    if isinstance(exc, (smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError)):
        return TransientError(f"email: SMTP connection failed ({kind})", channel=ch)
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return PermanentError(f"email: SMTP server lacks a needed extension ({kind})", channel=ch)
    if isinstance(exc, smtplib.SMTPResponseException):
        code = exc.smtp_code
        text = f"email: SMTP {code} {_short(_decode(exc.smtp_error))} ({kind})"
        if 400 <= code < 500:
            return TransientError(text, channel=ch, status=code)
        return PermanentError(text, channel=ch, status=code)
    if isinstance(exc, smtplib.SMTPException):
        return TransientError(f"email: SMTP error ({kind})", channel=ch)

    if isinstance(exc, TimeoutError):  # socket.timeout is TimeoutError
        return TransientError(f"email: timed out ({kind})", channel=ch)
    if isinstance(exc, (ConnectionError, OSError)):
        return TransientError(f"email: network error ({kind})", channel=ch)
    if isinstance(exc, ValueError):  # e.g. Django's prep_address on an undeliverable address
        return PermanentError(f"email: message rejected before sending ({kind})", channel=ch)
    if isinstance(exc, ImproperlyConfigured):
        return TransientError(f"email: mailer misconfigured ({kind})", channel=ch)
    # Anything else comes from a third-party backend: report, and let the outbox retry.
    return TransientError(f"email: unexpected {kind} from the mail backend", channel=ch)


# --- HTTP channels -------------------------------------------------------------------------


@register_transport
class SlackTransport(Transport):
    """A Slack incoming webhook (HTTPS only)."""

    kind = "slack"

    def send(self, message: Message, timeout: float | None) -> Sent:
        url = _checked_url(message.recipient, "slack", https_only=True)
        payload = dict(message.payload)
        fallback = "\n".join(part for part in (message.subject, message.text) if part)
        blocks = payload.get("blocks")
        if not blocks:
            heading = f"*{slack_escape(message.subject)}*" if message.subject else ""
            section = "\n".join(part for part in (heading, message.text) if part)
            if not section:
                raise PermanentError(
                    "slack: nothing to send (no subject, text or blocks)", channel="slack"
                )
            blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": section[:3000]}}]
        body = {**payload, "text": payload.get("text") or fallback or " ", "blocks": blocks}
        response = _post("slack", url, _json_bytes("slack", body), {}, timeout)
        if 200 <= response.status < 300:  # Slack answers 200 "ok"
            return Sent("")
        raise _http_error("slack", response, detail=_short(response.text()))


@register_transport
class PagerDutyTransport(Transport):
    """A PagerDuty Events API v2 event, routed by the recipient (a routing key)."""

    kind = "pagerduty"

    def send(self, message: Message, timeout: float | None) -> Sent:
        ch = self.kind
        routing_key = message.recipient.strip() if isinstance(message.recipient, str) else ""
        if not routing_key or any(c.isspace() for c in routing_key):
            raise PermanentError("pagerduty: routing key is empty or malformed", channel=ch)
        data = dict(message.payload)
        action = data.get("event_action") or "trigger"
        if action not in PAGERDUTY_ACTIONS:
            raise PermanentError(
                f"pagerduty: unknown event_action {str(action)[:20]!r}", channel=ch
            )
        body: dict[str, Any] = {"routing_key": routing_key, "event_action": action}
        if message.dedup_key:
            body["dedup_key"] = message.dedup_key
        elif action != "trigger":
            raise PermanentError(f"pagerduty: {action} needs a dedup_key", channel=ch)
        if action == "trigger":
            severity = data.get("severity") or "critical"
            if severity not in PAGERDUTY_SEVERITIES:
                raise PermanentError(
                    f"pagerduty: severity must be one of {', '.join(PAGERDUTY_SEVERITIES)}",
                    channel=ch,
                )
            summary = data.get("summary") or message.subject or message.text
            if not summary:
                raise PermanentError("pagerduty: trigger needs a summary", channel=ch)
            event: dict[str, Any] = {
                "summary": str(summary)[:1024],  # PagerDuty's limit
                "source": data.get("source") or _default_source(),
                "severity": severity,
            }
            for key in ("timestamp", "component", "group", "class", "custom_details"):
                if data.get(key) not in (None, ""):
                    event[key] = data[key]
            body["payload"] = event
            for key in ("client", "client_url", "links", "images"):
                if data.get(key):
                    body[key] = data[key]

        url = getattr(settings, "PAGERDUTY_EVENTS_URL", DEFAULT_PAGERDUTY_EVENTS_URL)
        response = _post(ch, url, _json_bytes(ch, body), {}, timeout, secret=routing_key)
        answer = response.json()
        if 200 <= response.status < 300:  # PagerDuty answers 202
            key = answer.get("dedup_key") if isinstance(answer, dict) else None
            return Sent(str(key or message.dedup_key or ""))
        detail = ""
        if isinstance(answer, dict):
            errors = answer.get("errors")
            if isinstance(errors, list) and errors:
                detail = "; ".join(str(e) for e in errors)
            else:
                detail = str(answer.get("message") or "")
        raise _http_error(ch, response, detail=_short(detail.replace(routing_key, "<routing key>")))


@register_transport
class WebhookTransport(Transport):
    """A signed JSON POST to any HTTP(S) endpoint."""

    kind = "webhook"

    def send(self, message: Message, timeout: float | None) -> Sent:
        ch = self.kind
        url = _checked_url(message.recipient, ch, https_only=False)
        body = _json_bytes(ch, message.payload)
        timestamp = int(time.time())
        secret = getattr(settings, "WEBHOOK_SIGNING_SECRET", None) or settings.SECRET_KEY
        headers = {
            "X-Portal-Delivery": message.dedup_key or uuid.uuid4().hex,
            "X-Portal-Timestamp": str(timestamp),
            "X-Portal-Signature": sign_webhook(body, timestamp, secret),
        }
        response = _post(ch, url, body, headers, timeout)
        if 200 <= response.status < 300:
            return Sent("")
        raise _http_error(ch, response, detail=_short(response.text()))


@dataclass(frozen=True)
class _Response:
    status: int
    headers: Mapping[str, str]
    content: bytes

    def text(self) -> str:
        return self.content.decode("utf-8", "replace")

    def json(self) -> Any:
        try:
            return json.loads(self.content)
        except ValueError:
            return None


def _post(
    channel: str,
    url: str,
    body: bytes,
    headers: Mapping[str, str],
    timeout: float | None,
    *,
    secret: str = "",
) -> _Response:
    """POST JSON; network failures become TransientError without the URL in them
    (requests puts it in its messages, so its exception is not chained)."""
    seconds = _timeout(timeout)
    where = _mask_url(url)
    try:
        with requests.post(
            url,
            data=body,
            headers={
                "Content-Type": "application/json",
                "User-Agent": USER_AGENT,
                **headers,
            },
            timeout=(seconds, seconds),  # (connect, read)
            allow_redirects=False,  # a redirect would re-send the signature elsewhere
            stream=True,
        ) as response:
            content = _read_limited(response)
            return _Response(response.status_code, dict(response.headers), content)
    except requests.Timeout as exc:
        error: DeliveryError = TransientError(
            f"{channel}: timed out after {seconds:g}s ({type(exc).__name__}) at {where}",
            channel=channel,
        )
    except (requests.exceptions.InvalidURL, requests.exceptions.InvalidSchema) as exc:
        error = PermanentError(
            f"{channel}: invalid URL ({type(exc).__name__}) at {where}", channel=channel
        )
    except requests.RequestException as exc:
        error = TransientError(
            f"{channel}: connection failed ({type(exc).__name__}) at {where}", channel=channel
        )
    except OSError as exc:
        error = TransientError(
            f"{channel}: network error ({type(exc).__name__}) at {where}", channel=channel
        )
    if secret:
        error.args = (str(error).replace(secret, "<secret>"),)
    raise error from None


def _read_limited(response: requests.Response) -> bytes:
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_content(chunk_size=8192):
        chunks.append(chunk)
        size += len(chunk)
        if size >= _MAX_RESPONSE_BYTES:
            break
    return b"".join(chunks)[:_MAX_RESPONSE_BYTES]


def _http_error(channel: str, response: _Response, *, detail: str = "") -> DeliveryError:
    status = response.status
    retry_after = _parse_retry_after(response.headers)
    text = f"{channel}: HTTP {status}" + (f": {detail}" if detail else "")
    if status in (408, 429) or status >= 500:
        return TransientError(text, channel=channel, status=status, retry_after=retry_after)
    if 300 <= status < 400:
        text += " (redirects are not followed: fix the URL)"
    return PermanentError(text, channel=channel, status=status, retry_after=retry_after)


def _checked_url(url: str, channel: str, *, https_only: bool) -> str:
    if not isinstance(url, str) or not url or any(ord(c) <= 32 or ord(c) == 127 for c in url):
        raise PermanentError(f"{channel}: URL is empty or contains spaces", channel=channel)
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise PermanentError(f"{channel}: URL is malformed", channel=channel) from None
    allowed = "https" if https_only else "http or https"
    if parts.scheme not in ("http", "https") or (
        https_only and parts.scheme == "http" and host not in _LOCAL_HOSTS
    ):
        raise PermanentError(
            f"{channel}: only {allowed} URLs are accepted (got scheme {parts.scheme[:10]!r})",
            channel=channel,
        )
    if not host:
        raise PermanentError(f"{channel}: URL has no host", channel=channel)
    return url


# --- Helpers -------------------------------------------------------------------------------


def _timeout(timeout: float | None) -> float:
    if timeout is not None:
        return float(timeout)
    return float(getattr(settings, "NOTIFICATION_TIMEOUT", DEFAULT_TIMEOUT) or DEFAULT_TIMEOUT)


def _json_bytes(channel: str, data: Any) -> bytes:
    try:
        text = json.dumps(
            data,
            cls=DjangoJSONEncoder,  # datetimes, decimals, UUIDs
            separators=(",", ":"),
            sort_keys=True,
            ensure_ascii=False,
            allow_nan=False,
        )
    except (TypeError, ValueError) as exc:
        raise PermanentError(
            f"{channel}: payload is not JSON-serialisable ({type(exc).__name__})",
            channel=channel,
        ) from exc
    return text.encode("utf-8")


def _parse_retry_after(headers: Mapping[str, str]) -> float | None:
    """Retry-After as seconds: delta-seconds or an HTTP date. None when absent or bad."""
    value = None
    for name, val in headers.items():
        if name.lower() == "retry-after":
            value = str(val).strip()
            break
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - time.time())


def _mask_url(url: str) -> str:
    """scheme://host[:port]: the path of a Slack or webhook URL is a credential."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or "?"
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "<malformed URL>"
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme}://{host}{port}"


def _default_source() -> str:
    site = getattr(settings, "SITE_URL", "") or ""
    return urlsplit(site).hostname or "escalation-portal"


def _short(text: str, limit: int = 200) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _decode(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def _cause_name(exc: BaseException) -> str:
    cause = exc.__cause__ or exc.__context__
    return type(cause).__name__ if cause is not None else type(exc).__name__


# The channels there are transports for, in registration order.
CHANNELS = tuple(TRANSPORTS)
