"""In a real browser: the institution downloads a sealed batch at its desk and uploads its
answer; the cooperative's secretary sees both on the batch's page, applies the answer, and the
member is registered with the institution's number."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from python_calamine import CalamineWorkbook
from sqlalchemy import select

from coopreg.agreements.models import Registration, RegistrationStatus
from coopreg.batches import acks
from coopreg.batches import services as batch_services
from coopreg.batches.models import Acknowledgement
from coopreg.cooperatives.models import Cooperative
from coopreg.core.audit import acting_as
from coopreg.extensions import db
from coopreg.federations import desk
from tests.batches.helpers import ready_member
from tests.browser.fixtures import assert_clean_console, log_in, screenshot, serve
from tests.conftest import PASSWORD
from tests.federations.helpers import agreement_with

pytestmark = [pytest.mark.browser, pytest.mark.no_transaction]
DESK_EMAIL = "mesa@ccss.example"
MAPPING = {"id_number": "Cedula", "institution_number": "Numero", "result": "Resultado",
           "reason": "Motivo", "effective_date": "Desde"}


@pytest.fixture(scope="module")
def live_server():
    with serve("desk_browser") as server:
        yield server


def _seed(app) -> dict:
    with app.test_request_context(), acting_as(None, "tests"):
        cooperative = db.session.scalar(select(Cooperative).where(Cooperative.code == "CRBROW"))
        agreement = agreement_with(cooperative, "CCSS", "CCSS-DESK")
        member, registration = ready_member(cooperative, agreement, first_name="Ana")
        batch = batch_services.create_batch(cooperative, agreement, "enrolment", None)
        batch_services.seal_batch(batch, None, app.config["EXPORT_DIR"])
        acks.save_mapping(agreement, MAPPING, "A, OK", "R, ERROR")
        desk.set_desk_mode(cooperative, agreement.id, "desk")
        desk.create_account_for(DESK_EMAIL, "Mesa de la CCSS", PASSWORD, "CCSS", None)
        seeded = {"batch": batch.reference, "batch_id": batch.id, "id_number": member.id_number,
                  "registration_id": registration.id, "sha256": batch.sha256}
        db.session.commit()
        return seeded


def test_institution_answers_at_its_desk_and_the_secretary_applies(live_server, page,
                                                                    tmp_path):
    seeded = _seed(live_server.app)
    page.goto(live_server.url + "/login")
    page.get_by_label("Email").fill(DESK_EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Institution's desk: CCSS")).to_be_visible()
    page.get_by_role("link", name=seeded["batch"]).click()
    expect(page.locator("dd.checksum")).to_have_text(seeded["sha256"])
    screenshot(page, "desk-01-batch")
    with page.expect_download() as info:
        page.get_by_role("button", name="Download the file").click()
    target = tmp_path / info.value.suggested_filename
    info.value.save_as(target)
    rows = CalamineWorkbook.from_path(str(target)).get_sheet_by_name("Lines").to_python()
    assert seeded["id_number"] in [r[1] for r in rows[1:]]

    answer = tmp_path / "respuesta.csv"
    answer.write_bytes((f"Cedula;Numero;Resultado;Motivo;Desde\r\n{seeded['id_number']};"
                        "CC-0000077;A;;01/02/2026\r\n").encode("utf-8-sig"))
    page.get_by_label("The institution's answer (xlsx, ods, xls or CSV)").set_input_files(
        str(answer))
    page.get_by_role("button", name="Upload the answer").click()
    expect(page.locator(".flash-success")).to_contain_text("the cooperative applies it")
    expect(page.locator("table.desk-events")).to_contain_text("Downloaded")
    expect(page.locator("table.desk-events")).to_contain_text("Answer uploaded")
    screenshot(page, "desk-02-answered")
    assert_clean_console(page)
    page.get_by_role("button", name="Log out").click()

    log_in(page, live_server)
    page.goto(f"{live_server.url}/batches/{seeded['batch_id']}")
    expect(page.locator("dd.desk-note").first).to_contain_text(
        "The institution downloaded the file at its desk")
    expect(page.locator("dd.desk-note").nth(1)).to_contain_text("answer arrived")
    page.get_by_role("link", name="respuesta.csv").click()
    page.locator("summary", has_text="Apply the answers").click()
    opened = page.locator("details[open]")
    opened.get_by_label("I understand, go ahead").check()
    opened.get_by_role("button", name="Apply the answers").click()
    expect(page.locator(".flash-success")).to_be_visible()
    screenshot(page, "desk-03-applied")
    assert_clean_console(page)
    with live_server.app.app_context():
        registration = db.session.get(Registration, seeded["registration_id"])
        assert registration.status == RegistrationStatus.REGISTERED
        assert registration.institution_member_number == "CC-0000077"
        assert re.fullmatch("[0-9a-f]{64}", db.session.scalar(
            select(Acknowledgement.sha256)))
