"""Under the Content-Security-Policy, the main pages load in Chromium with no violation
reported, and their scripts still work: sign-in (throttling on), incident list and page
(the escalation form's level-dependent note fields), queues (sort on change), admin and
the API docs (Swagger UI renders the operations)."""

import pytest

from escalations.policies.services import policy_create_from_spec
from escalations.rules.spec import LevelSpec, WorkflowSpec
from tests.conftest import chromium_path
from tests.e2e.browser import chromium_page, open_action, screenshot
from tests.factories import PASSWORD, UserFactory, make_incident

pytestmark = [
    pytest.mark.browser,
    # No serialized_rollback (see test_agent_journey.py): the test makes its rows.
    pytest.mark.django_db(transaction=True),
]

# Playwright's init script runs before the page's own and is not subject to its CSP.
WATCH_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (event) {
  window.__cspViolations.push(event.violatedDirective + " blocked " + event.blockedURI);
});
"""


@pytest.mark.parametrize("width", [1280, 390], ids=["desktop", "phone"])
def test_main_pages_run_their_scripts_with_no_csp_violation(
    live_server, roles, settings, monkeypatch, width
):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    settings.AXES_ENABLED = True  # the real sign-in path, throttling included
    manager = UserFactory(username="csp-manager", role="Engineering Manager", is_staff=True)
    policy_create_from_spec(
        spec=WorkflowSpec(
            levels=(
                LevelSpec(1, "Front line", handoff_fields=()),
                LevelSpec(2, "Specialists", handoff_fields=("symptoms",)),
                LevelSpec(3, "Security", handoff_fields=("symptoms", "security_assessment")),
            )
        ),
        name="csp",
        make_default=True,
    )
    incident = make_incident(actor=manager, title="Checkout fails under CSP")

    with chromium_page(chromium_path()) as page:
        page.set_viewport_size({"width": width, "height": 900})
        page.add_init_script(WATCH_VIOLATIONS)
        console_reports = []
        page.on(
            "console",
            lambda message: (
                console_reports.append(message.text)
                if "Content Security Policy" in message.text
                else None
            ),
        )

        def no_violation(name):
            violations = page.evaluate("window.__cspViolations")
            assert violations == [], (name, violations)
            assert console_reports == [], (name, console_reports)

        def visit(path):
            answer = page.goto(f"{live_server.url}{path}")
            assert "script-src 'self'" in (answer.header_value("content-security-policy") or "")

        visit("/login/")
        page.fill("input[name=username]", manager.username)
        page.fill("input[name=password]", "not the password")
        page.click("button[type=submit]")
        assert page.locator(".form-errors").is_visible()
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url("**/incidents/**")
        no_violation("sign-in")

        visit("/incidents/")
        assert page.locator("table.list", has_text=incident.reference).is_visible()
        no_violation("incident list")

        visit(f"/incidents/{incident.reference}/")
        open_action(page, "escalate")
        symptoms = page.locator(".note-field", has_text="Symptoms")
        assessment = page.locator(".note-field", has_text="Security assessment")
        page.select_option("#escalate-to_level", "2")
        assert symptoms.is_visible() and assessment.is_hidden()
        page.select_option("#escalate-to_level", "3")
        assert symptoms.is_visible() and assessment.is_visible()
        page.select_option("#escalate-to_level", "2")
        assert assessment.is_hidden()
        no_violation("incident page")
        # Markup that slipped past escaping would not run: the browser blocks and reports it.
        page.evaluate(
            """document.body.insertAdjacentHTML("beforeend",
                '<img src="/nowhere.png" onerror="window.__ran = 1">');"""
        )
        page.wait_for_function("window.__cspViolations.length > 0")
        assert page.evaluate("window.__ran") is None
        assert page.evaluate("window.__cspViolations")[0].startswith("script-src")
        page.evaluate("window.__cspViolations.length = 0")
        console_reports.clear()
        screenshot(page, f"csp-incident-{width}")

        visit("/queues/")
        sort = page.locator("select[name=sort]")
        other = sort.locator("option:not([selected])").first.get_attribute("value")
        sort.select_option(other)  # no button: the script submits the form
        page.wait_for_url(f"**sort={other}**")
        assert page.locator("select[name=sort]").input_value() == other
        no_violation("queues")

        visit("/admin/")
        assert page.locator("#site-name").inner_text() == "Escalation portal"
        visit("/admin/incidents/incident/")
        page.wait_for_selector("#result_list")
        no_violation("admin")

        visit("/api/docs/")
        page.wait_for_selector(".opblock-summary-path >> text=/api/incidents/")
        assert (
            page.locator(".swagger-ui .title")
            .first.inner_text()
            .startswith("Escalation portal API")
        )
        no_violation("api docs")
        screenshot(page, f"csp-api-docs-{width}")
