"""A treasurer in a real browser posts a collection sheet (control count and total) and sees
the reconciliation's collected figure change; on the remittance form, the link that shows a
month's lines follows the month typed."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from babel.dates import format_date
from playwright.sync_api import expect

from coopreg.agreements.models import Agreement
from coopreg.auth import services as auth_services
from coopreg.contributions import services
from coopreg.cooperatives.services import find_cooperative
from coopreg.core.audit import acting_as
from coopreg.extensions import db
from tests.browser.fixtures import assert_clean_console, log_in, screenshot
from tests.conftest import PASSWORD
from tests.contributions.helpers import make_agreement, make_member, register

pytestmark = [pytest.mark.browser, pytest.mark.no_transaction]

TREASURER = "tesorera-browser@example.org"
THIS_MONTH = date.today().replace(day=1)
LAST_MONTH = (THIS_MONTH - timedelta(days=1)).replace(day=1)



def _month(month) -> str:
    """A month as the English pages say it ("Nov 2026")."""
    return format_date(month, "MMM y", locale="en")

def _seed(app, cooperative_code: str) -> dict:
    """An agreement since last month, three members owing two months each, a treasurer."""
    with app.app_context(), acting_as(None, "tests"):
        cooperative = find_cooperative(cooperative_code)
        agreement = make_agreement(cooperative, valid_from=LAST_MONTH, reference="BROWSER-C")
        names = {}
        for first in ("Alba", "Bruno", "Carmen"):
            member = make_member(cooperative, first_name=first, last_name="Collecta",
                                 joined_on=date(2020, 1, 1))
            register(agreement, member, LAST_MONTH)
            names[first] = member.full_name
        services.generate_dues(db.session.get(Agreement, agreement.id), LAST_MONTH,
                               THIS_MONTH)
        user = auth_services.create_user(TREASURER, "Tesorera Prueba", PASSWORD)
        auth_services.grant_role(user, cooperative, "treasurer")
        db.session.commit()
        return {"agreement_id": agreement.id, "names": names}


def test_collection_sheet_changes_the_reconciliation(live_server, page):
    seeded = _seed(live_server.app, live_server.cooperative_code)
    log_in(page, live_server, TREASURER)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Contributions").click()
    expect(page.get_by_role("heading", name="Contributions", exact=True)).to_be_visible()
    page.goto(f"{live_server.url}/contributions/reconciliation"
              f"?agreement_id={seeded['agreement_id']}")
    collected = page.locator(f"tr[data-period='{THIS_MONTH:%Y-%m}'] td[data-figure=collected]")
    expect(collected).to_have_text(re.compile(r"^0\.00$"))
    screenshot(page, "contributions-01-reconciliation-before")

    page.get_by_role("navigation", name="Contributions").get_by_role(
        "link", name="Collection sheet").click()
    page.get_by_label("Agreement").select_option(value=str(seeded["agreement_id"]))
    page.get_by_role("button", name="Prepare the sheet").click()
    alba = page.get_by_label(f"Paid by {seeded['names']['Alba']}")
    expect(alba).to_have_value("1200.00")  # two open months pre-filled
    # the exceptions: Bruno did not come, Carmen paid part
    page.get_by_label(f"Paid by {seeded['names']['Bruno']}").fill("")
    page.get_by_label(f"Paid by {seeded['names']['Carmen']}").fill("500")
    expect(page.locator("#sheet-count")).to_have_text("2")
    expect(page.locator("#sheet-total")).to_have_text("1700.00")
    # a wrong control total is refused, nothing is posted
    page.get_by_label("Control: number of payments").fill("2")
    page.get_by_label("Control: total collected").fill("1600")
    screenshot(page, "contributions-02-collection-sheet")
    page.get_by_role("button", name="Post the sheet").click()
    expect(page.get_by_text(re.compile("The control figures do not match"))).to_be_visible()
    expect(page.get_by_label("Control: total collected")).to_have_attribute("aria-invalid",
                                                                            "true")
    page.get_by_label("Control: total collected").fill("1700")
    page.get_by_role("button", name="Post the sheet").click()

    expect(page.get_by_role("status")).to_contain_text("Collection sheet posted: 2 receipts")
    collected = page.locator(f"tr[data-period='{THIS_MONTH:%Y-%m}'] td[data-figure=collected]")
    expect(collected).to_have_text("1,700.00")
    screenshot(page, "contributions-03-reconciliation-after")
    collected.get_by_role("link").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Collected in the month")
    expect(page.locator("table.list tbody tr")).to_have_count(3)  # Alba's two months, Carmen

    # the remittance form proposes last month; the link under it follows the month typed
    page.goto(f"{live_server.url}/contributions/agreements/{seeded['agreement_id']}"
              f"/remittances/new")
    expect(page.get_by_role("heading", name=f"To remit for {_month(LAST_MONTH)}")).to_be_visible()
    page.get_by_label("Period", exact=True).fill(f"{THIS_MONTH:%Y-%m}")
    page.get_by_role("link", name="Show the lines for this period").click()
    expect(page.get_by_role("heading", name=f"To remit for {_month(THIS_MONTH)}")).to_be_visible()
    expect(page.get_by_label("Period", exact=True)).to_have_value(f"{THIS_MONTH:%Y-%m}")
    # the refused sheet answered 422 on purpose (Chromium logs that); nothing else may appear
    page.console_errors[:] = [e for e in page.console_errors if "status of 422" not in e]
    assert_clean_console(page)
