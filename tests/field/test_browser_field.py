"""A secretary-treasurer in the field, in a real Chromium with no signal: downloads a locality,
enrols members and records receipts offline, reloads the page, closes the browser and opens it
again, then comes back online and sends. Exactly those records exist once, the receipt numbers
follow each other, a member changed at the office meanwhile comes back as a conflict (both
versions side by side, the user keeps theirs), a broken rule comes back refused with its
reason, and an answer lost on the way does not make a record twice."""

from __future__ import annotations

import re
from datetime import date

import pytest
from PIL import Image
from playwright.sync_api import expect
from sqlalchemy import func, select

from coopreg.auth import services as auth_services
from coopreg.contributions.models import Receipt
from coopreg.cooperatives.models import DocumentType
from coopreg.cooperatives.services import find_cooperative
from coopreg.core.audit import acting_as
from coopreg.extensions import db
from coopreg.field import services as field_services
from coopreg.field.models import FieldPhoto
from coopreg.members.models import Member
from coopreg.members.services import missing_documents
from tests.browser.fixtures import CHROMIUM, CHROMIUM_ARGS, screenshot
from tests.conftest import PASSWORD
from tests.contributions.helpers import make_member
from tests.field.helpers import png

pytestmark = [pytest.mark.browser, pytest.mark.no_transaction]

ADMIN = "campo-admin@example.org"
TAKEN_ID = "1-0234-0567"


def _seed(app, code: str) -> dict:
    """Three members in Pital (one holds an ID number the phone will type again) and an
    admin, who both enrols and collects."""
    with app.app_context(), acting_as(None, "tests"):
        cooperative = find_cooperative(code)
        made = [make_member(cooperative, first_name=name, last_name="Campo", locality="Pital",
                            joined_on=date(2020, 1, 1), **extra)
                for name, extra in (("Alba", {"id_number": TAKEN_ID}), ("Bruno", {}),
                                    ("Carmen", {"phone": "8888-1111"}))]
        user = auth_services.create_user(ADMIN, "Campo Admin", PASSWORD)
        auth_services.grant_role(user, cooperative, "admin")
        db.session.commit()
        return {m.first_name: m.id for m in made} | {"cooperative_id": cooperative.id}


# everything the field mode keeps in IndexedDB, as text (encrypted parts as their bytes)
STORED = """() => new Promise((done) => {
  const opened = indexedDB.open("coopreg-field");
  opened.onsuccess = () => {
    const db = opened.result, out = [];
    const tx = db.transaction(["meta", "records"]);
    tx.objectStore("records").getAll().onsuccess = (e) => out.push(...e.target.result);
    tx.objectStore("meta").getAll().onsuccess = (e) => out.push(...e.target.result);
    tx.oncomplete = () => done(JSON.stringify(out, (k, v) =>
      v instanceof ArrayBuffer ? new TextDecoder().decode(v) : v));
  };
})"""


def _open(browser, profile, offline: bool = False):
    context = browser.browser_type.launch_persistent_context(
        str(profile), executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS,
        viewport={"width": 412, "height": 900}, locale="en-US", offline=offline)
    context.set_default_timeout(15_000)
    page = context.pages[0] if context.pages else context.new_page()
    page.page_errors, page.console_messages = [], []
    page.on("pageerror", lambda error: page.page_errors.append(str(error)))
    page.on("console", lambda message: page.console_messages.append(message.text))
    return context, page


def _log_in(page, url: str, name: str) -> None:
    page.goto(url + "/login")
    page.get_by_label("Email").fill(ADMIN)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name=name)).to_be_visible()


def _field(page, url: str) -> None:
    page.goto(url + "/field/")
    expect(page.locator("body[data-field-ready='1']")).to_be_attached(timeout=15_000)


def _controlled(page) -> None:
    """Wait until the service worker controls the page (its shell is then kept)."""
    for _ in range(150):
        if page.evaluate("() => !!navigator.serviceWorker.controller"):
            return
        page.wait_for_timeout(100)
    pytest.fail("the service worker never took the page")


def _waiting(page, count: int) -> None:
    expect(page.locator("#field-waiting")).to_have_text(f"Waiting to send ({count})")


