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
from playwright.sync_api import expect
from sqlalchemy import func, select

from coopreg.auth import services as auth_services
from coopreg.contributions.models import Receipt
from coopreg.cooperatives.services import find_cooperative
from coopreg.core.audit import acting_as
from coopreg.extensions import db
from coopreg.field.models import FieldPhoto
from coopreg.members.models import Member
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
    expect(page.locator("body[data-field-ready='1']")).to_be_attached()


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
    photo.write_bytes(png(900, 600))

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
        assert db.session.get(Member, seeded["Carmen"]).phone == "86665555"
        diana = db.session.scalar(select(Member.id).where(Member.cooperative_id == coop_id,
                                                          Member.first_name == "Diana"))
    assert _count(app, Member, coop_id) == members_before + 2
    assert _count(app, FieldPhoto, coop_id, FieldPhoto.member_id == diana) == 1


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
