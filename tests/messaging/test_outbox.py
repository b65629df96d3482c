"""The outbox: messages queued from the ledger's and the registrations' signals, the rules
that hold them back (consent, STOP, the daily cap, quiet hours), and delivery through the job
worker to a real SMTP server and a local SMS gateway, with retries and backoff."""

from __future__ import annotations

import json
import threading
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from sqlalchemy import func, select

from coopreg.agreements import services as agreement_services
from coopreg.agreements.models import RegistrationStatus
from coopreg.contributions import services as contribution_services
from coopreg.cooperatives.models import Cooperative
from coopreg.core.audit import acting_as
from coopreg.core.errors import DomainError
from coopreg.extensions import db
from coopreg.members.models import ContactChannel
from coopreg.messaging import services
from coopreg.messaging.events import reminders_due
from coopreg.messaging.jobs import start_delivery
from coopreg.messaging.models import MessageEvent, MessageStatus, OutboxMessage
from tests.conftest import run_together
from tests.contributions.helpers import make_agreement, make_member, receipt_input, register

NOON = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def outbox_dir(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "MESSAGES_DIR", str(tmp_path / "outbox"))
    monkeypatch.setitem(app.config, "MESSAGES_QUIET_HOURS", "")
    return tmp_path / "outbox"


def consenting(cooperative, channel=ContactChannel.SMS, **overrides):
    member = make_member(cooperative, **overrides)
    services.set_contact(member, True, channel, overrides.get("email_address"))
    return member


