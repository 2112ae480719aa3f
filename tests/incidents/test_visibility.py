"""Security incidents exist only for Security, managers and their assignee:
in lists, detail pages, search, counts and the admin (404, never 403)."""

import pytest
from django.urls import reverse

from incidents.selectors import incidents_visible_to
from tests.factories import PASSWORD, UserFactory, make_incident

pytestmark = pytest.mark.django_db

SECRET_TITLE = "Credential stuffing against login endpoint"


@pytest.fixture
def secret(manager):
    return make_incident(actor=manager, title=SECRET_TITLE, is_security=True, severity="P1")


@pytest.fixture
def ordinary(manager):
    return make_incident(actor=manager, title="Slow dashboard")


def login(client, user):
    assert client.login(username=user.username, password=PASSWORD)
    return client


def test_agent_does_not_see_it_in_the_list_or_counts(client, agent, secret, ordinary):
    response = login(client, agent).get(reverse("incidents:list"))
    assert response.status_code == 200
    assert SECRET_TITLE.encode() not in response.content
    assert secret.reference.encode() not in response.content
    assert b"Slow dashboard" in response.content
    assert response.context["page"].paginator.count == 1


def test_agent_cannot_find_it_by_search(client, agent, secret):
    login(client, agent)
    for query in (secret.reference, "Credential", secret.reference[:-1]):
        response = client.get(reverse("incidents:list"), {"q": query})
        assert SECRET_TITLE.encode() not in response.content
        detail = reverse("incidents:detail", args=[secret.reference]).encode()
        assert detail not in response.content
        assert response.context["page"].paginator.count == 0


def test_agent_gets_404_on_a_guessed_url(client, agent, secret):
    login(client, agent)
    assert client.get(reverse("incidents:detail", args=[secret.reference])).status_code == 404
    url = reverse("incidents:action", args=[secret.reference, "comment"])
    assert client.post(url, {"body": "peek"}).status_code == 404
    assert secret.events.count() == 1


def test_agent_in_the_admin_sees_nothing(client, agent, secret, ordinary):
    agent.is_staff = True
    agent.save()
    login(client, agent)
    response = client.get(reverse("admin:incidents_incident_changelist"))
    assert response.status_code == 200
    assert secret.reference.encode() not in response.content
    response = client.get(reverse("admin:incidents_incident_changelist"), {"q": "Credential"})
    assert secret.reference.encode() not in response.content
    change_url = reverse("admin:incidents_incident_change", args=[secret.pk])
    # The admin redirects unknown objects to its index with a message: no details leak.
    response = client.get(change_url, follow=True)
    assert SECRET_TITLE.encode() not in response.content
    events = client.get(reverse("admin:incidents_incidentevent_changelist"))
    assert secret.reference.encode() not in events.content


def test_assignee_sees_it(client, agent, manager):
    incident = make_incident(actor=manager, title=SECRET_TITLE, is_security=True, assignee=agent)
    login(client, agent)
    assert client.get(reverse("incidents:detail", args=[incident.reference])).status_code == 200
    assert incidents_visible_to(agent).filter(pk=incident.pk).exists()


@pytest.mark.parametrize(
    "role", ["Security", "Engineering Manager", "Director", "Governance Liaison", "Executive"]
)
def test_security_and_management_roles_see_it(client, roles, secret, role):
    user = UserFactory(role=role)
    login(client, user)
    response = client.get(reverse("incidents:detail", args=[secret.reference]))
    assert response.status_code == 200
    assert SECRET_TITLE.encode() in response.content


@pytest.mark.parametrize("role", ["Support Agent", "Team Lead"])
def test_other_roles_do_not(roles, secret, role):
    assert not incidents_visible_to(UserFactory(role=role)).filter(pk=secret.pk).exists()


def test_anonymous_is_sent_to_login(client, secret):
    response = client.get(reverse("incidents:detail", args=[secret.reference]))
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


def test_user_without_a_role_sees_no_incidents(client, roles, ordinary):
    user = UserFactory()
    login(client, user)
    assert client.get(reverse("incidents:list")).status_code == 403
    assert not incidents_visible_to(user).exists()


def test_policy_counts_in_the_admin_leave_hidden_incidents_out(client, manager, default_policy):
    lead = UserFactory(username="lead1", role="Team Lead", is_staff=True)
    make_incident(actor=manager, title=SECRET_TITLE, is_security=True, severity="P3")
    make_incident(actor=manager, title="Slow dashboard", severity="P3")
    url = reverse("admin:escalations_policy_changelist")
    counts = {}
    for user in (lead, manager):
        login(client, user)
        [row] = client.get(url).context["cl"].result_list
        counts[user.username] = row.open_count
    assert counts == {"lead1": 1, manager.username: 2}


def test_an_agent_who_opens_a_security_incident_is_told_where_it_went(client, agent, channel):
    login(client, agent)
    response = client.post(
        reverse("incidents:create"),
        {"title": SECRET_TITLE, "severity": "P2", "channel": channel.pk, "is_security": "on"},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == reverse("incidents:list")
    assert response.status_code == 200
    assert "Its details are limited to the Security team" in response.content.decode()
    assert SECRET_TITLE.encode() not in response.content
