"""Customer replies by email, through anymail's inbound webhook (Postmark's format
here): matched by Message-ID headers, never by subject; unmatched mail kept."""

from __future__ import annotations

import base64
import json

import pytest
from django.urls import reverse

from escalations.notices import compose as notices
from escalations.policies import reach
from incidents import services
from incidents.models import EventKind
from notifications.inbound import message_ids
from notifications.models import InboundMessage, InboundStatus, Notification
from notifications.services import notifications_enqueue_many
from tests.factories import PASSWORD, AccountFactory, make_incident

URL = "/anymail/postmark/inbound/"


@pytest.fixture(autouse=True)
def postmark_inbound(settings):
    settings.INBOUND_EMAIL_ESP = "postmark"


def test_answered_ids_come_nearest_first():
    assert message_ids("<c@x>", "<a@x> <b@x>\r\n <c@x>") == ["<c@x>", "<b@x>", "<a@x>"]
    assert message_ids("", "") == []
    assert message_ids("not an id", "INC-RUNTIME-20260101-ABC") == []


def auth(settings) -> dict:
    secret = settings.ANYMAIL["WEBHOOK_SECRET"]
    return {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(secret.encode()).decode()}


def postmark(*, message_id, in_reply_to="", references="", subject="Re: your request", text="Hi"):
    headers = [{"Name": "Message-ID", "Value": message_id}]
    if in_reply_to:
        headers.append({"Name": "In-Reply-To", "Value": in_reply_to})
    if references:
        headers.append({"Name": "References", "Value": references})
    return json.dumps(
        {
            "FromFull": {"Email": "jane@acme.example", "Name": "Jane Doe"},
            "ToFull": [{"Email": "replies@support.example", "Name": ""}],
            "Subject": subject,
            "MessageID": "73e6d360-66eb-11e1-8e72-a8904824019b",
            "TextBody": text + "\n\nOn Monday you wrote:\n> old text",
            "StrippedTextReply": text,
            "HtmlBody": f"<p>{text}</p>",
            "Headers": headers,
            "Attachments": [],
        }
    )


def post(client, settings, body, **extra):
    return client.post(URL, body, content_type="application/json", **{**auth(settings), **extra})


@pytest.fixture
def incident(db, agent):
    account = AccountFactory(primary_contact_email="jane@acme.example")
    incident = make_incident(actor=agent, account=account, title="Exports time out")
    services.incident_acknowledge(incident=incident, actor=agent)
    return services.incident_change_status(
        incident=incident, status="waiting_on_customer", actor=agent
    )


@pytest.fixture
def customer_mail(incident):
    """A customer email the outbox sent for this incident (its Message-ID is known)."""
    services.incident_post_public_update(
        incident=incident, actor=None, body="Could you send the logs?"
    )
    return Notification.objects.get(incident=incident, kind="customer_update")


@pytest.mark.django_db
def test_a_reply_is_matched_by_in_reply_to_and_resumes_the_incident(
    client, settings, incident, customer_mail
):
    response = post(
        client,
        settings,
        postmark(
            message_id="<reply-1@acme.example>",
            in_reply_to=customer_mail.message_id,
            subject="totally unrelated subject",
            text="Logs attached.",
        ),
    )
    assert response.status_code == 200
    [kept] = InboundMessage.objects.all()
    assert kept.status == InboundStatus.MATCHED and kept.incident == incident
    assert kept.esp == "Postmark"
    [reply] = incident.events.filter(kind=EventKind.CUSTOMER_REPLY)
    assert reply.is_public and reply.body == "Logs attached."  # quoted history stripped
    assert reply.data["via"] == "email" and reply.data["from"] == "jane@acme.example"
    incident.refresh_from_db()
    assert incident.status == "investigating"


@pytest.mark.django_db
def test_references_alone_are_enough(client, settings, incident, customer_mail):
    post(
        client,
        settings,
        postmark(
            message_id="<reply-2@acme.example>",
            references=f"<unknown@elsewhere> {customer_mail.message_id}",
        ),
    )
    assert InboundMessage.objects.get().incident == incident


@pytest.mark.django_db
def test_the_same_mail_posted_twice_is_kept_once(client, settings, incident, customer_mail):
    body = postmark(message_id="<reply-3@acme.example>", in_reply_to=customer_mail.message_id)
    assert post(client, settings, body).status_code == 200
    assert post(client, settings, body).status_code == 200
    assert InboundMessage.objects.count() == 1
    assert incident.events.filter(kind=EventKind.CUSTOMER_REPLY).count() == 1


@pytest.mark.django_db
def test_a_subject_naming_the_incident_does_not_match(client, settings, incident):
    post(
        client,
        settings,
        postmark(
            message_id="<reply-4@acme.example>",
            subject=f"Re: [{incident.reference}] We have your request",
        ),
    )
    [kept] = InboundMessage.objects.all()
    assert kept.status == InboundStatus.UNMATCHED and kept.incident is None
    assert not incident.events.filter(kind=EventKind.CUSTOMER_REPLY).exists()


@pytest.mark.django_db
def test_a_reply_to_internal_mail_is_not_published_as_the_customers(
    client, settings, incident, agent
):
    [internal] = notices.build(
        kind="sla_warning",
        incident=incident,
        recipients=reach.user_recipient(agent),
        context={"clock": {"label": "Resolution"}, "percent": 50},
        dedup_base="internal",
        urgent=False,
    )
    notifications_enqueue_many([internal])
    post(client, settings, postmark(message_id="<r5@x>", in_reply_to=internal.message_id))
    assert InboundMessage.objects.get().status == InboundStatus.UNMATCHED
    assert not incident.events.filter(kind=EventKind.CUSTOMER_REPLY).exists()


@pytest.mark.django_db
def test_without_the_webhook_secret_nothing_is_stored(client, settings, incident, customer_mail):
    body = postmark(message_id="<r6@x>", in_reply_to=customer_mail.message_id)
    response = client.post(URL, body, content_type="application/json")
    assert response.status_code == 400
    bad = {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(b"inbound:guess").decode()}
    assert client.post(URL, body, content_type="application/json", **bad).status_code == 400
    assert not InboundMessage.objects.exists()


@pytest.mark.django_db
def test_unmatched_mail_can_be_attached_in_the_admin(client, settings, incident, manager):
    post(client, settings, postmark(message_id="<r7@x>", text="Is there any news?"))
    kept = InboundMessage.objects.get()
    assert client.login(username=manager.username, password=PASSWORD)
    changelist = reverse("admin:notifications_inboundmessage_changelist")
    form = {"action": "attach_to_incident", "_selected_action": [kept.pk]}
    page = client.post(changelist, form)
    assert b"Is there any news?" not in page.content and b"Attach" in page.content

    wrong = client.post(changelist, {**form, "apply": "1", "reference": "INC-NOPE"})
    assert "No incident with that reference" in str(wrong.context["form"].errors)
    done = client.post(changelist, {**form, "apply": "1", "reference": incident.reference})
    assert done.status_code == 302
    kept.refresh_from_db()
    assert kept.status == InboundStatus.ATTACHED and kept.incident == incident
    [reply] = incident.events.filter(kind=EventKind.CUSTOMER_REPLY)
    assert reply.body == "Is there any news?" and "attached by" in reply.data["via"]
