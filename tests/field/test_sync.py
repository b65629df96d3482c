"""The field mode through the test client: what a phone downloads for each role, each record
sent once however often it is replayed, conflicts and refusals, photos checked, and the page's
size budget."""

from __future__ import annotations

import re
import uuid
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from coopreg.contributions.models import Receipt
from coopreg.cooperatives.models import DocumentType
from coopreg.core.languages import LANGUAGE_COOKIE
from coopreg.extensions import db
from coopreg.field.models import FieldPhoto
from coopreg.members.models import Member, MemberDocument
from tests.conftest import login as first_login
from tests.field.helpers import jpeg, png

TODAY = date.today().isoformat()


def _key() -> str:
    return str(uuid.uuid4())


def _enrol(key: str, **data) -> dict:
    values = {"first_name": "Lucía", "last_name": "Campo", "sex": "female",
              "date_of_birth": "1985-03-02", "locality": "Pital", "sector": "agriculture",
              "joined_on": TODAY, "consent_given": True, "consent_date": TODAY,
              "consent_method": "signed_form"}
    values.update(data)
    return {"key": key, "kind": "enrol", "data": values}


def _receipt(key: str, member_id=None, amount="1500", **extra) -> dict:
    record = {"key": key, "kind": "receipt",
              "data": {"amount": amount, "received_on": TODAY, "method": "cash",
                       "provisional": "P-AB12CD-1"}}
    if member_id is not None:
        record["member_id"] = member_id
    record.update(extra)
    return record


def login(client, email: str, cooperative) -> None:
    """Log in as another user on the same client (whoever was logged in logs out first)."""
    client.post("/logout")
    first_login(client, email, cooperative=cooperative)


def _count(app, model, coop_id) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model)
                                 .where(model.cooperative_id == coop_id))


def test_download_gives_each_role_what_it_may_see(app, client, coop, other_coop, make_user,
                                                  make_member):
    mine = make_member(coop, locality="Pital", id_number="1-0234-0567")
    make_member(coop, locality="Aguas Zarcas", first_name="Otra")
    make_member(other_coop, locality="Pital", id_type=None)
    _id, secretary = make_user(coop, "secretary")
    login(client, secretary, cooperative=coop)
    answer = client.post("/field/download", json={"localities": ["pital"]}).get_json()
    assert [m["id"] for m in answer["members"]] == [mine.id]
    assert answer["members"][0]["id_number"] == mine.id_number
    assert answer["members"][0]["version"] == mine.version
    assert answer["document_types"] and answer["secret"]

    _id, treasurer = make_user(coop, "treasurer")
    login(client, treasurer, cooperative=coop)
    member = client.post("/field/download", json={"localities": ["Pital"]}).get_json()[
        "members"][0]
    assert "•" in member["id_number"] and member["id_number"] != mine.id_number
    assert "address" not in member and "declared_income" not in member

    refused = client.post("/field/download", json={"localities": []})
    assert refused.status_code == 422
    assert refused.get_json()["message"] == "Choose at least one locality."

    _id, viewer = make_user(coop, "viewer")
    login(client, viewer, cooperative=coop)
    assert client.post("/field/download", json={"localities": ["Pital"]}).status_code == 403


def test_a_collector_downloads_what_each_member_owes_for_the_collection_sheet(
        app, client, coop, make_user):
    from coopreg.contributions.services import generate_dues, open_dues
    from coopreg.core.audit import acting_as
    from coopreg.core.money import from_minor
    from tests.contributions.helpers import make_agreement, make_member, register

    with app.app_context(), acting_as(None, "tests"):
        agreement = make_agreement(coop)
        owing = make_member(coop, locality="Pital", first_name="Debe",
                            joined_on=date(2020, 1, 1))
        clear = make_member(coop, locality="Pital", first_name="Nada")
        register(agreement, owing, date(2024, 1, 1))
        generate_dues(agreement, date(2024, 1, 1), date(2024, 2, 1))
        db.session.commit()
        owes = sum(amount for _due, amount in open_dues(owing.id))
        owing_id, clear_id = owing.id, clear.id
    assert owes > 0
    _id, treasurer = make_user(coop, "treasurer")
    login(client, treasurer, cooperative=coop)
    got = {m["id"]: m for m in client.post("/field/download",
                                           json={"localities": ["Pital"]}).get_json()["members"]}
    assert got[owing_id]["owed"] == str(from_minor(owes, coop.currency))
    assert got[clear_id]["owed"] == str(from_minor(0, coop.currency))
    _id, secretary = make_user(coop, "secretary")
    login(client, secretary, cooperative=coop)
    got = client.post("/field/download", json={"localities": ["Pital"]}).get_json()["members"]
    assert all("owed" not in m for m in got)  # a secretary does not collect