def _enrol(page, first: str, last: str, born: str, id_number: str = "", photo=None) -> None:
    page.get_by_role("button", name="Enrol a member").click()
    form = page.locator("#field-member-form")
    form.get_by_label("First name").fill(first)
    form.get_by_label("Last name", exact=True).fill(last)
    form.get_by_label("Sex").select_option("female")
    form.get_by_label("Date of birth").fill(born)
    form.get_by_label("ID number").fill(id_number)
    form.get_by_label("Locality").fill("Pital")
    if photo is not None:
        form.get_by_label("Photo of the ID document").set_input_files(photo)
        # it counts as the first item of the checklist
        form.locator("[name=photo_type_id_document]").select_option(index=1)
    form.get_by_role("button", name="Keep on this phone").click()
    expect(page.locator("#field-message")).to_have_text(
        "Kept on this phone; it is sent when there is a signal.")


def _receipt(page, n: int, amount: str, member_id: int | None = None, label: str = "") -> None:
    form = page.locator("#field-receipt-form")
    if member_id is not None:
        form.get_by_label("Member").select_option(value=str(member_id))
    else:
        form.get_by_label("Member").select_option(label=label)
    form.get_by_label("Amount").fill(amount)
    form.get_by_role("button", name="Keep on this phone").click()
    expect(page.locator("#field-slip")).to_contain_text("PROVISIONAL receipt P-")
    expect(page.locator("#field-slip-number")).to_have_text(re.compile(rf"^P-[0-9A-F]{{6}}-{n}$"))


def _count(app, model, cooperative_id: int, *where) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(
            model.cooperative_id == cooperative_id, *where))


def test_field_work_offline_then_sync(live_server, browser, tmp_path):
    app, url = live_server.app, live_server.url
    seeded = _seed(app, live_server.cooperative_code)
    coop_id = seeded["cooperative_id"]
    members_before = _count(app, Member, coop_id)
    profile = tmp_path / "phone"
    photo = tmp_path / "id.png"
    photo.write_bytes(png(2400, 1200))  # a phone camera's size: made smaller on the phone

    context, page = _open(browser, profile)
    _log_in(page, url, live_server.cooperative_name)
    _field(page, url)
    # the service worker controls the page before the signal goes
    _controlled(page)
    page.get_by_label("Pital").check()
    page.get_by_role("button", name="Download").click()
    expect(page.locator("#field-message")).to_have_text("3 members downloaded to this phone.")

    context.set_offline(True)
    expect(page.locator("#field-status")).to_contain_text("Offline")
    _enrol(page, "Diana", "Monte", "1990-04-01", photo=str(photo))
    _enrol(page, "Elena", "Monte", "1991-05-02")
    _enrol(page, "Fabia", "Repetida", "1992-06-03", id_number=TAKEN_ID)  # refused at sync
    page.locator("#field-member-list li", has_text="Carmen").get_by_role("button").click()
    page.locator("#field-member-form").get_by_label("Phone").fill("86665555")
    page.locator("#field-member-form").get_by_role("button", name="Keep on this phone").click()
    _receipt(page, 1, "1000", seeded["Alba"])
    _receipt(page, 2, "2000", seeded["Bruno"])
    _receipt(page, 3, "3000", label="Diana Monte (new, waiting to send)")
    _waiting(page, 8)  # 3 enrolments, 1 photo, 1 change, 3 receipts
    # what IndexedDB holds is ciphertext: no name, number or amount readable in it
    stored = page.evaluate(STORED)
    assert "Diana" not in stored and "Carmen" not in stored and "86665555" not in stored
    assert '"state":"waiting"' in stored
    screenshot(page, "field-01-offline")

    page.reload()  # served by the service worker, with no signal
    expect(page.locator("body[data-field-ready='1']")).to_be_attached()
    _waiting(page, 8)
    context.close()

    # the office changes Carmen while the phone is away
    with app.app_context(), acting_as(None, "tests"):
        carmen = db.session.get(Member, seeded["Carmen"])
        carmen.phone = "87776666"
        db.session.commit()
    assert _count(app, Member, coop_id) == members_before  # nothing arrived yet

    context, page = _open(browser, profile, offline=True)  # the phone restarted
    _field(page, url)
    _waiting(page, 8)
    expect(page.locator("#field-status")).to_contain_text("Offline")

    # the first answer is lost on the way back: the record is done at the office all the same
    lost = []

    def lose_first_answer(route):
        if lost:
            route.continue_()
            return
        lost.append(route.fetch())
        route.abort()

    page.route("**/field/sync", lose_first_answer)
    context.set_offline(False)  # back online: it sends by itself
    expect(page.locator("#field-message")).not_to_have_text("Sending…")
    page.get_by_role("button", name="Send now").click()
    records = page.locator("#field-records")
    expect(records.locator("li[data-state=conflict]")).to_have_count(1)
    _waiting(page, 0)
    expect(records.locator("li[data-state=done]")).to_have_count(6)
    diana = records.locator("li[data-kind=enrol]", has_text="Enrolment of Diana Monte")
    # its first answer was lost: sent again, found, not made twice
    expect(diana).to_contain_text("Was already at the office")
    refused = records.locator("li[data-state=refused]")
    expect(refused).to_contain_text("This ID number already belongs to member")
    conflict = records.locator("li[data-state=conflict]")
    expect(conflict.locator("table.field-conflict tbody tr", has_text="Phone")).to_contain_text(
        "86665555")
    expect(conflict.locator("table.field-conflict tbody tr", has_text="Phone")).to_contain_text(
        "87776666")
    screenshot(page, "field-02-synced")
    conflict.get_by_role("button", name="Keep mine").click()
    expect(records.locator("li[data-state=done]")).to_have_count(7)
    finals = records.locator("li[data-kind=receipt]")
    expect(finals).to_have_count(3)
    for i in range(3):
        expect(finals.nth(i).get_by_role("link", name="Print the receipt")).to_be_visible()

    page.get_by_role("button", name="Send now").click()  # once more: nothing is sent twice
    _waiting(page, 0)
    context.close()

    with app.app_context():
        names = sorted(db.session.scalars(select(Member.first_name).where(
            Member.cooperative_id == coop_id, Member.last_name.in_(["Monte", "Repetida"]))))
        assert names == ["Diana", "Elena"]
        numbers = sorted(db.session.scalars(select(Receipt.number).where(
            Receipt.cooperative_id == coop_id)))
        assert len(numbers) == 3 and numbers == list(range(numbers[0], numbers[0] + 3))
        assert db.session.get(Member, seeded["Carmen"]).phone == "+50686665555"
        diana = db.session.scalar(select(Member).where(Member.cooperative_id == coop_id,
                                                       Member.first_name == "Diana"))
        # the photo counts in her documents checklist: its item is held, the others missing
        first_item = db.session.scalar(select(DocumentType).where(
            DocumentType.cooperative_id == coop_id, DocumentType.active.is_(True))
            .order_by(DocumentType.position, DocumentType.id))
        assert [d.document_type_id for d in diana.documents] == [first_item.id]
        assert first_item not in missing_documents(diana)
        diana = diana.id
    assert _count(app, Member, coop_id) == members_before + 2
    assert _count(app, FieldPhoto, coop_id, FieldPhoto.member_id == diana) == 1
    with app.app_context():
        kept = db.session.scalar(select(FieldPhoto).where(FieldPhoto.cooperative_id == coop_id,
                                                          FieldPhoto.member_id == diana))
        stored = field_services.photo_file(kept)
        # resized to JPEG on the phone (1600 px at most a side), under the cooperative's folder
        assert kept.content_type == "image/jpeg"
        assert stored.parent.parent.name == str(coop_id)
        with Image.open(stored) as image:
            assert (image.format, image.size) == ("JPEG", (1600, 800))


