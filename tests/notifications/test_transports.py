"""notifications.transports against local fakes: pytest-httpserver for Slack, PagerDuty
and webhooks, Django/anymail test mail backends and a raising stub for email."""

from __future__ import annotations

import hashlib
import hmac
import json
import pickle
import random
import smtplib
import socket
import threading
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
import requests
from anymail.exceptions import (
    AnymailInvalidAddress,
    AnymailRecipientsRefused,
    AnymailRequestsAPIError,
    AnymailUnsupportedFeature,
)
from django.core.mail.backends.base import BaseEmailBackend
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from notifications.transports import (
    DeliveryError,
    Message,
    PermanentError,
    Sent,
    TransientError,
    retry_delay,
    send,
    sign_webhook,
    verify_webhook_signature,
)

SLACK_PATH = "/services/T0001/B0002/s3cr3tSlackToken"
HOOK_PATH = "/hooks/portal/t0ken-in-path"
ROUTING_KEY = "R0UT1NGKEY0123456789abcdefABCDEF"
SECRET = "whsec_test_0123456789abcdefghijklmnop"
SHORT = 0.2  # seconds: the timeout the slow-server tests use


@pytest.fixture(autouse=True)
def _portal_settings(settings):
    settings.NOTIFICATION_TIMEOUT = 5
    settings.DEFAULT_FROM_EMAIL = "Escalation Portal <escalations@portal.example>"
    settings.SITE_URL = "https://portal.example"


@pytest.fixture
def slow_server():
    """A server that answers only when the test is over: the server being slow.
    Its own instance, so a late answer never lands in another test's `httpserver.log`."""
    release = threading.Event()

    def handler(request: Request) -> Response:
        release.wait(10)
        return Response("too late", status=200)

    server = HTTPServer(host="127.0.0.1", threaded=True)
    server.expect_request("/slow").respond_with_handler(handler)
    server.start()
    try:
        yield server.url_for("/slow")
    finally:
        release.set()
        server.clear()
        server.stop()


