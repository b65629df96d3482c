"""Member self-service: a code sent by the outbox signs a member in; they read only their own
record (another member's receipt, or its download, answers 404, like a missing one); wrong codes
are limited; the journey (record, a scheme's awareness sheet, a correction request, a receipt)
works in Chromium at 320 px with JavaScript off, each page under 50 KB."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from coopreg.contributions import services as contribution_services
from coopreg.core.audit import acting_as
from coopreg.extensions import db
from coopreg.members.models import ContactChannel, Member
from coopreg.messaging import services as messaging
from tests.contributions.helpers import make_agreement, make_member, receipt_input, register

MAX_PAGE = 50 * 1024


def _members_with_receipts(app, cooperative, tmp_dir=None):
    with app.test_request_context(), acting_as(None, "tests"):
        agreement = make_agreement(cooperative)
        people = []
        for _ in range(2):
            member = make_member(cooperative, language="es")
            messaging.set_contact(member, True, ContactChannel.SMS, None)
            register(agreement, member, date(2024, 1, 1))
            receipt, _ = contribution_services.record_receipt(
                cooperative, receipt_input(member, "600"), None)
            people.append((member.id, member.member_number, member.phone, receipt.id))
        db.session.commit()
    return people


def _code_sent_to(outbox: Path, phone: str) -> str:
    lines = [json.loads(line) for line in
             (outbox / "sms.jsonl").read_text(encoding="utf-8").splitlines()]
    body = [line["body"] for line in lines if line["to"] == phone and "código" in line["body"]]
    return body[-1].split("código es ")[1][:6]


@pytest.fixture
def outbox(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "MESSAGES_DIR", str(tmp_path))
    monkeypatch.setitem(app.config, "MESSAGES_QUIET_HOURS", "")
    return tmp_path


def _sign_in(client, code_of, cooperative_code, number, phone):
    client.post("/me/", data={"cooperative": cooperative_code, "member_number": number})
    return client.post("/me/code", data={"code": code_of(phone)})


def test_a_member_sees_only_their_own_record(app, client, coop, outbox):
    (mine_id, number, phone, my_receipt), (_, _, _, their_receipt) = \
        _members_with_receipts(app, coop)
    signed = _sign_in(client, lambda p: _code_sent_to(outbox, p), coop.code, number, phone)
    assert signed.status_code == 302 and signed.headers["Location"].endswith("/me/record")
    page = client.get("/me/record")
    assert page.status_code == 200 and len(page.data) < MAX_PAGE
    text = page.get_data(as_text=True)
    assert number in text and "Sus recibos" in text or "Your receipts" in text
    assert client.get(f"/me/receipts/{my_receipt}").status_code == 200
    assert client.get(f"/me/receipts/{their_receipt}").status_code == 404
    assert client.get("/me/receipts/999999").status_code == 404
    assert client.get(f"/me/receipts/{my_receipt}/download").status_code == 200
    assert client.get(f"/me/receipts/{their_receipt}/download").status_code == 404
    assert client.get("/me/statement").status_code == 200
    assert client.get("/members/").status_code == 302  # a member is no staff user
    client.post("/me/stop", data={})
    with app.app_context():
        assert db.session.get(Member, mine_id).contact_opted_out_at is not None
    client.post("/me/sign-out", data={})
    assert client.get("/me/record").status_code == 302


def test_a_wrong_code_is_refused_and_attempts_are_limited(app, client, coop, outbox,
                                                          monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_FAILURES_ALLOWED", "3 per 15 minutes")
    (_, number, phone, _), _other = _members_with_receipts(app, coop)
    client.post("/me/", data={"cooperative": coop.code, "member_number": number})
    for _ in range(3):
        refused = client.post("/me/code", data={"code": "000000"})
        assert refused.status_code == 422
    right = _code_sent_to(outbox, phone)
    limited = client.post("/me/code", data={"code": right})
    assert limited.status_code == 422 and client.get("/me/record").status_code == 302


def test_an_unknown_number_gets_the_same_answer_and_no_message(app, client, coop, outbox):
    answer = client.post("/me/", data={"cooperative": coop.code, "member_number": "99999"})
    assert answer.status_code == 302
    assert not (outbox / "sms.jsonl").exists()
    assert client.post("/me/code", data={"code": "123456"}).status_code == 422


@pytest.mark.browser
@pytest.mark.no_transaction
def test_the_journey_on_a_basic_phone(live_server, browser, tmp_path):
    app = live_server.app
    app.config.update(MESSAGES_DIR=str(tmp_path), MESSAGES_QUIET_HOURS="")
    from coopreg.cooperatives.services import find_cooperative

    with app.app_context():
        cooperative = find_cooperative(live_server.cooperative_code)
        db.session.expunge(cooperative)
    (_, number, phone, _), _other = _members_with_receipts(app, cooperative)
    context = browser.new_context(viewport={"width": 320, "height": 640},
                                  java_script_enabled=False, locale="es-CR")
    context.route("**/favicon.svg", lambda route: route.fulfill(status=204))
    page = context.new_page()
    try:
        sizes = []
        page.on("response", lambda r: sizes.append(len(r.body()))
                if "/me" in r.url and r.status == 200 else None)
        page.goto(live_server.url + "/me/")
        page.fill("#cooperative", live_server.cooperative_code)
        page.fill("#member_number", number)
        page.click("button[type=submit]")
        page.fill("#code", _code_sent_to(tmp_path, phone))
        page.click("button[type=submit]")
        assert page.url.endswith("/me/record")
        assert number in page.inner_text("main")
        assert page.evaluate("document.documentElement.scrollWidth") <= 320
        page.click("text=/Lo que le da|What it gives you/")
        assert page.url.split("/me/")[1].startswith("schemes/")
        assert page.evaluate("document.documentElement.scrollWidth") <= 320
        page.go_back()
        page.click("text=/Pedir una corrección|Ask for a correction/")
        assert page.evaluate("document.documentElement.scrollWidth") <= 320
        page.fill("#locality", "Upala")
        page.click("button[type=submit]")
        assert page.url.endswith("/me/record")
        assert "Upala" in page.inner_text("main")
        assert page.evaluate("document.documentElement.scrollWidth") <= 320
        page.click("text=/Recibo \\d|Receipt \\d/")
        assert page.evaluate("document.documentElement.scrollWidth") <= 320
        assert sizes and max(sizes) < MAX_PAGE
    finally:
        context.close()