AGE_DOWNLOAD = """(days) => new Promise((done) => {
  const opened = indexedDB.open("coopreg-field");
  opened.onsuccess = () => {
    const tx = opened.result.transaction("meta", "readwrite");
    tx.objectStore("meta").put(Date.now() - (days + 1) * 86400000, "downloadedAt");
    tx.oncomplete = () => { opened.result.close(); done(true); };
  };
})"""


def test_the_phone_forgets_the_members_after_the_set_days_and_at_logout(live_server, browser,
                                                                        tmp_path):
    app, url = live_server.app, live_server.url
    email = "campo-olvido@example.org"
    with app.app_context(), acting_as(None, "tests"):
        cooperative = find_cooperative(live_server.cooperative_code)
        make_member(cooperative, first_name="Gala", last_name="Olvido", locality="Upala")
        user = auth_services.create_user(email, "Campo Olvido", PASSWORD)
        auth_services.grant_role(user, cooperative, "secretary")
        db.session.commit()
    context, page = _open(browser, tmp_path / "phone")
    page.goto(url + "/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name=live_server.cooperative_name)).to_be_visible()
    _field(page, url)
    page.get_by_label("Upala").check()
    page.get_by_role("button", name="Download").click()
    expect(page.locator("#field-member-list")).to_contain_text("Gala Olvido")

    page.evaluate(AGE_DOWNLOAD, app.config["FIELD_DATA_DAYS"])
    page.reload()
    expect(page.locator("#field-message")).to_have_text(
        f"The downloaded members were wiped from this phone (older than "
        f"{app.config['FIELD_DATA_DAYS']} days). Download them again.")
    expect(page.locator("#field-member-list li")).to_have_count(0)

    page.get_by_label("Upala").check()
    page.get_by_role("button", name="Download").click()
    expect(page.locator("#field-member-list")).to_contain_text("Gala Olvido")
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_text("You are logged out.")).to_be_visible()
    kept = page.evaluate("() => indexedDB.databases().then((all) => all.map((d) => d.name))")
    assert "coopreg-field" not in kept
    context.close()


