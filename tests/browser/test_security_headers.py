"""Security headers and CSRF protection, as a real browser meets them."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.fixtures import assert_clean_console, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.no_transaction]


def test_login_page_headers(live_server, page):
    response = page.goto(live_server.url + "/login")
    assert response is not None and response.status == 200
    headers = response.all_headers()  # names in lower case
    directives = {d.strip() for d in headers["content-security-policy"].split(";")}
    assert "script-src 'self'" in directives
    assert "frame-ancestors 'none'" in directives
    assert headers["x-content-type-options"] == "nosniff"
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    assert_clean_console(page)  # the page itself breaks none of its own policy


def test_tampered_csrf_token_is_refused(live_server, page):
    page.goto(live_server.url + "/login")
    # the login form's token (the language choice beside it has its own)
    token = page.locator("form:has(input[name=password]) input[name=csrf_token]")
    assert token.get_attribute("value")
    token.evaluate("input => { input.value = 'tampered'; }")
    page.get_by_label("Email").fill(live_server.email)
    page.get_by_label("Password").fill(live_server.password)

    with page.expect_response(
        lambda r: r.url.startswith(live_server.url + "/login") and r.request.method == "POST"
    ) as posted:
        page.get_by_role("button", name="Log in").click()
    assert posted.value.status == 400
    expect(page.get_by_role("heading", name="The form expired")).to_be_visible()
    screenshot(page, "security-csrf-refused")

    # nothing logged the secretary in: the register still asks for a login
    page.goto(live_server.url + "/members/")
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    assert not [m for m in page.console_errors if "Content Security Policy" in m]


def test_the_eleventh_failed_login_gets_429_in_the_browser(live_server, page):
    from coopreg.extensions import limiter

    limiter.reset()  # other journeys of this session may have failed a login from 127.0.0.1
    try:
        for attempt in range(11):
            page.goto(live_server.url + "/login")
            page.get_by_label("Email").fill(live_server.email)
            page.get_by_label("Password").fill(f"not the password {attempt}")
            with page.expect_response(lambda r: r.url.endswith("/login")
                                      and r.request.method == "POST") as answer:
                page.get_by_role("button", name="Log in").click()
            status = answer.value.status
            if attempt < 10:
                assert status == 401, (attempt, status)
        assert status == 429
        expect(page.get_by_role("heading", name="Too many attempts")).to_be_visible()
        screenshot(page, "security-rate-limit")
    finally:
        limiter.reset()