def test_an_enrolment_and_receipts_replayed_twice_are_done_once(app, client, coop, make_user):
    _id, admin = make_user(coop, "admin")
    login(client, admin, cooperative=coop)
    enrol_key = _key()
    first = client.post("/field/sync", json=_enrol(enrol_key)).get_json()
    assert first["outcome"] == "created"
    for _ in range(2):
        again = client.post("/field/sync", json=_enrol(enrol_key)).get_json()
        assert again["outcome"] == "already_there"
        assert again["member_id"] == first["member_id"]
    assert _count(app, Member, coop.id) == 1

    keys = [_key() for _ in range(3)]
    numbers = []
    for key in keys:
        # a receipt for the member the phone enrolled, named by the enrolment's key
        answer = client.post("/field/sync",
                             json=_receipt(key, member_key=enrol_key)).get_json()
        assert answer["outcome"] == "created", answer
        assert answer["print_url"].endswith(f"/receipts/{answer['receipt_id']}/print")
        numbers.append(answer["number"])
    for key in keys:
        for _ in range(2):
            again = client.post("/field/sync", json=_receipt(key, member_key=enrol_key))
            assert again.get_json()["outcome"] == "already_there"
    assert _count(app, Receipt, coop.id) == 3
    assert numbers == list(range(numbers[0], numbers[0] + 3))
    with app.app_context():
        note = db.session.scalar(select(Receipt.note).where(Receipt.cooperative_id == coop.id,
                                                            Receipt.number == numbers[0]))
    assert "P-AB12CD-1" in note
    # the member gets the final receipt's number by message too (one per receipt, however
    # often the phone sent it): SMS or email per the member's channel (docs/messaging.md)
    from coopreg.messaging.models import MessageEvent, OutboxMessage

    with app.app_context():
        told = db.session.scalars(select(OutboxMessage).where(
            OutboxMessage.cooperative_id == coop.id,
            OutboxMessage.event == MessageEvent.RECEIPT_RECORDED)).all()
        assert sorted(m.parameters["number"] for m in told) == sorted(map(str, numbers))


def test_a_member_changed_at_the_office_is_a_conflict_until_the_user_chooses(
        app, client, coop, make_user, make_member):
    member = make_member(coop, locality="Pital", phone="8888-1111")
    _id, secretary = make_user(coop, "secretary")
    login(client, secretary, cooperative=coop)
    copy = client.post("/field/download", json={"localities": ["Pital"]}).get_json()[
        "members"][0]
    with app.app_context():  # the office changes the member meanwhile
        office = db.session.get(Member, member.id)
        office.phone = "87776666"
        db.session.commit()
    record = {"key": _key(), "kind": "update", "member_id": member.id,
              "base_version": copy["version"], "data": {"phone": "86665555"}}
    conflict = client.post("/field/sync", json=record).get_json()
    assert conflict["outcome"] == "conflict"
    assert conflict["office"]["phone"] == "87776666"
    assert "changed at the office" in conflict["message"]
    with app.app_context():
        assert db.session.get(Member, member.id).phone == "87776666"
    # keep mine: the same record again, forced
    kept = client.post("/field/sync", json={**record, "force": True}).get_json()
    assert kept["outcome"] == "created"
    assert client.post("/field/sync", json={**record, "force": True}).get_json()[
        "outcome"] == "already_there"
    with app.app_context():  # the phone's number, stored the register's way (+506…)
        assert db.session.get(Member, member.id).phone == "+50686665555"


def test_a_broken_rule_is_refused_in_the_users_language_and_the_answer_kept(
        app, client, coop, make_user, make_member):
    make_member(coop, id_number="1-0234-0567")
    _id, secretary = make_user(coop, "secretary")
    login(client, secretary, cooperative=coop)
    client.set_cookie(LANGUAGE_COOKIE, "es")
    record = _enrol(_key(), id_number="1-0234-0567")
    refused = client.post("/field/sync", json=record).get_json()
    assert refused["outcome"] == "refused"
    assert "Este número de documento ya pertenece al socio" in refused["message"], refused
    assert client.post("/field/sync", json=record).get_json()["outcome"] == "refused"
    assert _count(app, Member, coop.id) == 1