SPANISH_ADMIN = "campo-espanol@example.org"


def test_keeping_the_offices_version_a_refusal_and_the_final_receipt_in_spanish(
        live_server, browser, tmp_path):
    """A user who works in Spanish, offline: changes a member the office changes meanwhile,
    enrols someone whose ID number is taken, collects from two members on the collection
    sheet, enrols a member already in the register and records a receipt for them. Back
    online the conflicts are shown side by side and they keep the office's version (the
    receipt then goes to the office's member); the refusal comes with its reason in Spanish;
    each receipt shows its final number and a link to the printable receipt."""
    app, url = live_server.app, live_server.url
    with app.app_context(), acting_as(None, "tests"):
        cooperative = find_cooperative(live_server.cooperative_code)
        ines = make_member(cooperative, first_name="Inés", last_name="Cutris",
                           locality="Cutris", id_number="2-0345-0678")
        jorge = make_member(cooperative, first_name="Jorge", last_name="Cutris",
                            locality="Cutris", phone="88881111")
        user = auth_services.create_user(SPANISH_ADMIN, "Campo Español", PASSWORD)
        user.locale = "es"
        auth_services.grant_role(user, cooperative, "admin")
        db.session.commit()
        coop_id, ines_id, jorge_id = cooperative.id, ines.id, jorge.id
    members_before = _count(app, Member, coop_id)
    receipts_before = _count(app, Receipt, coop_id)

    context, page = _open(browser, tmp_path / "phone")
    page.goto(url + "/login")
    page.get_by_label("Email").fill(SPANISH_ADMIN)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name=live_server.cooperative_name)).to_be_visible()
    _field(page, url)
    page.get_by_label("Cutris").check()
    page.locator("#field-download-button").click()
    expect(page.locator("#field-member-list li")).to_have_count(2)

    context.set_offline(True)
    page.locator("#field-member-list li", has_text="Jorge").get_by_role(
        "button", name="Cambiar").click()
    form = page.locator("#field-member-form")
    form.locator("[name=phone]").fill("86665555")
    form.locator("button[type=submit]").click()
    expect(page.locator("#field-waiting")).to_have_attribute("data-count", "1")
    page.locator("#field-new-member").click()
    form.locator("[name=first_name]").fill("Karla")
    form.locator("[name=last_name]").fill("Repetida")
    form.locator("[name=sex]").select_option("female")
    form.locator("[name=date_of_birth]").fill("1993-07-04")
    form.locator("[name=id_number]").fill("2-0345-0678")  # Inés's
    form.locator("button[type=submit]").click()
    expect(page.locator("#field-waiting")).to_have_attribute("data-count", "2")
    # the collection sheet: one line per member on the phone, an amount for two of them
    sheet = page.locator("#field-sheet-form")
    expect(sheet.locator("#field-sheet-lines tr")).to_have_count(2)
    sheet.get_by_label("Pagado por Inés Cutris").fill("2500")
    sheet.get_by_label("Pagado por Jorge Cutris").fill("1500,50")
    expect(page.locator("#field-sheet-total")).to_have_text(
        re.compile(r"^2 pagaron, 4\.?000,5 en total$"))
    sheet.get_by_role("button", name="Guardar la planilla en este teléfono").click()
    slips = page.locator("#field-sheet-slips li")
    expect(slips).to_have_count(2)
    expect(slips.first).to_contain_text(re.compile(r"P-[0-9A-F]{6}-1 Recib"))
    provisional = [re.search(r"P-[0-9A-F]{6}-\d", slips.nth(i).inner_text()).group(0)
                   for i in range(2)]
    assert [p[-2:] for p in provisional] == ["-1", "-2"]
    expect(page.locator("#field-waiting")).to_have_attribute("data-count", "4")
    # Inés enrolled again on the phone (same names and birth date), and a receipt for that
    # new member: a conflict, and a receipt refused until the user chooses
    page.locator("#field-new-member").click()
    form.locator("[name=first_name]").fill("Inés")
    form.locator("[name=last_name]").fill("Cutris")
    form.locator("[name=sex]").select_option("female")
    form.locator("[name=date_of_birth]").fill("1980-05-17")
    form.locator("button[type=submit]").click()
    expect(page.locator("#field-waiting")).to_have_attribute("data-count", "5")
    receipt_form = page.locator("#field-receipt-form")
    receipt_form.locator("[name=member]").select_option(
        label="Inés Cutris (nuevo, pendiente de envío)")
    receipt_form.locator("[name=amount]").fill("700")
    receipt_form.locator("button[type=submit]").click()
    expect(page.locator("#field-slip-number")).to_have_text(re.compile(r"^P-[0-9A-F]{6}-3$"))
    provisional.append(page.locator("#field-slip-number").inner_text())
    expect(page.locator("#field-waiting")).to_have_attribute("data-count", "6")

    with app.app_context(), acting_as(None, "tests"):  # the office changes Jorge meanwhile
        db.session.get(Member, jorge_id).phone = "+50687776666"
        db.session.commit()

    context.set_offline(False)  # back online: it sends by itself
    records = page.locator("#field-records")
    expect(page.locator("#field-waiting")).to_have_attribute("data-count", "0")
    refused = records.locator("li[data-state=refused][data-kind=enrol]")
    expect(refused).to_contain_text("Rechazado por la oficina")
    expect(refused.locator(".field-reason")).to_contain_text(
        "Este número de documento ya pertenece al socio")
    expect(records.locator("li[data-state=refused][data-kind=receipt]")).to_contain_text(
        "todavía no está afiliado")
    twin = records.locator("li[data-state=conflict][data-kind=enrol]")
    expect(twin).to_contain_text("mismos nombres")
    conflict = records.locator("li[data-state=conflict][data-kind=update]")
    expect(conflict).to_contain_text("Conflicto")
    phone_row = conflict.locator("table.field-conflict tbody tr")
    expect(phone_row).to_have_count(1)
    expect(phone_row).to_contain_text("86665555")
    expect(phone_row).to_contain_text("+50687776666")
    receipt = records.locator("li[data-kind=receipt]", has_text=provisional[0])
    expect(records.locator("li[data-kind=receipt]", has_text="Registrado en la oficina")
           ).to_have_count(2)
    screenshot(page, "field-03-spanish-choices")

    # the twin is the office's Inés: the receipt goes to her
    twin.get_by_role("button", name="Conservar el de la oficina").click()
    expect(records.locator("li[data-state=refused][data-kind=receipt]")).to_have_count(0)
    expect(records.locator("li[data-kind=receipt]", has_text="Registrado en la oficina")
           ).to_have_count(3)
    conflict.get_by_role("button", name="Conservar el de la oficina").click()
    expect(records.locator("li[data-state=conflict]")).to_have_count(0)
    expect(records.locator("li[data-kind=update]")).to_contain_text(
        "Se conservó la versión de la oficina")
    # the phone's copy of Jorge is now the office's
    page.locator("#field-member-list li", has_text="Jorge").get_by_role(
        "button", name="Cambiar").click()
    expect(form.locator("[name=phone]")).to_have_value("+50687776666")
    page.locator("#field-sync").click()  # once more: nothing is sent again
    expect(page.locator("#field-waiting")).to_have_attribute("data-count", "0")

    # Karla was refused and Inés's twin not enrolled
    assert _count(app, Member, coop_id) == members_before
    assert _count(app, Receipt, coop_id) == receipts_before + 3
    with app.app_context():
        assert db.session.get(Member, jorge_id).phone == "+50687776666"  # the office's
        made = db.session.scalars(select(Receipt).where(
            Receipt.cooperative_id == coop_id, Receipt.member_id.in_([ines_id, jorge_id]))
            .order_by(Receipt.number)).all()
        # gap-free, in the order they were sent, each with its provisional number
        assert [r.number for r in made] == list(range(made[0].number, made[0].number + 3))
        assert [(r.member_id, r.amount_minor) for r in made] == [
            (ines_id, 250000), (jorge_id, 150050), (ines_id, 70000)]
        assert all(p in r.note for p, r in zip(provisional, made, strict=True))
        number, final_id = made[0].number, made[0].id
    # the final, gap-free number is shown with the link to the printable receipt
    expect(receipt).to_contain_text(f"recibo número {number}")
    link = receipt.get_by_role("link", name="Imprimir el recibo")
    expect(link).to_have_attribute("href", f"/contributions/receipts/{final_id}/print")
    link.click()
    expect(page.locator(".slip-title")).to_contain_text(str(number))
    context.close()
