"""Sign-in throttling (django-axes) on the web and admin sign-in pages: guessing a
password stops working after a few tries, for that username from that address only."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
PAGES = ["/login/", "/admin/login/"]


@pytest.fixture(autouse=True)
def throttling_on(settings):
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 5
    settings.AXES_COOLOFF_TIME = timedelta(minutes=15)


def sign_in(client, page, username, password, address="203.0.113.7"):
    return client.post(page, {"username": username, "password": password}, REMOTE_ADDR=address)


def signed_in_as(client):
    return client.session.get("_auth_user_id")


@pytest.mark.parametrize("page", PAGES)
def test_thirty_wrong_passwords_then_the_right_one_does_not_sign_in(client, manager, agent, page):
    with time_machine.travel(START, tick=False):
        for _ in range(30):
            sign_in(client, page, manager.username, "not my password")
        answer = sign_in(client, page, manager.username, PASSWORD)

        assert answer.status_code == 429
        assert signed_in_as(client) is None
        html = answer.content.decode()
        assert "Too many failed sign-ins" in html
        assert "Try again in 15 minutes" in html
        assert 'name="password"' in html  # the sign-in page itself, not a bare error

        # Another user from the same address is not held up.
        other = type(client)()
        agent.is_staff = True  # the admin sign-in accepts staff only
        agent.save(update_fields=["is_staff"])
        answer = sign_in(other, page, agent.username, PASSWORD)
        assert answer.status_code == 302
        assert signed_in_as(other) == str(agent.pk)

        # The same user from another address is not held up either.
        elsewhere = type(client)()
        assert (
            sign_in(elsewhere, page, manager.username, PASSWORD, "198.51.100.9").status_code == 302
        )

    with time_machine.travel(START + timedelta(minutes=16), tick=False):
        answer = sign_in(client, page, manager.username, PASSWORD)
        assert answer.status_code == 302
        assert signed_in_as(client) == str(manager.pk)


def test_a_successful_sign_in_resets_the_count(client, manager):
    with time_machine.travel(START, tick=False):
        for _ in range(4):
            assert sign_in(client, "/login/", manager.username, "wrong").status_code == 200
        assert sign_in(client, "/login/", manager.username, PASSWORD).status_code == 302
        client.logout()
        for _ in range(4):
            assert sign_in(client, "/login/", manager.username, "wrong").status_code == 200
        assert sign_in(client, "/login/", manager.username, PASSWORD).status_code == 302


def test_the_fifth_failure_locks_and_the_page_says_so(client, manager):
    with time_machine.travel(START, tick=False):
        for _ in range(4):
            answer = sign_in(client, "/login/", manager.username, "wrong")
            assert answer.status_code == 200
            assert "Too many failed sign-ins" not in answer.content.decode()
        answer = sign_in(client, "/login/", manager.username, "wrong")
        assert answer.status_code == 429
        assert "Too many failed sign-ins" in answer.content.decode()