def test_roles_may_send_only_their_records(app, client, coop, make_user, make_member):
    member = make_member(coop)
    _id, treasurer = make_user(coop, "treasurer")
    login(client, treasurer, cooperative=coop)
    answer = client.post("/field/sync", json=_enrol(_key())).get_json()
    assert answer == {"outcome": "refused", "message": "Your role may not change members."}
    _id, secretary = make_user(coop, "secretary")
    login(client, secretary, cooperative=coop)
    answer = client.post("/field/sync", json=_receipt(_key(), member.id)).get_json()
    assert answer["message"] == "Your role may not record receipts."
    assert _count(app, Receipt, coop.id) == 0


def test_a_record_the_server_cannot_read_is_refused_clearly(app, client, coop, make_user,
                                                            other_coop, make_member):
    stranger = make_member(other_coop)
    _id, admin = make_user(coop, "admin")
    login(client, admin, cooperative=coop)
    assert client.post("/field/sync", data="not json").status_code == 400
    no_key = client.post("/field/sync", json={"kind": "enrol", "data": {}})
    assert no_key.status_code == 422
    assert no_key.get_json()["message"] == "The record has no valid key; it cannot be sent."
    other = client.post("/field/sync", json=_receipt(_key(), stranger.id)).get_json()
    assert other["outcome"] == "refused"
    assert other["message"] == "Choose the member who paid."
    update = client.post("/field/sync", json={"key": _key(), "kind": "update",
                                              "member_id": stranger.id, "data": {}})
    assert update.get_json()["message"] == "This member is not in the register any more."


def test_sync_needs_the_csrf_token(app, client, coop, make_user):
    _id, admin = make_user(coop, "admin")
    login(client, admin, cooperative=coop)
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        assert client.post("/field/sync", json=_enrol(_key())).status_code == 400
        token = client.get("/field/session").get_json()["csrf"]
        answer = client.post("/field/sync", json=_enrol(_key()),
                             headers={"X-CSRFToken": token})
        assert answer.get_json()["outcome"] == "created"
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def _photo(client, member_id, content, name="photo.jpg", key=None, type_id=""):
    return client.post("/field/photo", data={
        "key": key or _key(), "member_id": str(member_id), "kind": "id_document",
        "document_type_id": str(type_id), "photo": (__import__("io").BytesIO(content), name)},
        content_type="multipart/form-data")


def test_photos_are_checked_stored_counted_and_shown_to_editors_only(
        app, client, coop, other_coop, make_user, make_member):
    member = make_member(coop)
    with app.app_context():
        type_id = db.session.scalar(select(DocumentType.id).where(
            DocumentType.cooperative_id == coop.id).order_by(DocumentType.id))
    _id, secretary = make_user(coop, "secretary")
    login(client, secretary, cooperative=coop)

    wrong = _photo(client, member.id, b"%PDF-1.4 not a picture", "id.jpg")
    assert wrong.status_code == 422
    assert wrong.get_json()["message"] == ("This file is not a photo: send a JPEG, PNG or WebP "
                                           "picture.")
    app.config["FIELD_PHOTO_MAX_BYTES"], limit = 60 * 1024, app.config["FIELD_PHOTO_MAX_BYTES"]
    try:
        big = _photo(client, member.id, png() + b"\0" * (70 * 1024))
    finally:
        app.config["FIELD_PHOTO_MAX_BYTES"] = limit
    assert big.status_code == 422
    assert re.fullmatch(r"The photo is too large \(\d+ KB; at most 60 KB\)\. Take it again, or "
                        r"let the phone make it smaller\.", big.get_json()["message"])
    wide = _photo(client, member.id, png(4097, 8))
    assert wide.status_code == 422
    assert wide.get_json()["message"] == ("The photo is too large (4097 × 8 pixels; at most "
                                          "4096 on a side).")
    assert _count(app, FieldPhoto, coop.id) == 0

    key = _key()
    made = _photo(client, member.id, jpeg(), key=key, type_id=type_id).get_json()
    assert made["outcome"] == "created"
    assert _photo(client, member.id, jpeg(), key=key, type_id=type_id).get_json()[
        "outcome"] == "already_there"
    assert _count(app, FieldPhoto, coop.id) == 1
    with app.app_context():
        held = db.session.scalar(select(MemberDocument).where(
            MemberDocument.cooperative_id == coop.id, MemberDocument.member_id == member.id,
            MemberDocument.document_type_id == type_id))
    assert held is not None  # counted in the checklist
    with app.app_context():  # kept under the cooperative's folder, in the member's (the
        # folder is shared by every test of the run, so only this photo's file is looked at)
        stored = Path(app.config["FIELD_PHOTO_DIR"]) / str(coop.id) / str(member.id)
        photo = db.session.get(FieldPhoto, made["photo_id"])
        kept = stored / photo.path
        assert kept.parent == stored and kept.suffix == ".jpg" and kept.is_file()
        assert kept.stat().st_size == photo.size
    shown = client.get(f"/field/photos/{made['photo_id']}")
    assert shown.status_code == 200 and shown.mimetype == "image/jpeg"
    assert shown.data[:2] == b"\xff\xd8"

    page = client.get(f"/members/{member.id}").get_data(as_text=True)
    assert f'href="/field/photos/{made["photo_id"]}">ID document</a>' in page

    _id, treasurer = make_user(coop, "treasurer")
    login(client, treasurer, cooperative=coop)
    assert client.get(f"/field/photos/{made['photo_id']}").status_code == 403
    assert "/field/photos/" not in client.get(f"/members/{member.id}").get_data(as_text=True)
    _id, outsider = make_user(other_coop, "admin")
    login(client, outsider, cooperative=other_coop)
    assert client.get(f"/field/photos/{made['photo_id']}").status_code == 404


