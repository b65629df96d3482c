"""In a real browser: a secretary prepares an enrolment batch, previews it, seals it and
downloads the file, which reads back with an independent reader."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from python_calamine import CalamineWorkbook
from sqlalchemy import select

from coopreg.cooperatives.models import Cooperative
from coopreg.core.audit import acting_as
from coopreg.extensions import db
from tests.batches.helpers import make_agreement, ready_member
from tests.browser.fixtures import assert_clean_console, log_in, screenshot, serve

pytestmark = [pytest.mark.browser, pytest.mark.no_transaction]

# the browser and page fixtures come from tests/browser/fixtures.py (a plugin of the root
# conftest); the live server is this module's own, on its own database


@pytest.fixture(scope="module")
def live_server():
    """The app over HTTP on a database of this folder's own (see tests/browser/fixtures.py)."""
    with serve("batches_browser") as server:
        yield server

def _seed(app) -> list[str]:
    with app.app_context(), acting_as(None, "tests"):
        cooperative = db.session.scalar(select(Cooperative).where(Cooperative.code == "CRBROW"))
        agreement = make_agreement(cooperative, "CCSS-BROWSER")
        ids = [ready_member(cooperative, agreement,
                            first_name=name)[0].id_number
               for name in ("Ana", "Beto", '=HYPERLINK("http://x","y")')]
        db.session.commit()
        return ids


def test_secretary_seals_and_downloads_an_enrolment_batch(live_server, page, tmp_path):
    ids = _seed(live_server.app)
    log_in(page, live_server)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Batches").click()
    expect(page.get_by_role("heading", name="Batches", exact=True)).to_be_visible()
    page.get_by_role("link", name="Prepare a batch").click()
    agreement = page.get_by_label("Agreement")
    agreement.select_option(agreement.locator("option", has_text="CCSS-BROWSER")
                            .get_attribute("value"))
    page.get_by_label("Kind of batch").select_option("enrolment")
    screenshot(page, "batches-01-new")
    page.get_by_role("button", name="Make the draft").click()

    # the work runs as a job: its page shows the progress, then the outcome
    expect(page.locator(".flash-success")).to_contain_text("Draft B-")
    page.get_by_role("link", name="Continue").click()
    expect(page.get_by_role("heading", name=re.compile("Preview"))).to_be_visible()
    lines = page.locator("table.lines tbody tr")
    expect(lines).to_have_count(3)
    expect(page.locator("table.lines")).to_contain_text(ids[0])
    screenshot(page, "batches-02-preview")
    assert_clean_console(page)

    # an irreversible step: the disclosure states the consequence and asks "I understand"
    page.locator("summary", has_text="Seal: write the file").click()
    opened = page.locator("details[open]")
    opened.get_by_label("I understand, go ahead").check()
    opened.get_by_role("button", name="Seal: write the file").click()
    # the work runs as a job: its page shows the progress, then the outcome
    expect(page.locator(".flash-success")).to_contain_text("is sealed")
    page.get_by_role("link", name="Continue").click()
    expect(page.locator("dd.checksum").first).to_have_text(re.compile("^[0-9a-f]{64}$"))
    screenshot(page, "batches-03-sealed")
    with page.expect_download() as info:
        page.get_by_role("link", name="Download the file").click()
    download = info.value
    assert re.fullmatch(r"B-\d{6}-enrolment\.xlsx", download.suggested_filename)
    target = tmp_path / download.suggested_filename
    download.save_as(target)
    rows = CalamineWorkbook.from_path(str(target)).get_sheet_by_name("Lines").to_python()
    assert sorted(r[1] for r in rows[1:]) == sorted(ids)
    assert '=HYPERLINK("http://x","y")' in [r[4] for r in rows[1:]]
    assert_clean_console(page)
