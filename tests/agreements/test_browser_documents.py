"""In a real browser: from a member's page, the secretary opens the member's registration
summary and the awareness sheet of their agreement, both in the member's Spanish; each prints
without the navigation and fits a phone's width."""

from __future__ import annotations

import re
from datetime import date

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from coopreg.agreements import services
from coopreg.agreements.models import RegistrationStatus
from coopreg.cooperatives.models import Cooperative, DocumentType
from coopreg.core.audit import acting_as
from coopreg.extensions import db
from coopreg.members import services as member_services
from tests.agreements.conftest import FLAT
from tests.browser.fixtures import (  # noqa: F401 - `browser` and `page` are fixtures
    assert_clean_console,
    log_in,
    screenshot,
    serve,
)
from tests.conftest import member_data

pytestmark = [pytest.mark.browser, pytest.mark.no_transaction]

CLAIM = ("1. Vaya a su EBAIS con su cédula de identidad.\n"
         "2. Entregue la boleta de incapacidad en la cooperativa en tres días hábiles.\n"
         "Teléfono de la cooperativa: 2546-0000.")


@pytest.fixture(scope="module")
def live_server():
    """The app over HTTP on a database of this module's own (see tests/browser/fixtures.py)."""
    with serve("documents_browser") as server:
        yield server


def _seed(live_server) -> int:
    """An agreement whose health scheme has texts for members; Lucía, who reads Spanish,
    registered in it with one dependant. Returns her id."""
    with live_server.app.app_context(), acting_as(None, "tests"):
        cooperative = db.session.scalar(select(Cooperative).where(
            Cooperative.code == live_server.cooperative_code))
        cooperative.contact = "Del parque de San Marcos 100 m al sur · Tel. 2546-0000"
        id_copy = db.session.scalar(select(DocumentType).where(
            DocumentType.cooperative_id == cooperative.id,
            DocumentType.name == "Copy of national ID"))
        institution = services.create_institution(
            cooperative, "Caja Costarricense de Seguro Social", "CCSS", "CR")
        scheme = services.create_scheme(
            institution, "Seguro de Salud", ["medical_care", "sickness", "maternity"],
            "Atención médica en el EBAIS, las clínicas y los hospitales de la Caja.\n"
            "Subsidio por incapacidad y por maternidad.", CLAIM)
        agreement = services.create_agreement(cooperative, {
            "institution_id": institution.id, "reference": "CCSS-PRINT",
            "valid_from": date(2024, 1, 1), "scheme_ids": [scheme.id],
            "document_type_ids": [id_copy.id]}, FLAT, None)
        member = member_services.create_member(cooperative, member_data(
            first_name="Lucía", last_name="Campos", second_last_name="Vargas",
            id_number="2-0345-0678", language="es"), confirm_duplicate=True)
        member_services.set_documents(member, {id_copy.id: date(2024, 1, 1)})
        member_services.add_dependant(member, "Mateo Campos", "child", date(2016, 4, 2), None)
        registration = services.enrol_member(agreement, member, None)
        for status in (RegistrationStatus.READY, RegistrationStatus.SUBMITTED):
            services.transition_registration(registration, status, None)
        services.transition_registration(registration, RegistrationStatus.REGISTERED, None,
                                         institution_number="CC-7654321",
                                         coverage_start=date(2024, 3, 1))
        db.session.commit()
        return member.id


def _fits_the_width(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_member_documents_open_from_the_member_page_and_print(live_server, page):  # noqa: F811
    member_id = _seed(live_server)
    log_in(page, live_server)

    page.goto(f"{live_server.url}/members/{member_id}")
    page.get_by_role("link", name="Print registration summary").click()
    expect(page).to_have_url(re.compile(rf"/agreements/members/{member_id}/registration-summary$"))
    document = page.locator("article.member-document")
    expect(document).to_contain_text("Lucía Campos Vargas")
    expect(document).to_contain_text("CC-7654321")
    expect(document).to_contain_text("Mateo Campos")
    expect(document).to_contain_text("Tel. 2546-0000")
    # in the member's Spanish: labels, statuses and dates
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(document).to_contain_text("Número de socio")
    expect(document).to_contain_text("Afiliada")
    expect(document).to_contain_text("1 mar 2024")
    screenshot(page, "documents-01-registration-summary")
    page.emulate_media(media="print")
    expect(page.locator("header.topbar")).to_be_hidden()
    expect(page.locator("[data-print]")).to_be_hidden()
    screenshot(page, "documents-02-registration-summary-print")
    page.emulate_media(media="screen")
    page.set_viewport_size({"width": 390, "height": 800})
    assert _fits_the_width(page)
    screenshot(page, "documents-03-registration-summary-phone")
    assert_clean_console(page)

    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(f"{live_server.url}/members/{member_id}")
    page.locator("#registrations").get_by_role("link", name="Awareness sheet").click()
    expect(page).to_have_url(re.compile(r"/awareness-sheet/members/\d+$"))
    sheet = page.locator("article.awareness-sheet")
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(sheet).to_contain_text("Lucía Campos Vargas")
    expect(sheet).to_contain_text("Afiliada")
    expect(sheet).to_contain_text("Seguro de Salud")
    expect(sheet).to_contain_text("Vaya a su EBAIS con su cédula de identidad.")
    expect(sheet).to_contain_text("Atención médica")
    screenshot(page, "documents-04-awareness-sheet")
    # another language from the chooser: the frame changes, the typed texts stay as typed
    page.locator("select#lang").select_option("en")
    page.locator("form.language-choice button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"\?lang=en$"))
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(sheet).to_contain_text("How to claim")
    expect(sheet).to_contain_text("Registered")
    expect(sheet).to_contain_text("Vaya a su EBAIS con su cédula de identidad.")
    page.emulate_media(media="print")
    expect(page.locator("form.language-choice")).to_be_hidden()
    screenshot(page, "documents-05-awareness-sheet-print")
    page.emulate_media(media="screen")
    page.set_viewport_size({"width": 390, "height": 800})
    assert _fits_the_width(page)
    screenshot(page, "documents-06-awareness-sheet-phone")
    assert_clean_console(page)