def test_logout_wipes_what_the_field_mode_kept_on_the_browser(client, coop, make_user):
    _id, secretary = make_user(coop, "secretary")
    login(client, secretary, cooperative=coop)
    plain = client.post("/logout")
    assert "Clear-Site-Data" not in plain.headers  # never used the field mode
    login(client, secretary, cooperative=coop)
    client.post("/field/download", json={"localities": ["Pital"]})
    assert client.post("/logout").headers["Clear-Site-Data"] == '"storage"'


def _size_budget() -> int:
    """The budget docs/field-mode.md states ("Size budget: **N KB**"), so the two cannot drift."""
    text = (Path(__file__).resolve().parents[2] / "docs" / "field-mode.md").read_text("utf-8")
    return int(re.search(r"Size budget: \*\*(\d+) KB\*\*", text).group(1)) * 1024


def _shell() -> list[str]:
    """What the service worker keeps for offline use (its SHELL list)."""
    worker = (Path(__file__).resolve().parents[2] / "coopreg" / "static" / "field" / "sw.js")
    block = re.search(r"const SHELL = \[(.*?)\];", worker.read_text("utf-8"), re.S).group(1)
    return re.findall(r'"([^"]+)"', block)


@pytest.mark.parametrize("role", ["admin", "secretary", "treasurer"])
def test_the_field_page_is_installable_self_hosted_and_within_its_size_budget(
        client, coop, make_user, role):
    """Everything the field page loads comes from this server (no CDN) and is kept by the
    service worker; the served bytes of the page, what it loads and the worker stay within
    the budget stated in docs/field-mode.md."""
    budget = _size_budget()
    _id, email = make_user(coop, role)
    login(client, email, cooperative=coop)
    page = client.get("/field/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assets = re.findall(r'(?:src|href)="([^"#]+)', html)
    assert not [a for a in assets if "//" in a], "everything comes from this server"
    loaded = {a for a in assets if a.startswith("/static/") or a.endswith(".webmanifest")}
    assert "/static/field/field.js" in loaded and "/field/manifest.webmanifest" in loaded
    shell = _shell()
    assert "/field/" in shell
    assert loaded <= set(shell), f"loaded but not kept offline: {sorted(loaded - set(shell))}"
    total = 0
    for asset in [*shell, "/field/sw.js"]:
        response = client.get(asset)
        assert response.status_code == 200, asset
        total += len(response.data)
        response.close()
    assert total <= budget, f"{total} bytes served, over the budget of {budget}"

    manifest = client.get("/field/manifest.webmanifest")
    assert manifest.mimetype == "application/manifest+json"
    assert manifest.get_json()["scope"] == "/field/"
    assert manifest.get_json()["display"] == "standalone"
    worker = client.get("/field/sw.js")
    assert worker.mimetype == "text/javascript"
    assert '"/field/"' in worker.get_data(as_text=True)


def test_the_pages_words_come_in_the_users_language(client, coop, make_user):
    """The script's sentences are a JSON catalogue the server renders in the user's language."""
    import json

    _id, email = make_user(coop, "secretary")
    login(client, email, cooperative=coop)
    client.set_cookie(LANGUAGE_COOKIE, "fr")
    html = client.get("/field/").get_data(as_text=True)
    data = json.loads(re.search(r'<script type="application/json" id="field-data">(.*?)'
                                r"</script>", html, re.S).group(1))
    assert data["strings"]["waiting"] == "En attente d'envoi (%(count)s)"
    assert data["strings"]["keep_mine"] == "Garder le mien"
    assert data["settings"]["language"] == "fr"
    assert "Mode terrain" in html