@pytest.fixture
def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def silent_port():
    """Accepts TCP connections (kernel backlog) and never says a word."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield sock.getsockname()[1]


def only_request(httpserver) -> Request:
    assert len(httpserver.log) == 1, httpserver.log
    return httpserver.log[0][0]


def assert_no_secret(error: Exception, *secrets: str) -> None:
    for secret in secrets:
        assert secret not in str(error)


# --- Slack ---------------------------------------------------------------------------------


def slack(httpserver, **kwargs) -> Message:
    fields = {"subject": "INC-7 escalated", "text": "Tier 2 has *15 min* left"} | kwargs
    return Message(channel="slack", recipient=httpserver.url_for(SLACK_PATH), **fields)


def test_slack_posts_text_and_a_section_block(httpserver):
    httpserver.expect_request(SLACK_PATH, method="POST").respond_with_data("ok")

    sent = send(slack(httpserver, subject="DB <down> & out"))

    assert sent == Sent("")
    request = only_request(httpserver)
    assert request.headers["Content-Type"] == "application/json"
    assert json.loads(request.get_data()) == {
        "text": "DB <down> & out\nTier 2 has *15 min* left",
        "blocks": [
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": "*DB &lt;down&gt; &amp; out*\nTier 2 has *15 min* left",
                },
            }
        ],
    }


def test_slack_uses_the_callers_blocks(httpserver):
    httpserver.expect_request(SLACK_PATH, method="POST").respond_with_data("ok")
    blocks = [{"type": "header", "text": {"type": "plain_text", "text": "INC-7"}}]

    send(slack(httpserver, payload={"blocks": blocks, "unfurl_links": False}))

    body = json.loads(only_request(httpserver).get_data())
    assert body == {
        "text": "INC-7 escalated\nTier 2 has *15 min* left",
        "blocks": blocks,
        "unfurl_links": False,
    }


@pytest.mark.parametrize(
    ("status", "body", "error", "retry_after"),
    [
        (400, "invalid_payload", PermanentError, None),
        (403, "action_prohibited", PermanentError, None),
        (404, "no_service", PermanentError, None),
        (410, "channel_is_archived", PermanentError, None),
        (429, "rate_limited", TransientError, 30.0),
        (500, "rollup_error", TransientError, None),
        (503, "", TransientError, None),
    ],
)
def test_slack_error_statuses(httpserver, status, body, error, retry_after):
    headers = {"Retry-After": "30"} if retry_after else {}
    httpserver.expect_request(SLACK_PATH).respond_with_data(body, status=status, headers=headers)

    with pytest.raises(error) as caught:
        send(slack(httpserver))

    assert caught.value.transient is (error is TransientError)
    assert caught.value.status == status
    assert caught.value.retry_after == retry_after
    assert caught.value.channel == "slack"
    assert str(caught.value).startswith(f"slack: HTTP {status}")
    assert body in str(caught.value)
    assert_no_secret(caught.value, SLACK_PATH, "s3cr3t")


def test_slack_redirect_is_not_followed(httpserver):
    httpserver.expect_request(SLACK_PATH).respond_with_data(
        "", status=302, headers={"Location": httpserver.url_for("/elsewhere")}
    )

    with pytest.raises(PermanentError, match="HTTP 302"):
        send(slack(httpserver))
    assert len(httpserver.log) == 1


def test_slack_timeout_is_transient(slow_server):
    message = Message(channel="slack", recipient=slow_server, text="hello")
    started = time.monotonic()

    with pytest.raises(TransientError, match=r"slack: timed out .*ReadTimeout") as caught:
        send(message, timeout=SHORT)

    assert time.monotonic() - started < 3
    assert "/slow" not in str(caught.value)
    assert caught.value.__cause__ is None  # requests' text would carry the full URL


def test_slack_connection_refused_is_transient(closed_port):
    url = f"http://127.0.0.1:{closed_port}{SLACK_PATH}"

    with pytest.raises(TransientError, match=r"slack: connection failed \(ConnectionError\)") as e:
        send(Message(channel="slack", recipient=url, text="hello"), timeout=SHORT)

    assert str(e.value).endswith(f"at http://127.0.0.1:{closed_port}")
    assert_no_secret(e.value, SLACK_PATH)


@pytest.mark.parametrize(
    "url",
    [
        "http://hooks.slack.com/services/T/B/x",  # plain http off localhost
        "ftp://hooks.slack.com/services/T/B/x",
        "javascript:alert(1)",
        "hooks.slack.com/services/T/B/x",
        "https:///services/T/B/x",
        "https://hooks.slack.com/services/T/B/x y",
        "",
    ],
)
def test_slack_refuses_urls_that_are_not_https(url):
    with pytest.raises(PermanentError) as caught:
        send(Message(channel="slack", recipient=url, text="hi"))
    assert caught.value.channel == "slack"
    assert_no_secret(caught.value, "/services/T/B/x")


# --- PagerDuty -----------------------------------------------------------------------------


@pytest.fixture
def pagerduty(httpserver, settings):
    settings.PAGERDUTY_EVENTS_URL = httpserver.url_for("/v2/enqueue")
    return httpserver


def test_pagerduty_trigger_body(pagerduty):
    pagerduty.expect_request("/v2/enqueue", method="POST").respond_with_json(
        {"status": "success", "message": "Event processed", "dedup_key": "INC-42"}, status=202
    )
    message = Message(
        channel="pagerduty",
        recipient=ROUTING_KEY,
        subject="ignored: the payload has a summary",
        dedup_key="INC-42",
        payload={
            "event_action": "trigger",
            "summary": "INC-42 breached its response SLA",
            "severity": "critical",
            "source": "portal.example",
            "custom_details": {"incident": "INC-42", "tier": 2},
        },
    )

    assert send(message) == Sent("INC-42")

    request = only_request(pagerduty)
    assert request.headers["Content-Type"] == "application/json"
    assert json.loads(request.get_data()) == {
        "routing_key": ROUTING_KEY,
        "event_action": "trigger",
        "dedup_key": "INC-42",
        "payload": {
            "summary": "INC-42 breached its response SLA",
            "source": "portal.example",
            "severity": "critical",
            "custom_details": {"incident": "INC-42", "tier": 2},
        },
    }


def test_pagerduty_trigger_defaults_and_generated_dedup_key(pagerduty):
    pagerduty.expect_request("/v2/enqueue").respond_with_json(
        {"status": "success", "message": "Event processed", "dedup_key": "pd-made-this"},
        status=202,
    )

    sent = send(Message(channel="pagerduty", recipient=ROUTING_KEY, subject="INC-9 paged"))

    assert sent == Sent("pd-made-this")
    assert json.loads(only_request(pagerduty).get_data()) == {
        "routing_key": ROUTING_KEY,
        "event_action": "trigger",
        "payload": {"summary": "INC-9 paged", "source": "portal.example", "severity": "critical"},
    }


@pytest.mark.parametrize("action", ["acknowledge", "resolve"])
def test_pagerduty_acknowledge_and_resolve_carry_only_the_key(pagerduty, action):
    pagerduty.expect_request("/v2/enqueue").respond_with_json(
        {"status": "success", "message": "Event processed", "dedup_key": "INC-42"}, status=202
    )
    message = Message(
        channel="pagerduty",
        recipient=ROUTING_KEY,
        dedup_key="INC-42",
        payload={"event_action": action, "summary": "not sent", "severity": "info"},
    )

    assert send(message) == Sent("INC-42")
    assert json.loads(only_request(pagerduty).get_data()) == {
        "routing_key": ROUTING_KEY,
        "event_action": action,
        "dedup_key": "INC-42",
    }


def test_pagerduty_400_lists_the_errors(pagerduty):
    pagerduty.expect_request("/v2/enqueue").respond_with_json(
        {
            "status": "invalid event",
            "message": "Event object is invalid",
            "errors": ["'payload.summary' is missing or blank", "'severity' is invalid"],
        },
        status=400,
    )

    with pytest.raises(PermanentError) as caught:
        send(Message(channel="pagerduty", recipient=ROUTING_KEY, subject="x", dedup_key="k"))

    assert str(caught.value) == (
        "pagerduty: HTTP 400: 'payload.summary' is missing or blank; 'severity' is invalid"
    )
    assert caught.value.status == 400
    assert_no_secret(caught.value, ROUTING_KEY)


@pytest.mark.parametrize(
    ("status", "error", "retry_after"),
    [
        (403, PermanentError, None),
        (404, PermanentError, None),
        (413, PermanentError, None),
        (429, TransientError, 7.0),
        (500, TransientError, None),
        (502, TransientError, None),
        (503, TransientError, None),
    ],
)
def test_pagerduty_error_statuses(pagerduty, status, error, retry_after):
    headers = {"Retry-After": "7"} if retry_after else {}
    pagerduty.expect_request("/v2/enqueue").respond_with_json(
        {"status": "error", "message": f"echo {ROUTING_KEY}"}, status=status, headers=headers
    )

    with pytest.raises(error) as caught:
        send(Message(channel="pagerduty", recipient=ROUTING_KEY, subject="x", dedup_key="k"))

    assert caught.value.status == status
    assert caught.value.retry_after == retry_after
    assert str(caught.value).startswith(f"pagerduty: HTTP {status}")
    assert_no_secret(caught.value, ROUTING_KEY)


def test_pagerduty_timeout_is_transient(settings, slow_server):
    settings.PAGERDUTY_EVENTS_URL = slow_server
    message = Message(channel="pagerduty", recipient=ROUTING_KEY, subject="x", dedup_key="k")

    with pytest.raises(TransientError, match="pagerduty: timed out") as caught:
        send(message, timeout=SHORT)
    assert_no_secret(caught.value, ROUTING_KEY)


@pytest.mark.parametrize(
    ("message", "match"),
    [
        (
            Message(
                channel="pagerduty", recipient=ROUTING_KEY, payload={"event_action": "resolve"}
            ),
            "resolve needs a dedup_key",
        ),
        (
            Message(channel="pagerduty", recipient=ROUTING_KEY, payload={"event_action": "page!"}),
            "unknown event_action",
        ),
        (
            Message(
                channel="pagerduty",
                recipient=ROUTING_KEY,
                subject="x",
                payload={"severity": "sev1"},
            ),
            "severity must be one of critical, error, warning, info",
        ),
        (Message(channel="pagerduty", recipient=ROUTING_KEY), "trigger needs a summary"),
        (Message(channel="pagerduty", recipient="", subject="x"), "routing key is empty"),
    ],
)
def test_pagerduty_bad_events_fail_before_sending(pagerduty, message, match):
    with pytest.raises(PermanentError, match=match):
        send(message)
    assert pagerduty.log == []


# --- Webhook -------------------------------------------------------------------------------


def webhook(httpserver, payload=None, **kwargs) -> Message:
    return Message(
        channel="webhook",
        recipient=httpserver.url_for(HOOK_PATH),
        payload={"event": "incident.escalated", "incident": {"ref": "INC-7", "tier": 2}}
        if payload is None
        else payload,
        dedup_key="delivery-0001",
        **kwargs,
    )


def test_webhook_body_and_headers(httpserver, settings):
    settings.WEBHOOK_SIGNING_SECRET = SECRET
    httpserver.expect_request(HOOK_PATH, method="POST").respond_with_data("", status=204)
    before = int(time.time())

    sent = send(webhook(httpserver, payload={"b": 1, "a": {"d": "Zürich ☃", "c": [1, 2]}}))

    assert sent == Sent("")
    request = only_request(httpserver)
    body = request.get_data()
    assert body == '{"a":{"c":[1,2],"d":"Zürich ☃"},"b":1}'.encode()
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["X-Portal-Delivery"] == "delivery-0001"
    timestamp = int(request.headers["X-Portal-Timestamp"])
    assert before <= timestamp <= int(time.time())
    signature = request.headers["X-Portal-Signature"]
    expected = hmac.new(SECRET.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    assert signature == "sha256=" + expected.hexdigest()
    assert verify_webhook_signature(body, request.headers["X-Portal-Timestamp"], signature, SECRET)


@pytest.mark.parametrize("configured", ["absent", ""])
def test_webhook_signature_defaults_to_secret_key(httpserver, settings, configured):
    if configured == "absent":
        if hasattr(settings, "WEBHOOK_SIGNING_SECRET"):
            del settings.WEBHOOK_SIGNING_SECRET
    else:
        settings.WEBHOOK_SIGNING_SECRET = configured
    httpserver.expect_request(HOOK_PATH).respond_with_data("ok")

    send(webhook(httpserver))

    request = only_request(httpserver)
    args = (request.get_data(), request.headers["X-Portal-Timestamp"])
    signature = request.headers["X-Portal-Signature"]
    assert verify_webhook_signature(*args, signature, settings.SECRET_KEY)
    assert not verify_webhook_signature(*args, signature, SECRET)


def test_verify_webhook_signature_rejects_tampering_and_old_timestamps():
    body = b'{"event":"incident.escalated"}'
    now = 1_750_000_000
    signature = sign_webhook(body, now, SECRET)

    assert verify_webhook_signature(body, now, signature, SECRET, now=now)
    assert verify_webhook_signature(body.decode(), str(now), signature, SECRET, now=now + 300)
    assert not verify_webhook_signature(body + b" ", now, signature, SECRET, now=now)
    assert not verify_webhook_signature(b'{"event":"incident.resolved"}', now, signature, SECRET)
    assert not verify_webhook_signature(body, now + 1, signature, SECRET, now=now)
    assert not verify_webhook_signature(body, now, signature, "other-secret", now=now)
    assert not verify_webhook_signature(body, now, signature.upper(), SECRET, now=now)
    assert not verify_webhook_signature(body, now, "", SECRET, now=now)
    assert not verify_webhook_signature(body, "yesterday", signature, SECRET, now=now)
    # Replays: a valid signature outside the tolerance, either way.
    assert not verify_webhook_signature(body, now, signature, SECRET, now=now + 301)
    assert not verify_webhook_signature(body, now, signature, SECRET, now=now - 301)
    assert verify_webhook_signature(body, now, signature, SECRET, now=now + 3000, tolerance=3600)


@pytest.mark.parametrize("status", [200, 201, 202, 204])
def test_webhook_2xx_is_sent(httpserver, status):
    httpserver.expect_request(HOOK_PATH).respond_with_data("", status=status)
    assert send(webhook(httpserver)) == Sent("")


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (400, PermanentError),
        (401, PermanentError),
        (403, PermanentError),
        (404, PermanentError),
        (410, PermanentError),
        (422, PermanentError),
        (301, PermanentError),
        (408, TransientError),
        (429, TransientError),
        (500, TransientError),
        (502, TransientError),
        (503, TransientError),
        (504, TransientError),
    ],
)
def test_webhook_error_statuses(httpserver, status, error):
    httpserver.expect_request(HOOK_PATH).respond_with_data("nope", status=status)

    with pytest.raises(error) as caught:
        send(webhook(httpserver))

    assert caught.value.status == status
    assert str(caught.value).startswith(f"webhook: HTTP {status}")
    assert_no_secret(caught.value, HOOK_PATH, "t0ken")


def test_webhook_retry_after_as_http_date(httpserver):
    when = datetime.now(UTC) + timedelta(seconds=120)
    httpserver.expect_request(HOOK_PATH).respond_with_data(
        "busy", status=503, headers={"Retry-After": format_datetime(when, usegmt=True)}
    )

    with pytest.raises(TransientError) as caught:
        send(webhook(httpserver))

    assert 110 <= caught.value.retry_after <= 120


def test_webhook_timeout_is_transient(slow_server):
    with pytest.raises(TransientError, match=r"webhook: timed out after 0\.2s"):
        send(Message(channel="webhook", recipient=slow_server, dedup_key="d"), timeout=SHORT)


def test_webhook_silent_socket_times_out(silent_port):
    url = f"http://127.0.0.1:{silent_port}{HOOK_PATH}"
    started = time.monotonic()

    with pytest.raises(TransientError, match="timed out") as caught:
        send(Message(channel="webhook", recipient=url, dedup_key="d"), timeout=SHORT)

    assert time.monotonic() - started < 3
    assert_no_secret(caught.value, HOOK_PATH)


def test_webhook_uses_notification_timeout_setting(settings, slow_server):
    settings.NOTIFICATION_TIMEOUT = SHORT
    with pytest.raises(TransientError, match=r"timed out after 0\.2s"):
        send(Message(channel="webhook", recipient=slow_server, dedup_key="d"))


def test_webhook_connection_refused_is_transient(closed_port):
    url = f"https://127.0.0.1:{closed_port}{HOOK_PATH}"
    with pytest.raises(TransientError) as caught:
        send(Message(channel="webhook", recipient=url, dedup_key="d"), timeout=SHORT)
    assert_no_secret(caught.value, HOOK_PATH)


@pytest.mark.parametrize(
    "url", ["ftp://example.com/hook", "file:///etc/passwd", "mailto:a@example.com", "/relative"]
)
def test_webhook_refuses_non_http_urls(url):
    with pytest.raises(PermanentError, match="only http or https URLs"):
        send(Message(channel="webhook", recipient=url))


def test_webhook_payload_must_be_json(httpserver):
    with pytest.raises(PermanentError, match="not JSON-serialisable"):
        send(webhook(httpserver, payload={"n": float("nan")}))
    with pytest.raises(PermanentError, match="not JSON-serialisable"):
        send(webhook(httpserver, payload={"o": object()}))
    assert httpserver.log == []


# --- Email ---------------------------------------------------------------------------------


THREAD_HEADERS = {
    "Message-ID": "<inc-7.2@portal.example>",
    "In-Reply-To": "<inc-7.1@portal.example>",
    "References": "<inc-7.0@portal.example> <inc-7.1@portal.example>",
}


def email(**kwargs) -> Message:
    fields = {
        "channel": "email",
        "recipient": "Tier Two <oncall@example.com>",
        "subject": "[INC-7] Escalated to tier 2",
        "text": "INC-7 needs you.\n",
        "html": "<p>INC-7 <b>needs</b> you.</p>",
    } | kwargs
    return Message(**fields)


def test_email_through_anymail_test_backend(settings, mailoutbox):
    settings.MAILERS = {"default": {"BACKEND": "anymail.backends.test.EmailBackend"}}

    sent = send(email(headers=THREAD_HEADERS, reply_to="support@portal.example"))

    assert sent == Sent(provider_message_id="0", message_id="<inc-7.2@portal.example>")
    [outgoing] = mailoutbox
    params = outgoing.anymail_test_params
    assert params["subject"] == "[INC-7] Escalated to tier 2"
    assert params["text_body"] == "INC-7 needs you.\n"
    assert params["html_body"] == "<p>INC-7 <b>needs</b> you.</p>"
    assert [a.address for a in params["to"]] == ["Tier Two <oncall@example.com>"]
    assert params["from"].address == "Escalation Portal <escalations@portal.example>"
    assert [a.addr_spec for a in params["reply_to"]] == ["support@portal.example"]
    assert params["extra_headers"] == THREAD_HEADERS
    assert outgoing.anymail_status.message_id == 0


def test_email_through_locmem(settings, mailoutbox):
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}

    sent = send(email(headers=THREAD_HEADERS, reply_to="support@portal.example"))

    assert sent == Sent("<inc-7.2@portal.example>", "<inc-7.2@portal.example>")
    [outgoing] = mailoutbox
    assert outgoing.subject == "[INC-7] Escalated to tier 2"
    assert outgoing.body == "INC-7 needs you.\n"
    assert outgoing.alternatives == [("<p>INC-7 <b>needs</b> you.</p>", "text/html")]
    assert outgoing.to == ["Tier Two <oncall@example.com>"]
    assert outgoing.reply_to == ["support@portal.example"]
    assert outgoing.from_email == "Escalation Portal <escalations@portal.example>"
    rendered = outgoing.message()
    for name, value in THREAD_HEADERS.items():
        assert rendered[name] == value
    assert rendered["Reply-To"] == "support@portal.example"


def test_email_gets_a_message_id_to_match_replies(settings, mailoutbox):
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}

    first = send(email(html=""))
    second = send(email(html=""))

    assert first.message_id.startswith("<") and first.message_id.endswith("@portal.example>")
    assert first.provider_message_id == first.message_id != second.message_id
    assert [m.message()["Message-ID"] for m in mailoutbox] == [
        first.message_id,
        second.message_id,
    ]
    assert mailoutbox[0].alternatives == []
    assert mailoutbox[0].reply_to == []


def test_email_subject_is_one_line_and_html_alone_gets_a_text_part(settings, mailoutbox):
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}

    send(email(subject="INC-7:\r\n  DB down\n", text="", html="<p>DB <b>down</b></p>"))

    assert mailoutbox[0].subject == "INC-7: DB down"
    assert mailoutbox[0].body == "DB down"


@pytest.mark.parametrize(
    "fields",
    [
        {"recipient": ""},
        {"recipient": "oncall.example.com"},
        {"recipient": "oncall@"},
        {"recipient": "oncall@example.com\nBcc: victim@example.org"},
        {"recipient": "oncall@example.com\r\n"},
        {"recipient": "a@example.com, b@example.com"},
        {"reply_to": "not an address"},
        {"reply_to": "x@example.com\nBcc: y@example.com"},
        {"headers": {"In-Reply-To": "<a@b>\r\nBcc: victim@example.org"}},
        {"headers": {"X-Bad Name": "v"}},
        {"headers": {"Bcc": "victim@example.org"}},
        {"headers": {"To": "victim@example.org"}},
    ],
)
def test_email_invalid_address_or_header_fails_before_sending(settings, mailoutbox, fields):
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}

    with pytest.raises(PermanentError) as caught:
        send(email(**fields))

    assert str(caught.value).startswith("email: ")
    assert mailoutbox == []


class StubBackend(BaseEmailBackend):
    """Raises `error` (or returns `result`) from send_messages; remembers itself."""

    error: BaseException | None = None
    result = 1
    instances: list = []

    def __init__(self, *args, timeout=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.timeout = timeout
        StubBackend.instances.append(self)

    def send_messages(self, messages):
        if self.error is not None:
            raise self.error
        return self.result


@pytest.fixture
def stub(settings, monkeypatch):
    settings.MAILERS = {"default": {"BACKEND": f"{__name__}.StubBackend"}}
    monkeypatch.setattr(StubBackend, "instances", [])
    return StubBackend


def api_error(status: int, retry_after: str | None = None) -> AnymailRequestsAPIError:
    response = requests.Response()
    response.status_code = status
    response.reason = {400: "Bad Request", 429: "Too Many Requests"}.get(status, "Status")
    response._content = b'{"message": "from the ESP"}'
    if retry_after:
        response.headers["Retry-After"] = retry_after
    return AnymailRequestsAPIError(response=response, esp_name="Postmark")


def network_error() -> AnymailRequestsAPIError:
    # What anymail raises when requests fails: both an anymail and a requests error.
    cls = type("AnymailRequestsAPIError", (AnymailRequestsAPIError, requests.ConnectionError), {})
    error = cls("Error posting to https://api.postmarkapp.com/email:")
    error.__cause__ = requests.ConnectionError("connection refused")
    return error


@pytest.mark.parametrize(
    ("error", "expected", "status"),
    [
        (AnymailRecipientsRefused(), PermanentError, None),
        (AnymailInvalidAddress("bad address"), PermanentError, None),
        (AnymailUnsupportedFeature("no AMP"), PermanentError, None),
        (api_error(400), PermanentError, 400),
        (api_error(401), PermanentError, 401),
        (api_error(422), PermanentError, 422),
        (api_error(408), TransientError, 408),
        (api_error(429), TransientError, 429),
        (api_error(500), TransientError, 500),
        (api_error(503), TransientError, 503),
        (network_error(), TransientError, None),
        (
            smtplib.SMTPRecipientsRefused({"a@example.com": (550, b"5.1.1 no user")}),
            PermanentError,
            550,
        ),
        (
            smtplib.SMTPRecipientsRefused({"a@example.com": (450, b"4.2.1 busy")}),
            TransientError,
            450,
        ),
        (smtplib.SMTPSenderRefused(553, b"5.7.1 sender refused", "x@y"), PermanentError, 553),
        (smtplib.SMTPSenderRefused(451, b"4.3.0 try later", "x@y"), TransientError, 451),
        (smtplib.SMTPDataError(554, b"5.7.1 spam"), PermanentError, 554),
        (smtplib.SMTPDataError(452, b"4.3.1 no space"), TransientError, 452),
        (smtplib.SMTPAuthenticationError(535, b"5.7.8 bad credentials"), PermanentError, 535),
        (smtplib.SMTPServerDisconnected("Connection unexpectedly closed"), TransientError, None),
        (smtplib.SMTPConnectError(421, b"busy"), TransientError, None),
        (smtplib.SMTPNotSupportedError("STARTTLS"), PermanentError, None),
        (TimeoutError(), TransientError, None),
        (ConnectionRefusedError(111, "Connection refused"), TransientError, None),
        (ConnectionResetError(), TransientError, None),
        (socket.gaierror(-2, "Name or service not known"), TransientError, None),
        (OSError(101, "Network is unreachable"), TransientError, None),
        (RuntimeError("a third-party backend bug"), TransientError, None),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, BaseException) else None,
)
def test_email_error_classification(stub, monkeypatch, error, expected, status):
    monkeypatch.setattr(StubBackend, "error", error)

    with pytest.raises(DeliveryError) as caught:
        send(email())

    assert type(caught.value) is expected
    assert caught.value.transient is (expected is TransientError)
    assert caught.value.status == status
    assert caught.value.channel == "email"
    assert caught.value.__cause__ is error
    text = str(caught.value)
    assert text.startswith("email: ")
    assert "\n" not in text and len(text) < 300
    if status:
        assert str(status) in text
    else:
        assert type(error).__name__ in text or "ESP" in text or "Postmark" in text


def test_email_api_429_keeps_retry_after(stub, monkeypatch):
    monkeypatch.setattr(StubBackend, "error", api_error(429, retry_after="45"))

    with pytest.raises(TransientError) as caught:
        send(email())

    assert caught.value.retry_after == 45.0
    assert str(caught.value) == "email: Postmark API answered 429 Too Many Requests"


def test_email_backend_that_sends_nothing_is_transient(stub, monkeypatch):
    monkeypatch.setattr(StubBackend, "result", 0)
    with pytest.raises(TransientError, match="sent nothing"):
        send(email())


def test_email_missing_default_mailer_is_transient(settings):
    settings.MAILERS = {"bulk": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
    with pytest.raises(TransientError, match="mailer misconfigured"):
        send(email())


def test_email_timeout_reaches_the_mailer(stub, settings):
    settings.NOTIFICATION_TIMEOUT = 3
    send(email())
    send(email(), timeout=1.5)
    settings.MAILERS = {
        "default": {"BACKEND": f"{__name__}.StubBackend", "OPTIONS": {"timeout": 20}}
    }
    send(email())  # a longer timeout of the mailer's own is cut to NOTIFICATION_TIMEOUT
    send(email(), timeout=2)
    settings.MAILERS["default"]["OPTIONS"]["timeout"] = 1
    send(email(), timeout=2)  # a shorter one of its own stands

    assert [backend.timeout for backend in StubBackend.instances] == [3, 1.5, 3, 2, 1]


# --- Dispatch, errors, retry_delay ---------------------------------------------------------


def test_unknown_channel_is_permanent():
    with pytest.raises(PermanentError, match="unknown channel 'sms'"):
        send(Message(channel="sms", recipient="+15550100"))


def test_timeout_must_be_positive():
    with pytest.raises(ValueError, match="timeout"):
        send(Message(channel="webhook", recipient="https://example.com"), timeout=0)


def test_delivery_errors_pickle_with_their_attributes():
    error = TransientError("slack: HTTP 429", channel="slack", status=429, retry_after=30.0)
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is TransientError
    assert (str(copy), copy.channel, copy.status, copy.retry_after, copy.transient) == (
        "slack: HTTP 429",
        "slack",
        429,
        30.0,
        True,
    )
    assert PermanentError("x").transient is False
    assert issubclass(TransientError, DeliveryError) and issubclass(PermanentError, DeliveryError)


def test_message_is_frozen():
    message = Message(channel="email", recipient="a@example.com")
    with pytest.raises(AttributeError):
        message.subject = "changed"  # type: ignore[misc]
    assert message.payload == {} and message.headers == {}


@pytest.mark.parametrize("seed", range(20))
def test_retry_delay_is_full_jitter_within_bounds(seed):
    rng = random.Random(seed)
    for attempt in range(1, 15):
        ceiling = min(3600, 30 * 2 ** (attempt - 1))
        assert 0 <= retry_delay(attempt, rng=rng) <= ceiling


def test_retry_delay_matches_uniform_draw_with_seeded_rng():
    for attempt, ceiling in [(1, 30), (2, 60), (3, 120), (5, 480), (7, 1920), (8, 3600)]:
        expected = random.Random(attempt).uniform(0, ceiling)
        assert retry_delay(attempt, rng=random.Random(attempt)) == expected


def test_retry_delay_grows_exponentially_until_the_cap():
    rng = random.Random(1234)
    means = [
        sum(retry_delay(attempt, rng=rng) for _ in range(4000)) / 4000 for attempt in range(1, 10)
    ]
    for attempt, mean in enumerate(means[:7], start=1):  # 15, 30, 60, ... 960
        assert mean == pytest.approx(30 * 2 ** (attempt - 1) / 2, rel=0.05)
    assert means[7] == pytest.approx(1800, rel=0.05)  # capped: 3840 -> 3600
    assert means[8] == pytest.approx(1800, rel=0.05)


def test_retry_delay_jitter_spans_zero_to_cap():
    rng = random.Random(7)
    samples = [retry_delay(50, rng=rng) for _ in range(2000)]
    assert all(0 <= s <= 3600 for s in samples)
    assert min(samples) < 36 and max(samples) > 3564


def test_retry_delay_huge_attempts_do_not_overflow():
    assert 0 <= retry_delay(10_000, rng=random.Random(0)) <= 3600
    assert 0 <= retry_delay(10**9) <= 3600


def test_retry_delay_honours_retry_after():
    rng = random.Random(3)
    assert all(retry_delay(1, retry_after=120, rng=rng) == 120 for _ in range(100))
    assert retry_delay(1, retry_after=99_999, rng=rng) == 3600  # capped
    assert retry_delay(3, retry_after=0, rng=random.Random(5)) == random.Random(5).uniform(0, 120)
    assert retry_delay(1, retry_after=-5, rng=random.Random(5)) == random.Random(5).uniform(0, 30)
    # A larger draw wins over a smaller Retry-After.
    delays = [retry_delay(8, retry_after=10, rng=rng) for _ in range(200)]
    assert all(d >= 10 for d in delays) and max(delays) > 1000


def test_retry_delay_custom_base_and_cap_and_attempt_floor():
    rng = random.Random(11)
    assert all(0 <= retry_delay(4, base=1, cap=5, rng=rng) <= 5 for _ in range(200))
    assert all(0 <= retry_delay(0, base=10, rng=rng) <= 10 for _ in range(200))
    assert all(0 <= retry_delay(-3, base=10, rng=rng) <= 10 for _ in range(200))
