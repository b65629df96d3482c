"""In a real browser: a secretary enrols a member in an agreement, sees what is missing,
completes it (consent on the member form, the document on the checklist) and marks the
registration ready."""

from __future__ import annotations

import re
from datetime import date

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from coopreg.agreements import services
from coopreg.cooperatives.models import Cooperative, DocumentType
from coopreg.core.audit import acting_as
from coopreg.extensions import db
from coopreg.members import services as member_services
from tests.agreements.conftest import FLAT
from tests.browser.fixtures import (  # noqa: F401 - `browser` and `page` are fixtures
    SECRETARY_EMAIL,
    LiveServer,
    _seed,
    assert_clean_console,
    log_in,
    screenshot,
    serve,
)
from tests.conftest import member_data

pytestmark = [pytest.mark.browser, pytest.mark.no_transaction]


@pytest.fixture(scope="module")
def live_server():
    """The app over HTTP on a database of this folder's own (see tests/browser/fixtures.py)."""
    with serve("agreements_browser") as server:
        yield server

def _seed_agreement(live_server) -> int:
    """An institution, a scheme and an agreement requiring the ID copy; a member with a valid
    ID but neither consent nor documents. Returns the member's id."""
    with live_server.app.app_context(), acting_as(None, "tests"):
        cooperative = db.session.scalar(select(Cooperative).where(
            Cooperative.code == live_server.cooperative_code))
        id_copy = db.session.scalar(select(DocumentType).where(
            DocumentType.cooperative_id == cooperative.id,
            DocumentType.name == "Copy of national ID"))
        institution = services.create_institution(
            cooperative, "Caja Costarricense de Seguro Social", "CCSS-B", "CR")
        scheme = services.create_scheme(institution, "Seguro de Salud",
                                        ["medical_care", "sickness", "maternity"])
        services.create_agreement(cooperative, {
            "institution_id": institution.id, "reference": "CCSS-BROWSER",
            "valid_from": date(2024, 1, 1), "scheme_ids": [scheme.id],
            "document_type_ids": [id_copy.id]}, FLAT, None)
        member = member_services.create_member(cooperative, member_data(
            first_name="Lucía", last_name="Campos", second_last_name="Vargas",
            id_number="2-0345-0678", consent_given=False, consent_date=None,
            consent_method=""), confirm_duplicate=True)
        db.session.commit()
        return member.id


def test_secretary_enrols_completes_and_marks_ready(live_server, page):  # noqa: F811
    member_id = _seed_agreement(live_server)
    log_in(page, live_server)

    page.goto(f"{live_server.url}/members/{member_id}")
    section = page.locator("#registrations")
    expect(section).to_contain_text("Not enrolled in any agreement.")
    section.get_by_label("Agreement").select_option(label="CCSS-BROWSER · CCSS-B")
    screenshot(page, "agreements-01-member-enrol")
    section.get_by_role("button", name="Enrol").click()

    # the registration's page says what is missing
    expect(page).to_have_url(re.compile(r"/agreements/registrations/\d+$"))
    registration_url = page.url
    expect(page.get_by_role("status")).to_have_text("Lucía Campos Vargas enrolled in "
                                                    "CCSS-BROWSER.")
    readiness = page.locator("#readiness")
    expect(readiness).to_contain_text(
        "Consent to share data with the institution is not recorded.")
    expect(readiness).to_contain_text("Document missing: Copy of national ID.")
    screenshot(page, "agreements-02-what-is-missing")

    # marking it ready now is refused, with the same reasons
    page.get_by_role("button", name="Mark ready").click()
    expect(page.get_by_role("alert")).to_contain_text("Not ready yet:")
    expect(page.locator("dd.reg-status")).to_have_text("Pending")
    # Chromium logs the refused form's 422 answer; nothing else may be logged
    assert all("status of 422" in e for e in page.console_errors), page.console_messages
    page.console_errors.clear()
    assert_clean_console(page)

    # consent, on the member's form
    readiness.get_by_role("link", name="Edit the member (ID, consent)").click()
    page.get_by_label("Consents to share data with institutions").check()
    page.get_by_label("Consent date").fill("2024-03-01")
    page.get_by_label("How consent was given").select_option(label="Signed form")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_have_text("Changes saved.")

    # the document, on the member's checklist
    documents = page.locator("#documents")
    documents.get_by_label("Copy of national ID").check()
    documents.get_by_role("button", name="Save checklist").click()
    expect(page.get_by_role("status")).to_have_text("Documents checklist saved.")

    page.locator("#registrations").get_by_role("link", name="Details and history").click()
    expect(page).to_have_url(registration_url)
    expect(page.locator("#readiness")).to_contain_text(
        "Everything the agreement requires is in place.")
    screenshot(page, "agreements-03-complete")

    page.get_by_role("button", name="Mark ready").click()
    expect(page.get_by_role("status")).to_have_text("Registration is now Ready.")
    expect(page.locator("dd.reg-status")).to_have_text("Ready")
    expect(page.locator("#history")).to_contain_text("Ready")
    screenshot(page, "agreements-04-ready")
    assert_clean_console(page)
