"""The people's experience in a real browser, on the demo data: a user switches to Spanish
and finds no English left on the main pages; each role's dashboard draws its charts; a phone
shows the member list without sideways scrolling. Screenshots of the main pages are saved
under test-artifacts/screenshots/ for reviewers."""

from __future__ import annotations

import re

import pytest
from babel.messages.pofile import read_po

from coopreg.core.audit import acting_as
from coopreg.extensions import db
from tests.browser.fixtures import PACKAGE_ROOT, assert_clean_console, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.no_transaction]

DEMO_PASSWORD = "coopreg-demo-2026"
MAIN_PAGES = [
    ("home", "/"),
    ("members", "/members/"),
    ("member-form", "/members/new"),
    ("agreements", "/agreements/"),
    ("coverage", "/agreements/coverage"),
    ("batches", "/batches/"),
    ("contributions", "/contributions/"),
    ("reconciliation", "/contributions/reconciliation"),
    ("arrears", "/contributions/arrears"),
    ("receipts", "/contributions/receipts"),
    ("users", "/admin/users"),
    ("account", "/account"),
]


@pytest.fixture(scope="module")
def demo(live_server):
    """The demo cooperatives, users and records, loaded into the live server's database."""
    from coopreg.demo.loader import load_demo

    with live_server.app.app_context(), acting_as(None, "demo"):
        load_demo(member_count=40)
        db.session.commit()
    return live_server


def _log_in(page, server, email: str) -> None:
    page.goto(server.url + "/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()


def _choose(page, server, code: str) -> None:
    if "/cooperative" in page.url:
        options = page.locator("select[name=cooperative_id] option")
        for i in range(options.count()):
            if f"({code})" in options.nth(i).inner_text():
                page.select_option("select[name=cooperative_id]",
                                   value=options.nth(i).get_attribute("value"))
        page.click("main button[type=submit]")
        page.wait_for_load_state()


def _english_phrases() -> list[re.Pattern]:
    """English texts of the interface whose Spanish differs: none may show on a Spanish page.
    Phrases with a placeholder are cut at it and kept when a part is still distinctive."""
    with (PACKAGE_ROOT / "translations/es/LC_MESSAGES/messages.po").open("rb") as handle:
        catalogue = read_po(handle)
    patterns = []
    for message in catalogue:
        if not message.id or not message.string or isinstance(message.id, tuple):
            continue
        if message.string.strip() == message.id.strip():
            continue
        for part in re.split(r"%\(\w+\)[sd]|%[sd]|[“”\"]", message.id):
            part = part.strip(" .,:;()—-")
            if len(part.split()) >= 2 or (len(part) >= 6 and part[:1].isupper()):
                patterns.append(re.compile(r"(?<![\w])" + re.escape(part) + r"(?![\w])"))
    return patterns


def test_spanish_pages_have_no_english_left(demo, page):
    _log_in(page, demo, "admin@demo.coop")
    _choose(page, demo, "CRAGRO")
    page.goto(demo.url + "/account")
    page.select_option("select[name=locale]", "es")
    page.click("form[action$='/account/language'] button[type=submit]")
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "es"
    phrases = _english_phrases()
    assert len(phrases) > 500
    member_link = None
    left = {}
    for name, path in MAIN_PAGES:
        page.goto(demo.url + path)
        assert "/login" not in page.url, path
        text = page.locator("body").inner_text()
        found = sorted({p.pattern for p in phrases if p.search(text)})
        if found:
            left[path] = found[:8]
        screenshot(page, f"es-{name}")
        assert_clean_console(page)
        if name == "members":
            member_link = page.locator("table.list tbody a").first.get_attribute("href")
    page.goto(demo.url + member_link)
    text = page.locator("body").inner_text()
    found = sorted({p.pattern for p in phrases if p.search(text)})
    if found:
        left[member_link] = found[:8]
    screenshot(page, "es-member")
    assert left == {}, f"English left on Spanish pages: {left}"


@pytest.mark.parametrize("email,code,charts", [
    ("secretaria@cragro.demo", "CRAGRO", 1),
    ("tesorero@cragro.demo", "CRAGRO", 1),
    ("viewer@cragro.demo", "CRAGRO", 2),
    ("admin@demo.coop", "PHCOOP", 3),
])
def test_each_role_finds_its_dashboard_with_charts(demo, page, email, code, charts):
    _log_in(page, demo, email)
    _choose(page, demo, code)
    page.goto(demo.url + "/")
    drawn = page.locator("svg.chart")
    assert drawn.count() >= charts
    box = drawn.first.bounding_box()
    assert box and box["width"] > 200 and box["height"] > 40, "the chart is drawn, not empty"
    assert_clean_console(page)
    screenshot(page, f"dashboard-{email.split('@')[0]}-{code}")


def test_main_pages_in_english_for_reviewers(demo, page):
    _log_in(page, demo, "admin@demo.coop")
    _choose(page, demo, "CRAGRO")
    for name, path in MAIN_PAGES:
        page.goto(demo.url + path)
        assert page.locator("h1").count() >= 1, path
        assert_clean_console(page)
        screenshot(page, f"en-{name}")


def test_phone_shows_the_member_list_without_sideways_scrolling(demo, browser):
    context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True,
                                  has_touch=True, locale="en-US")
    phone = context.new_page()
    try:
        _log_in(phone, demo, "secretaria@cragro.demo")
        for path in ("/members/", "/members/new", "/contributions/receipts/new"):
            phone.goto(demo.url + path)
            overflow = phone.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth")
            assert overflow <= 0, f"{path} scrolls sideways by {overflow}px on a phone"
            screenshot(phone, "phone-" + path.strip("/").replace("/", "-"))
    finally:
        context.close()
