"""What a member reads and does beyond the first record page: their dependants' cover, the
months covered per scheme, the awareness sheet of their schemes, the cooperative's contact;
their statement and receipts as files (their own only); the code printed on their card, which
the secretary reissues; requests to correct their details, which change nothing until a
secretary accepts them; STOP sent from their phone through the gateway."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from datetime import date

import pytest
from sqlalchemy import select

from coopreg.agreements.models import DependantRegistration, DependantStatus, Registration
from coopreg.contributions import services as contribution_services
from coopreg.cooperatives.models import Cooperative
from coopreg.core.audit import AuditEvent, acting_as
from coopreg.extensions import db
from coopreg.members import services as member_services
from coopreg.members.models import ContactChannel, Member
from coopreg.messaging import services as messaging
from coopreg.selfservice.models import CardCode, CorrectionRequest, CorrectionStatus
from tests.conftest import login
from tests.contributions.helpers import make_agreement, make_member, receipt_input, register
from tests.core.test_every_page_in_spanish import ENGLISH_IN

MAX_PAGE = 50 * 1024
GATEWAY_SECRET = "gateway-secret-of-the-test-0001"


def _people(app, cooperative, count=2):
    """`count` members registered under one agreement (its scheme with texts for members),
    each with a dependant registered through their cover, January's due paid, February's
    open; and a second agreement nobody is registered under."""
    with app.test_request_context(), acting_as(None, "tests"):
        agreement = make_agreement(cooperative, scheme="Salud rural")
        agreement.schemes[0].member_benefits = "Consultas y medicinas"
        agreement.schemes[0].how_to_claim = "Lleve su cédula a la clínica"
        other = make_agreement(cooperative, scheme="Pensiones")
        people = []
        for n in range(count):
            member = make_member(cooperative, language="es", member_number=f"70{n}19",
                                 first_name=("Ana", "Berta")[n % 2],
                                 phone=f"+5068800{n:04d}")
            messaging.set_contact(member, True, ContactChannel.SMS, None)
            registration = register(agreement, member, date(2024, 1, 1))
            dependant = member_services.add_dependant(member, f"Hija {n} Mora", "child",
                                                      date(2015, 3, 1), None)
            db.session.add(DependantRegistration(
                cooperative_id=cooperative.id, registration_id=registration.id,
                dependant_id=dependant.id, status=DependantStatus.REGISTERED,
                coverage_start=date(2024, 2, 1)))
            people.append(member)
        contribution_services.generate_dues(agreement, date(2024, 1, 1), date(2024, 2, 1))
        found = []
        for member in people:
            receipt, _ = contribution_services.record_receipt(
                cooperative, receipt_input(member, "600"), None)
            found.append({"id": member.id, "number": member.member_number,
                          "phone": member.phone, "receipt": receipt.id,
                          "receipt_number": receipt.number, "agreement": agreement.id,
                          "other_agreement": other.id, "name": member.first_name})
        db.session.get(Cooperative, cooperative.id).contact = "Oficina: 2222-3333, Upala"
        db.session.commit()
    return found


def _sign_in(client, member):
    with client.session_transaction() as session:
        session.clear()
        session["member_id"] = member["id"]
        session["member_cooperative_id"] = member["cooperative_id"]
        session["member_since"] = time.time()


@pytest.fixture
def people(app, coop):
    found = _people(app, coop)
    for person in found:
        person["cooperative_id"] = coop.id
    return found


def _english_left(text: str) -> list[str]:
    return [m for m in ENGLISH_IN["es"] if m in text]


def test_the_record_shows_dependants_months_per_scheme_schemes_and_contact(client, people):
    me, other = people
    _sign_in(client, me)
    page = client.get("/me/record")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and len(page.data) < MAX_PAGE
    assert "Hija 0 Mora" in text and "Afiliada" in text  # the dependant, status in Spanish
    assert "Hija 1 Mora" not in text and other["number"] not in text
    assert "Salud rural: ene 2024" in text.replace(".", "") or "Salud rural: enero" in text
    assert "2222-3333" in text
    assert f"/me/schemes/{me['agreement']}" in text
    assert _english_left(text) == []
    sheet = client.get(f"/me/schemes/{me['agreement']}")
    assert sheet.status_code == 200 and len(sheet.data) < MAX_PAGE
    sheet_text = sheet.get_data(as_text=True)
    assert "Consultas y medicinas" in sheet_text and "Lleve su cédula" in sheet_text
    assert "<script" not in sheet_text and _english_left(sheet_text) == []
    # an agreement the member is not registered under, or none at all: as absent
    assert client.get(f"/me/schemes/{me['other_agreement']}").status_code == 404
    assert client.get("/me/schemes/999999").status_code == 404


def test_downloads_are_the_members_own(client, people):
    me, other = people
    _sign_in(client, me)
    statement = client.get("/me/statement")
    assert statement.status_code == 200
    assert statement.headers["Content-Disposition"].startswith("attachment;")
    assert statement.headers["Cache-Control"] == "no-store"
    text = statement.get_data(as_text=True)
    assert me["number"] in text and other["number"] not in text and "<script" not in text
    assert "Estado de cuenta" in text or "Estado" in text
    receipt = client.get(f"/me/receipts/{me['receipt']}/download")
    assert receipt.status_code == 200 and "attachment" in receipt.headers["Content-Disposition"]
    assert f"receipt-{me['receipt_number']}.html" in receipt.headers["Content-Disposition"]
    assert me["number"] in receipt.get_data(as_text=True)
    assert client.get(f"/me/receipts/{other['receipt']}/download").status_code == 404
    assert client.get("/me/receipts/999999/download").status_code == 404
    client.post("/me/sign-out", data={})
    assert client.get("/me/statement").status_code == 302
    assert client.get(f"/me/receipts/{me['receipt']}/download").status_code == 302


def test_a_member_sees_nothing_of_another_member_on_any_page(client, people):
    """Every member page, read by one member, names nothing of the other."""
    me, other = people
    _sign_in(client, me)
    for url in ("/me/record", "/me/statement", f"/me/receipts/{me['receipt']}",
                f"/me/receipts/{me['receipt']}/download", f"/me/schemes/{me['agreement']}",
                "/me/correction"):
        page = client.get(url)
        assert page.status_code == 200, url
        text = page.get_data(as_text=True)
        assert other["number"] not in text and "Hija 1" not in text, url
        assert len(page.data) < MAX_PAGE, url


def _card_sign_in(client, cooperative_code, number, code):
    return client.post("/me/card", data={"card-cooperative": cooperative_code,
                                         "card-member_number": number,
                                         "card-card_code": code})


def _issue(client, member_id) -> str:
    page = client.post(f"/self-service/members/{member_id}/card-code", data={})
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    text = page.get_data(as_text=True)
    return text.split("data-card-code>")[1].split("<")[0]


def test_the_printed_code_signs_in_and_a_reissued_one_replaces_it(app, client, coop, people,
                                                                 make_user):
    me = people[0]
    _uid, email = make_user(coop, "secretary")
    login(client, email, cooperative=coop)
    first = _issue(client, me["id"])
    assert len(first.replace("-", "")) == 10
    with app.app_context():
        stored = db.session.scalar(select(CardCode).where(CardCode.member_id == me["id"]))
        assert first.replace("-", "") not in stored.code_hash  # only a hash is kept
        events = db.session.scalars(select(AuditEvent).where(
            AuditEvent.entity == "member_card_codes")).all()
        assert events and all("code_hash" not in json.dumps(e.changes or {}) for e in events)
        assert events[-1].actor_id == _uid
    second = _issue(client, me["id"])
    assert second != first
    member_client = app.test_client()
    refused = _card_sign_in(member_client, coop.code, me["number"], first)
    assert refused.status_code == 422 and member_client.get("/me/record").status_code == 302
    signed = _card_sign_in(member_client, coop.code.lower(), me["number"], second.lower())
    assert signed.status_code == 302 and signed.headers["Location"].endswith("/me/record")
    assert me["number"] in member_client.get("/me/record").get_data(as_text=True)
    # another member's number with this member's code signs nobody in
    stranger = app.test_client()
    assert _card_sign_in(stranger, coop.code, people[1]["number"], second).status_code == 422


def test_printed_code_attempts_are_limited(app, client, coop, people, make_user,
                                           monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_FAILURES_ALLOWED", "3 per 15 minutes")
    me = people[0]
    _uid, email = make_user(coop, "secretary")
    login(client, email, cooperative=coop)
    code = _issue(client, me["id"])
    member_client = app.test_client()
    for _ in range(3):
        assert _card_sign_in(member_client, coop.code, me["number"],
                             "AAAAA-AAAAA").status_code == 422
    limited = _card_sign_in(member_client, coop.code, me["number"], code)
    assert limited.status_code == 422 and "intentos" in limited.get_data(as_text=True) \
        or "attempts" in limited.get_data(as_text=True)
    assert member_client.get("/me/record").status_code == 302


def test_only_the_office_issues_codes(app, client, coop, people, make_user):
    _uid, email = make_user(coop, "treasurer")
    login(client, email, cooperative=coop)
    assert client.post(f"/self-service/members/{people[0]['id']}/card-code",
                       data={}).status_code == 403


def test_a_correction_changes_nothing_until_the_secretary_accepts(app, client, coop, people,
                                                                  make_user):
    me = people[0]
    _sign_in(client, me)
    form = client.get("/me/correction")
    assert form.status_code == 200 and len(form.data) < MAX_PAGE
    assert _english_left(form.get_data(as_text=True)) == []
    empty = client.post("/me/correction", data={})
    assert empty.status_code == 422
    sent = client.post("/me/correction", data={"first_name": "Ana Lucía",
                                               "locality": "Upala", "note": "mal escrito"})
    assert sent.status_code == 302
    with app.app_context():
        member = db.session.get(Member, me["id"])
        assert member.first_name == me["name"]  # nothing changed yet
        request = db.session.scalar(select(CorrectionRequest))
        assert request.status == CorrectionStatus.PENDING
        request_id = request.id
    assert "Esperando a la oficina" in client.get("/me/record").get_data(as_text=True)

    office = app.test_client()
    _uid, email = make_user(coop, "secretary")
    login(office, email, cooperative=coop)
    home = office.get("/").get_data(as_text=True)
    assert "/self-service/corrections" in home
    listed = office.get("/self-service/corrections").get_data(as_text=True)
    assert "Ana Lucía" in listed and me["number"] in listed
    accepted = office.post(f"/self-service/corrections/{request_id}/accept", data={})
    assert accepted.status_code == 302
    with app.app_context():
        member = db.session.get(Member, me["id"])
        assert (member.first_name, member.locality) == ("Ana Lucía", "Upala")
        assert db.session.get(CorrectionRequest, request_id).status == CorrectionStatus.ACCEPTED
        audited = db.session.scalars(select(AuditEvent).where(
            AuditEvent.entity == "members", AuditEvent.entity_id == me["id"],
            AuditEvent.action == "update")).all()
        assert any("first_name" in (e.changes or {}) and e.actor_id == _uid for e in audited)
    # answered once: a second accept changes nothing
    again = office.post(f"/self-service/corrections/{request_id}/accept", data={})
    assert again.status_code == 302


def test_a_wrong_correction_is_refused_and_stays_pending_and_a_rejection_says_why(
        app, client, coop, people, make_user):
    me = people[0]
    _sign_in(client, me)
    client.post("/me/correction", data={"date_of_birth": "el 31 de febrero"})
    client.post("/me/correction", data={"email": "ana@example.org"})
    with app.app_context():
        wrong, right = db.session.scalars(select(CorrectionRequest)
                                          .order_by(CorrectionRequest.id)).all()
        wrong_id, right_id = wrong.id, right.id
    office = app.test_client()
    _uid, email = make_user(coop, "admin")
    login(office, email, cooperative=coop)
    office.post(f"/self-service/corrections/{wrong_id}/accept", data={})
    with app.app_context():
        assert db.session.get(CorrectionRequest, wrong_id).status == CorrectionStatus.PENDING
        assert db.session.get(Member, me["id"]).date_of_birth != date(2000, 2, 28)
    assert office.post(f"/self-service/corrections/{right_id}/reject",
                       data={"reason": ""}).status_code == 302
    with app.app_context():
        assert db.session.get(CorrectionRequest, right_id).status == CorrectionStatus.PENDING
    office.post(f"/self-service/corrections/{right_id}/reject",
                data={"reason": "Traiga su cédula a la oficina"})
    with app.app_context():
        assert db.session.get(CorrectionRequest, right_id).status == CorrectionStatus.REJECTED
        assert db.session.get(Member, me["id"]).email != "ana@example.org"
    text = client.get("/me/record").get_data(as_text=True)
    assert "Traiga su cédula a la oficina" in text and "Rechazada" in text


def test_another_cooperatives_request_answers_404(app, client, coop, other_coop, people,
                                                  make_user):
    _uid, email = make_user(other_coop, "admin")
    login(client, email, cooperative=other_coop)
    with app.app_context():
        from coopreg.selfservice import services

        request = services.request_correction(people[0]["id"], coop.id, {"locality": "X"},
                                              None)
        db.session.commit()
        request_id = request.id
    assert client.post(f"/self-service/corrections/{request_id}/accept",
                       data={}).status_code == 404
    assert client.post(f"/self-service/members/{people[0]['id']}/card-code",
                       data={}).status_code == 404


# ---- STOP from the gateway --------------------------------------------------------------------

@pytest.fixture
def gateway(app, coop, monkeypatch):
    monkeypatch.setitem(app.config, "MESSAGE_GATEWAYS", {"sms": {
        "secret": GATEWAY_SECRET, "cooperative": coop.code}})
    return "sms"


def _inbound(client, gateway, payload, *, secret=GATEWAY_SECRET, timestamp=None):
    body = json.dumps(payload).encode()
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    signature = hmac.new(secret.encode(), stamp.encode() + b"." + body,
                         hashlib.sha256).hexdigest()
    return client.post(f"/api/v1/messages/inbound/{gateway}", data=body, headers={
        "Content-Type": "application/json", "X-Coopreg-Timestamp": stamp,
        "X-Coopreg-Signature": f"sha256={signature}"})


def _opted_out(app, member_id) -> bool:
    with app.app_context():
        return db.session.get(Member, member_id).contact_opted_out_at is not None


@pytest.mark.parametrize("word", ["STOP", "parar", "Arrêt", "PARE", "stop."])
def test_stop_from_the_members_phone_opts_them_out(app, client, people, gateway, word):
    me, other = people
    answer = _inbound(client, gateway, {"from": me["phone"], "text": word})
    assert answer.status_code == 200 and answer.json == {"status": "stopped", "members": 1}
    assert _opted_out(app, me["id"]) and not _opted_out(app, other["id"])
    with app.app_context():
        assert db.session.scalars(select(AuditEvent).where(
            AuditEvent.entity == "members", AuditEvent.entity_id == me["id"],
            AuditEvent.actor_label == "message gateway sms")).first() is not None


def test_other_answers_and_unknown_phones_change_nothing(app, client, people, gateway):
    me = people[0]
    for text in ("Gracias", "para el lunes pago", "", "STOP por favor ya no me escriban más"):
        answer = _inbound(client, gateway, {"from": me["phone"], "text": text})
        assert answer.json["status"] == "ignored", text
    assert _inbound(client, gateway, {"from": "+50670000000", "text": "STOP"}).json == {
        "status": "ignored", "members": 0}
    assert not _opted_out(app, me["id"])


def test_unsigned_or_unknown_gateway_is_refused(app, client, people, gateway):
    me = people[0]
    assert _inbound(client, gateway, {"from": me["phone"], "text": "STOP"},
                    secret="another-secret-of-16-chars").status_code == 401
    assert _inbound(client, gateway, {"from": me["phone"], "text": "STOP"},
                    timestamp=int(time.time()) - 3600).status_code == 401
    assert _inbound(client, "whatsapp", {"from": me["phone"], "text": "STOP"}).status_code == 404
    bad = client.post(f"/api/v1/messages/inbound/{gateway}", data=b"STOP")
    assert bad.status_code == 401
    assert not _opted_out(app, me["id"])


def test_a_stop_reaches_only_the_gateways_cooperative(app, client, coop, other_coop, gateway):
    with app.test_request_context(), acting_as(None, "tests"):
        mine = make_member(coop, phone="+50688887777")
        theirs = make_member(other_coop, phone="+50688887777")
        ids = mine.id, theirs.id
        db.session.commit()
    assert _inbound(client, gateway, {"from": "8888 7777", "text": "Pare"}).json["members"] == 1
    assert _opted_out(app, ids[0]) and not _opted_out(app, ids[1])


def test_registrations_are_read_through_the_members_own(app, people):
    """The dependants shown are those of the member's own registrations."""
    with app.app_context():
        from coopreg.selfservice import services

        record = services.record_of(people[0]["id"], people[0]["cooperative_id"])
        cover = services.dependants_cover(record)
        assert [c.dependant.name for c in cover] == ["Hija 0 Mora"]
        assert all(isinstance(r, Registration) for c in cover for r, _ in c.registrations)
        assert services.months_per_scheme(record)[0][1] == [date(2024, 1, 1)]


def test_a_malformed_gateway_setting_stops_the_app(monkeypatch):
    import config

    monkeypatch.setenv("COOPREG_MESSAGE_GATEWAYS", '{"sms": {"secret": "short"}}')
    with pytest.raises(ValueError, match="COOPREG_MESSAGE_GATEWAYS"):
        config._message_gateways()
    monkeypatch.setenv("COOPREG_MESSAGE_GATEWAYS",
                       '{"sms": {"secret": "a-secret-of-16-chars", "cooperative": "CR1"}}')
    assert config._message_gateways()["sms"]["cooperative"] == "CR1"
