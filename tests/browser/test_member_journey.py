"""A secretary's day in a real browser: log in, add a member, find them again, log out."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.fixtures import assert_clean_console, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.no_transaction]


def _path(live_server, path: str) -> re.Pattern:
    """The page's URL is this path on the live server (any query string)."""
    return re.compile(re.escape(live_server.url + path) + r"(\?.*)?$")


def test_secretary_adds_finds_and_logs_out(live_server, page):
    # the root sends an anonymous visitor to the login page
    page.goto(live_server.url + "/")
    expect(page).to_have_url(_path(live_server, "/login"))
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    screenshot(page, "journey-01-login")

    page.get_by_label("Email").fill(live_server.email)
    page.get_by_label("Password").fill(live_server.password)
    page.get_by_role("button", name="Log in").click()

    # one membership: the cooperative is chosen automatically
    expect(page).to_have_url(_path(live_server, "/"))
    expect(page.get_by_role("heading", name=live_server.cooperative_name)).to_be_visible()

    nav = page.get_by_role("navigation", name="Main")
    nav.get_by_role("link", name="Members", exact=True).click()
    expect(page).to_have_url(_path(live_server, "/members/"))
    expect(page.get_by_role("heading", name="Members", exact=True)).to_be_visible()

    page.get_by_role("link", name="Add a member").click()
    expect(page).to_have_url(_path(live_server, "/members/new"))
    expect(page.get_by_role("heading", name="Add a member")).to_be_visible()

    page.get_by_label("First name").fill("José")
    page.get_by_label("Last name", exact=True).fill("Núñez")
    page.get_by_label("Second last name").fill("Quesada")
    page.get_by_label("Sex").select_option(label="Male")
    page.get_by_label("Date of birth").fill("1978-09-23")
    page.get_by_label("ID type").select_option(label="Cédula de identidad")
    page.get_by_label("ID number").fill("1-0234-0567")
    page.get_by_label("Phone").fill("8765-4321")
    page.get_by_label("Locality").fill("San Carlos")
    page.get_by_label("Sector").select_option(label="Agriculture")
    page.get_by_label("Joined on").fill("2021-02-01")
    page.get_by_label("Consents to share data with institutions").check()
    page.get_by_label("Consent date").fill("2021-02-01")
    page.get_by_label("How consent was given").select_option(label="Signed form")
    screenshot(page, "journey-02-member-form")
    page.get_by_role("button", name="Save").click()

    # the member's page, with the flash and the cédula written as people write it
    expect(page).to_have_url(re.compile(re.escape(live_server.url) + r"/members/\d+$"))
    expect(page.get_by_role("status")).to_have_text(re.compile(r"^Member \S+ added\.$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("José Núñez Quesada")
    expect(page.locator("dd.mono")).to_have_text("01-0234-0567")
    member_url = page.url
    screenshot(page, "journey-03-member-page")
    assert_clean_console(page)

    # the search ignores accents and case
    nav.get_by_role("link", name="Members", exact=True).click()
    expect(page).to_have_url(_path(live_server, "/members/"))
    page.get_by_role("searchbox", name="Search").fill("nunez")
    page.get_by_role("button", name="Search").click()
    expect(page).to_have_url(re.compile(r"/members/\?.*\bq=nunez\b"))
    results = page.locator("table.list tbody")
    expect(results.get_by_role("row")).to_have_count(1)
    result = results.get_by_role("link", name=re.compile("Núñez"))
    expect(result).to_have_text("Núñez Quesada, José")
    screenshot(page, "journey-04-search-results")

    result.click()
    expect(page).to_have_url(member_url)
    expect(page.get_by_role("heading", level=1)).to_contain_text("José Núñez Quesada")
    assert_clean_console(page)

    # logging out ends the session: the register is closed again
    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(_path(live_server, "/login"))
    expect(page.get_by_role("status")).to_have_text("You are logged out.")
    expect(page.get_by_role("button", name="Log out")).to_have_count(0)

    page.goto(live_server.url + "/members/")
    expect(page).to_have_url(_path(live_server, "/login"))
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    assert_clean_console(page)
