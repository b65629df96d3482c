"""Languages in a real browser: the login page follows the browser's language and offers a
choice (kept in a cookie); a job's page and the audit log read in Spanish from end to end."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from coopreg.auth import services as auth_services
from coopreg.cooperatives.services import find_cooperative
from coopreg.core.audit import acting_as
from coopreg.extensions import db
from tests.browser.fixtures import CHROMIUM, assert_clean_console, screenshot
from tests.browser.test_experience import _english_phrases
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.no_transaction]

ADMIN_EMAIL = "admin-idiomas@example.org"


@pytest.fixture
def spanish_page(browser):
    """A browser whose language is Spanish (Costa Rica), as CRAGRO's office computers."""
    assert CHROMIUM
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="es-CR")
    context.set_default_timeout(10_000)
    context.route("**/favicon.svg", lambda route: route.fulfill(status=204))
    tab = context.new_page()
    tab.console_messages, tab.console_errors, tab.page_errors = [], [], []
    tab.on("console", lambda m: (tab.console_messages.append(f"{m.type}: {m.text}"),
                                 m.type == "error" and tab.console_errors.append(m.text)))
    tab.on("pageerror", lambda error: tab.page_errors.append(str(error)))
    try:
        yield tab
    finally:
        context.close()


@pytest.fixture
def admin(live_server):
    """An admin of the live server's cooperative, with no language of their own."""
    from coopreg.auth.models import User

    with live_server.app.app_context(), acting_as(None, "tests"):
        if db.session.scalar(db.select(User).where(User.email == ADMIN_EMAIL)) is None:
            user = auth_services.create_user(ADMIN_EMAIL, "Admin Idiomas", PASSWORD)
            auth_services.grant_role(user, find_cooperative(live_server.cooperative_code),
                                     "admin")
            db.session.commit()
    return ADMIN_EMAIL


def _english_on(page, phrases) -> list[str]:
    text = page.locator("body").inner_text()
    return sorted({p.pattern for p in phrases if p.search(text)})


def test_login_job_page_and_audit_log_in_spanish(live_server, spanish_page, admin):
    page = spanish_page
    phrases = _english_phrases()

    # the first page anyone sees: the browser's language, and "please log in" in it
    page.goto(live_server.url + "/members/")
    expect(page).to_have_url(re.compile(r"/login"))
    assert page.locator("html").get_attribute("lang") == "es"
    expect(page.get_by_role("heading", name="Iniciar sesión")).to_be_visible()
    expect(page.locator("main")).to_contain_text("Inicie sesión para ver esta página.")
    assert _english_on(page, phrases) == []
    screenshot(page, "languages-01-login-es")

    # a choice on the login page, remembered by the browser
    page.get_by_label("Idioma").select_option("fr")
    page.get_by_role("button", name="Cambiar el idioma").click()
    expect(page.get_by_role("heading", name="Se connecter")).to_be_visible()
    page.reload()
    expect(page.get_by_role("heading", name="Se connecter")).to_be_visible()
    page.get_by_label("Langue").select_option("es")
    page.get_by_role("button", name="Changer de langue").click()
    expect(page.get_by_role("heading", name="Iniciar sesión")).to_be_visible()
    assert_clean_console(page)

    # log in as the admin (no language of their own: the one chosen on the login page)
    page.fill("input[name=email]", admin)
    page.fill("input[name=password]", PASSWORD)
    page.locator("main form button[type=submit]").first.click()
    expect(page).to_have_url(re.compile(r"/members/$"))  # where the person was going

    # a background job's page: the register export, made by the worker
    page.goto(live_server.url + "/imports/export")
    page.locator("main form button[type=submit]").last.click()
    expect(page).to_have_url(re.compile(r"/jobs/\d+$"))
    expect(page.get_by_role("heading", name="Exportación de socios")).to_be_visible()
    expect(page.locator("main")).to_contain_text("exportado")
    expect(page.locator(".job-message")).to_have_text("Terminado")
    expect(page.locator(".job-percent")).to_have_text("100\u00a0%")  # Babel's, not "100%"
    assert _english_on(page, phrases) == []
    screenshot(page, "languages-02-job-es")
    assert_clean_console(page)

    # the audit log: record names, actions, labels and values, who and when (the record of
    # the cooperative itself: its documents checklist is English data, the cooperative's)
    page.goto(live_server.url + "/admin/audit?entity=cooperatives")
    expect(page.get_by_role("heading", name=re.compile("Bitácora de auditoría"))).to_be_visible()
    table = page.locator("table.audit")
    expect(table).to_contain_text("Cooperativa #")
    expect(table).to_contain_text("Creado")
    expect(table).to_contain_text("Moneda")  # field labels, not column names
    expect(table).to_contain_text("Último número de socio")  # every audited column labelled
    assert "last_member_number" not in table.inner_text()
    body = table.inner_text()
    for raw in ("create", "update", "cooperatives #", "{'", "'before'"):
        assert raw not in body, raw
    assert _english_on(page, phrases) == []
    screenshot(page, "languages-03-audit-es")
    assert_clean_console(page)
