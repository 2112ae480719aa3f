"""API authentication and permissions are the web's: token or session, the same role
permissions, and security incidents that do not exist (404) for those who may not
see them."""

import pytest
from django.core.management import call_command
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.api_client import results, token_client
from tests.factories import PASSWORD, UserFactory, make_incident

pytestmark = pytest.mark.django_db

SECRET_TITLE = "Credential stuffing against login endpoint"


@pytest.fixture
def secret(manager):
    return make_incident(actor=manager, title=SECRET_TITLE, is_security=True, severity="P1")


@pytest.fixture
def ordinary(manager):
    return make_incident(actor=manager, title="Slow dashboard")


def test_anonymous_gets_401_asking_for_a_token(ordinary):
    answer = APIClient().get("/api/incidents/")
    assert answer.status_code == 401
    assert answer["WWW-Authenticate"] == "Token"
    assert APIClient().get(f"/api/incidents/{ordinary.reference}/").status_code == 401
    bad = APIClient()
    bad.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert bad.get("/api/incidents/").status_code == 401


def test_drf_create_token_gives_a_working_token(agent, ordinary, capsys):
    call_command("drf_create_token", agent.username)
    key = Token.objects.get(user=agent).key
    assert key in capsys.readouterr().out
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert [i["reference"] for i in results(client.get("/api/incidents/"))] == [ordinary.reference]


def test_session_works_for_reads_and_needs_csrf_for_writes(agent, ordinary):
    client = APIClient(enforce_csrf_checks=True)
    assert client.login(username=agent.username, password=PASSWORD)
    assert client.get("/api/incidents/").status_code == 200
    refused = client.post(f"/api/incidents/{ordinary.reference}/acknowledge/")
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["detail"]


def test_inactive_users_tokens_stop_working(agent, ordinary):
    api = token_client(agent)
    agent.is_active = False
    agent.save()
    assert api.get("/api/incidents/").status_code == 401


def test_read_only_roles_cannot_change_or_create(roles, ordinary):
    executive = UserFactory(username="exec1", role="Executive")
    api = token_client(executive)
    assert api.get(f"/api/incidents/{ordinary.reference}/").status_code == 200
    assert api.post(f"/api/incidents/{ordinary.reference}/acknowledge/").status_code == 403
    assert api.patch(f"/api/incidents/{ordinary.reference}/", {"title": "x"}).status_code == 403
    assert (
        api.post("/api/incidents/", {"title": "x", "severity": "P2", "channel": "RUNTIME"})
    ).status_code == 403


def test_users_without_a_role_see_nothing(roles, ordinary):
    nobody = UserFactory(username="norole")
    assert token_client(nobody).get("/api/incidents/").status_code == 403
    assert token_client(nobody).get("/api/accounts/").status_code == 403


def test_security_incidents_do_not_exist_for_agents(agent, secret, ordinary):
    api = token_client(agent)
    listed = {i["reference"] for i in results(api.get("/api/incidents/"))}
    assert listed == {ordinary.reference}
    assert results(api.get("/api/incidents/", {"search": "Credential"})) == []
    assert results(api.get("/api/incidents/", {"search": secret.reference})) == []
    assert api.get(f"/api/incidents/{secret.reference}/").status_code == 404
    assert api.get(f"/api/incidents/{secret.reference}/timeline/").status_code == 404
    for action, body in [
        ("acknowledge", {}),
        ("comment", {"body": "peek"}),
        ("resolve", {"note": "x"}),
        ("escalate", {}),
        ("escalation-options", None),
    ]:
        call = api.get if body is None else api.post
        url = f"/api/incidents/{secret.reference}/{action}/"
        assert call(url, body, format="json").status_code == 404, action
    assert api.patch(f"/api/incidents/{secret.reference}/", {"title": "x"}).status_code == 404
    secret.refresh_from_db()
    assert secret.status == "new"
    assert not secret.events.filter(kind="comment").exists()


def test_security_can_see_them_and_so_can_the_assignee(security_user, agent, secret, manager):
    assert token_client(security_user).get(f"/api/incidents/{secret.reference}/").status_code == 200
    assert token_client(manager).get(f"/api/incidents/{secret.reference}/").status_code == 200
    from incidents import services

    services.incident_assign(incident=secret, assignee=agent, actor=manager)
    assert token_client(agent).get(f"/api/incidents/{secret.reference}/").status_code == 200


def test_catalogue_is_read_only(agent):
    api = token_client(agent)
    channels = {c["code"] for c in results(api.get("/api/channels/"))}
    assert {"RUNTIME", "MONITORING"} <= channels
    assert api.get("/api/categories/").status_code == 200
    assert api.get("/api/components/").status_code == 200
    assert api.get("/api/accounts/").status_code == 200
    assert api.post("/api/accounts/", {"name": "New"}).status_code == 405