def aware(moment: datetime) -> datetime:
    """SQLite gives back UTC times without their zone."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _messages(cooperative_id):
    return db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.cooperative_id == cooperative_id).order_by(OutboxMessage.id)).all()


def test_a_receipt_queues_one_confirmation_and_the_worker_sends_it(app, cr, outbox_dir):
    agreement = make_agreement(cr)
    member = consenting(cr)
    register(agreement, member, date(2024, 1, 1))
    receipt, _ = contribution_services.record_receipt(cr, receipt_input(member, "600"), None)
    message, = _messages(cr.id)
    assert (message.event, message.status, message.recipient) == (
        MessageEvent.RECEIPT_RECORDED, MessageStatus.QUEUED, member.phone)
    receipt_recorded_again = contribution_services.receipt_recorded
    receipt_recorded_again.send(receipt)  # the same news twice: still one message
    assert len(_messages(cr.id)) == 1
    db.session.commit()
    start_delivery(cr.id)  # the job worker's path (JOBS_IMMEDIATE runs it in its own thread)
    db.session.expire_all()
    message = _messages(cr.id)[0]
    assert message.status == MessageStatus.SENT and message.provider_id.startswith("file:")
    line = json.loads((outbox_dir / "sms.jsonl").read_text(encoding="utf-8").splitlines()[0])
    assert f"(receipt {receipt.number})" in line["body"] and line["to"] == member.phone


def test_no_consent_no_address_and_stop_hold_messages_back_with_the_reason(cr, outbox_dir):
    silent = make_member(cr)
    no_email = consenting(cr)
    no_email.contact_channel = ContactChannel.EMAIL
    stopped = consenting(cr)
    queued = services.queue_message(stopped, MessageEvent.ARREARS, {"amount": "1"})
    assert queued.status == MessageStatus.QUEUED
    assert services.opt_out(stopped) == 1
    db.session.refresh(queued)
    refused = [services.queue_message(m, MessageEvent.ARREARS, {"amount": "1"})
               for m in (silent, no_email, stopped)]
    assert [m.status for m in refused] == [MessageStatus.SKIPPED] * 3
    said = [services.say_error(m.error) for m in (*refused, queued)]
    assert "not agreed" in said[0] and "email" in said[1]
    assert "STOP" in said[2] and "STOP" in said[3]
    code = services.queue_message(silent, MessageEvent.ONE_TIME_CODE, {"code": "123456"})
    assert code.status == MessageStatus.QUEUED  # the member asked for it


def test_the_daily_cap_and_quiet_hours(app, cr, outbox_dir, monkeypatch):
    member = consenting(cr)
    made = [services.queue_message(member, MessageEvent.DUE_SOON, {"amount": str(i)},
                                   now=NOON) for i in range(4)]
    assert [m.status for m in made] == [MessageStatus.QUEUED] * 3 + [MessageStatus.SKIPPED]
    assert "daily limit" in services.say_error(made[3].error)
    monkeypatch.setitem(app.config, "MESSAGES_QUIET_HOURS", "21-7")
    late = datetime(2026, 6, 1, 22, 30, tzinfo=UTC)
    other = consenting(cr)
    reminder = services.queue_message(other, MessageEvent.DUE_SOON, {}, now=late)
    assert aware(reminder.next_attempt_at) == datetime(2026, 6, 2, 7, 0, tzinfo=UTC)
    code = services.queue_message(other, MessageEvent.ONE_TIME_CODE, {"code": "1"}, now=late)
    assert aware(code.next_attempt_at) == late
    assert services.deliver_due(cr.id, now=late).sent == 1  # the code only
    db.session.refresh(reminder)
    assert reminder.status == MessageStatus.QUEUED


def test_a_registration_registered_or_rejected_tells_the_member(cr, outbox_dir):
    agreement = make_agreement(cr)
    member = consenting(cr)
    registration = register(agreement, member, date(2024, 1, 1),
                            status=RegistrationStatus.SUBMITTED)
    registration.coverage_start = None
    agreement_services.transition_registration(registration, RegistrationStatus.REJECTED, None,
                                               rejection_reason="ID unreadable")
    message, = _messages(cr.id)
    assert message.event == MessageEvent.REGISTRATION_REJECTED
    assert "ID unreadable" in services.render(message).body


class Gateway(BaseHTTPRequestHandler):
    answers: list[int] = []
    seen: list[tuple[dict, str]] = []

    def do_POST(self):  # noqa: N802 - the http.server's name
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        Gateway.seen.append((body, self.headers.get("Authorization", "")))
        code = Gateway.answers.pop(0) if Gateway.answers else 200
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(json.dumps({"messages": [{"id": f"gw-{len(Gateway.seen)}"}]}).encode())

    def log_message(self, *args):
        return None


@pytest.fixture
def gateway(app, monkeypatch):
    server = HTTPServer(("127.0.0.1", 0), Gateway)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    Gateway.answers, Gateway.seen = [], []
    monkeypatch.setitem(app.config, "SMS_URL", f"http://127.0.0.1:{server.server_port}/send")
    monkeypatch.setitem(app.config, "SMS_TOKEN", "secret-token")
    monkeypatch.setitem(app.config, "SMS_PAYLOAD", '{"to": "{to}", "message": {"text": "{body}"}}')
    monkeypatch.setitem(app.config, "SMS_ID_FIELD", "messages.0.id")
    monkeypatch.setitem(app.config, "MESSAGES_QUIET_HOURS", "")
    yield Gateway
    server.shutdown()
    server.server_close()


def test_the_sms_gateway_fails_then_the_retry_sends(app, cr, gateway, monkeypatch):
    monkeypatch.setitem(app.config, "MESSAGES_BACKOFF_SECONDS", 60)
    member = consenting(cr)
    message = services.queue_message(member, MessageEvent.DUE_SOON, {"amount": "5"}, now=NOON)
    gateway.answers = [503]
    done = services.deliver_due(cr.id, now=NOON)
    assert (done.sent, done.retrying) == (0, 1)
    db.session.refresh(message)
    assert message.status == MessageStatus.QUEUED and message.attempts == 1
    assert "503" in message.error
    assert aware(message.next_attempt_at) == NOON + timedelta(seconds=60)
    assert services.deliver_due(cr.id, now=NOON + timedelta(seconds=30)).sent == 0  # not yet
    assert services.deliver_due(cr.id, now=NOON + timedelta(seconds=61)).sent == 1
    db.session.refresh(message)
    assert (message.status, message.provider_id, message.attempts) == (
        MessageStatus.SENT, "gw-2", 2)
    body, auth = gateway.seen[-1]
    assert body["to"] == member.phone and "5" in body["message"]["text"]
    assert auth == "Bearer secret-token"


def test_after_the_last_attempt_the_message_fails_with_the_reason(app, cr, gateway, monkeypatch):
    monkeypatch.setitem(app.config, "MESSAGES_MAX_ATTEMPTS", 2)
    member = consenting(cr)
    message = services.queue_message(member, MessageEvent.DUE_SOON, {}, now=NOON)
    gateway.answers = [500, 500]
    services.deliver_due(cr.id, now=NOON)
    assert services.deliver_due(cr.id, now=NOON + timedelta(hours=1)).failed == 1
    db.session.refresh(message)
    assert message.status == MessageStatus.FAILED and "500" in message.error
    assert services.backoff(3) == timedelta(seconds=4 * app.config["MESSAGES_BACKOFF_SECONDS"])


def test_email_reaches_a_real_smtp_server(app, cr, monkeypatch, outbox_dir):
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Sink

    received = []

    class Keep(Sink):
        async def handle_DATA(self, server, session, envelope):  # noqa: N802
            received.append(envelope)
            return "250 OK"

    port = free_port()
    controller = Controller(Keep(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        monkeypatch.setitem(app.config, "MAIL_URL", f"smtp://127.0.0.1:{port}")
        monkeypatch.setitem(app.config, "MAIL_FROM", "coop@example.org")
        member = make_member(cr, language="fr")
        services.set_contact(member, True, ContactChannel.EMAIL, "ana@example.org")
        message = services.queue_message(member, MessageEvent.ARREARS, {"amount": "7 000"})
        assert services.deliver_due(cr.id).sent == 1
    finally:
        controller.stop()
    envelope, = received
    assert envelope.rcpt_tos == ["ana@example.org"]
    text = envelope.content.decode()
    assert "Cotisations en retard" in text and "7 000" in text
    db.session.refresh(message)
    assert message.provider_id and message.provider_id in text


def test_an_unreachable_smtp_server_is_retried(app, cr, monkeypatch, outbox_dir):
    monkeypatch.setitem(app.config, "MAIL_URL", "smtp://127.0.0.1:9")
    member = make_member(cr)
    services.set_contact(member, True, ContactChannel.EMAIL, "ana@example.org")
    services.queue_message(member, MessageEvent.ARREARS, {})
    assert services.deliver_due(cr.id).retrying == 1


def test_reminders_of_dues_coming_up_and_of_arrears(app, cr, outbox_dir):
    agreement = make_agreement(cr)
    payer, debtor = consenting(cr), consenting(cr)
    for member in (payer, debtor):
        register(agreement, member, date(2024, 1, 1))
    contribution_services.generate_dues(agreement, date(2024, 1, 1), date(2024, 1, 1))
    due_date = db.session.scalar(select(func.min(contribution_services.Due.due_date)).where(
        contribution_services.Due.cooperative_id == cr.id))
    contribution_services.record_receipt(cr, receipt_input(payer, "100000"), None)
    soon = reminders_due(cr, due_date - timedelta(days=app.config["MESSAGES_DUE_REMINDER_DAYS"]))
    assert [(r.member.id, r.event) for r in soon] == [(debtor.id, MessageEvent.DUE_SOON)]
    late = reminders_due(cr, due_date + timedelta(days=200))
    assert [(r.member.id, r.event) for r in late] == [(debtor.id, MessageEvent.ARREARS)]


def test_templates_are_checked_saved_and_used(cr, outbox_dir):
    with pytest.raises(DomainError, match="{code}"):
        services.save_template(cr, "arrears", "es", "", "Pague {code}")
    services.save_template(cr, "arrears", "es", "Aviso", "{name}: debe {amount}.")
    member = consenting(cr, language="es")
    message = services.queue_message(member, MessageEvent.ARREARS, {"amount": "9"})
    assert services.render(message).body == f"{member.first_name}: debe 9."


@pytest.mark.no_transaction
@pytest.mark.postgres_only
def test_two_workers_never_send_a_message_twice(committed_app, tmp_path):
    app = committed_app
    app.config.update(MESSAGES_DIR=str(tmp_path), MESSAGES_QUIET_HOURS="")
    with app.test_request_context(), acting_as(None, "tests"):
        from coopreg.cooperatives.services import create_cooperative

        cooperative = create_cooperative("TWOW", "Two workers", "CR", "CRC")
        for _ in range(30):
            services.queue_message(consenting(cooperative), MessageEvent.DUE_SOON, {})
        cooperative_id = cooperative.id
        db.session.commit()

    def work(_i):
        with app.app_context():
            sent = 0
            for _round in range(5):
                sent += services.deliver_due(cooperative_id, limit=4).sent
            return sent

    results = run_together(2, work)
    assert sum(results) == 30, results
    lines = (tmp_path / "sms.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 30 and len({json.loads(line)["id"] for line in lines}) == 30
    with app.app_context():
        statuses = db.session.scalars(select(OutboxMessage.status).where(
            OutboxMessage.cooperative_id == cooperative_id)).all()
        assert set(statuses) == {MessageStatus.SENT}
        db.session.get(Cooperative, cooperative_id)


def test_the_worker_round_queues_the_reminders_once_a_day_and_delivers(app, cr, outbox_dir):
    from coopreg.jobs.models import Job, JobStatus
    from coopreg.messaging.jobs import DELIVER, REMINDERS, schedule_once

    agreement = make_agreement(cr)
    member = consenting(cr)
    register(agreement, member, date(2024, 1, 1))
    contribution_services.generate_dues(agreement, date(2024, 1, 1), date(2024, 1, 1))
    db.session.commit()
    reminded: dict = {}
    schedule_once(date(2025, 1, 1), reminded)  # arrears by then
    jobs = db.session.scalars(select(Job).where(Job.cooperative_id == cr.id)).all()
    assert {(job.kind, job.status) for job in jobs} == {(REMINDERS, JobStatus.SUCCEEDED),
                                                        (DELIVER, JobStatus.SUCCEEDED)}
    message, = _messages(cr.id)
    assert (message.event, message.status) == (MessageEvent.ARREARS, MessageStatus.SENT)
    schedule_once(date(2025, 1, 1), reminded)  # the same day: no second reminders job
    assert len(db.session.scalars(select(Job).where(
        Job.cooperative_id == cr.id, Job.kind == REMINDERS)).all()) == 1
