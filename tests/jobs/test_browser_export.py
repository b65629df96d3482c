"""In a real browser: a secretary exports the register from the member list, lands on the
job's progress page, reloads it, and downloads a valid xlsx with every member."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect
from python_calamine import CalamineWorkbook
from sqlalchemy import select

from coopreg.cooperatives.models import Cooperative
from coopreg.core.audit import acting_as
from coopreg.extensions import db
from coopreg.members import services as member_services
from tests.browser.fixtures import assert_clean_console, log_in, screenshot, serve
from tests.conftest import member_data

pytestmark = [pytest.mark.browser, pytest.mark.no_transaction]

# the browser and page fixtures come from tests/browser/fixtures.py (a plugin of the root
# conftest): importing them here would start a second Playwright in this thread

MEMBERS = 12


@pytest.fixture(scope="module")
def live_server():
    """The app over HTTP on a database of this folder's own (see tests/browser/fixtures.py)."""
    with serve("jobs_browser") as server:
        with server.app.app_context(), acting_as(None, "tests"):
            cooperative = db.session.scalar(select(Cooperative).where(
                Cooperative.code == server.cooperative_code))
            for n in range(MEMBERS):
                member_services.create_member(cooperative, member_data(
                    first_name=f"Socia{n}", phone="08881234"), confirm_duplicate=True)
            db.session.commit()
        yield server


def test_secretary_exports_the_register_through_a_job(live_server, page):
    log_in(page, live_server)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Members",
                                                            exact=True).click()
    export = page.locator("form.export-form")
    export.get_by_label("Format").select_option("xlsx")
    export.get_by_role("button", name="Export").click()

    expect(page).to_have_url(re.compile(r"/jobs/\d+$"))
    expect(page.get_by_role("heading", name="Member export")).to_be_visible()
    expect(page.get_by_role("progressbar", name="Progress")).to_be_visible()
    expect(page.locator(".job-percent")).to_have_text("100%")
    expect(page.get_by_text(f"{MEMBERS} members exported.")).to_be_visible()
    screenshot(page, "export-01-job-done")
    assert_clean_console(page)

    page.reload()
    expect(page).to_have_url(re.compile(r"/jobs/\d+$"))
    link = page.get_by_role("link", name=re.compile(r"^Download members-CRBROW-.*\.xlsx$"))
    expect(link).to_be_visible()
    page.set_viewport_size({"width": 360, "height": 740})  # a phone: nothing sticks out
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    screenshot(page, "export-02-job-page-phone")
    with page.expect_download() as download_info:
        link.click()
    download = download_info.value
    assert re.fullmatch(r"members-CRBROW-\d{4}-\d{2}-\d{2}\.xlsx", download.suggested_filename)
    data = Path(download.path()).read_bytes()
    assert data[:2] == b"PK"
    book = CalamineWorkbook.from_filelike(io.BytesIO(data))
    rows = book.get_sheet_by_name("Members").to_python()
    book.close()
    assert len(rows) == MEMBERS + 1  # the header, then every member
    assert rows[0][1] == "First name"
    assert {row[rows[0].index("Phone")] for row in rows[1:]} == {"08881234"}
    assert_clean_console(page)
