"""Notes, descriptions and updates are written in Markdown and shown formatted; what a
person types as HTML stays text, and links go only to http(s) and mailto."""

import pytest
from django.urls import reverse

from escalations.engine import services as engine
from escalations.rules.handoff import CHECKLIST
from incidents import services
from incidents.templatetags.markup import render_markdown
from tests.factories import PASSWORD, make_incident

pytestmark = pytest.mark.django_db


def test_markdown_is_formatted_and_html_stays_text():
    html = render_markdown(
        "**bold** <script>alert(1)</script> <b>x</b> [bad](javascript:alert(1)) "
        "[ok](https://example.com) ![img](https://example.com/i.png)\n- one\n- two"
    )
    assert "<strong>bold</strong>" in html
    assert "<script" not in html and "&lt;script&gt;" in html
    assert "<b>" not in html
    assert 'href="javascript' not in html
    assert '<a href="https://example.com" rel="nofollow noopener noreferrer">ok</a>' in html
    assert "<img" not in html
    assert "<li>one</li>" in html


def test_the_incident_page_shows_notes_formatted(client, default_policy, agent):
    incident = make_incident(actor=agent, description="Since **09:40**.")
    services.incident_comment(
        incident=incident, actor=agent, body="Tried `restart`; <i>no</i> change."
    )
    client.login(username=agent.username, password=PASSWORD)
    html = client.get(reverse("incidents:detail", args=[incident.reference])).content.decode()
    assert "Since <strong>09:40</strong>." in html
    assert "<code>restart</code>" in html and "&lt;i&gt;no&lt;/i&gt;" in html
    assert "**09:40**" not in html


def test_handoff_notes_show_labels_not_keys(client, roles, agent):
    from django.core.management import call_command

    from incidents.models import Channel

    customer = Channel.objects.get_or_create(code="CUSTOMER", defaults={"name": "Customer"})[0]
    call_command("load_workflow", "support-3-tier", "--default", verbosity=0)
    incident = make_incident(actor=agent, severity="P3", channel=customer)
    note = {
        "customer_context": "Enterprise, **renewal** soon",
        "symptoms": "502s",
        "customer_impact": "300 users",
        "business_impact": "Orders lost",
        "steps_taken": "Restarted pods",
        "suggested_next_step": "Check TLS",
    }
    engine.incident_escalate(
        incident=incident,
        to_level=2,
        actor=agent,
        reason="Needs backend access",
        category="expertise",
        note=note,
        checklist=list(CHECKLIST),
    )
    client.login(username=agent.username, password=PASSWORD)
    html = client.get(reverse("incidents:detail", args=[incident.reference])).content.decode()
    card = html[html.index('id="escalations"') :]
    assert "<dt>Customer context</dt>" in card and "<dt>Suggested next step</dt>" in card
    assert "customer_context" not in card
    assert "<strong>renewal</strong>" in card
