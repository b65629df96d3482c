"""The messaging pages, the reminders command and `coopreg check`'s report of the channels."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from coopreg.core.audit import acting_as
from coopreg.extensions import db
from coopreg.members.models import ContactChannel, Member
from coopreg.messaging import services
from coopreg.messaging.models import MessageEvent, MessageTemplate
from tests.contributions.helpers import make_agreement, make_member, register


def test_the_messages_page_says_why_a_message_was_not_sent(app, coop, as_role):
    with app.test_request_context(), acting_as(None, "tests"):
        member = make_member(coop)
        services.queue_message(member, MessageEvent.ARREARS, {"amount": "1"})
        db.session.commit()
    client = as_role("treasurer")
    page = client.get("/messages/?status=skipped&sort=attempts")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "has not agreed to be contacted" in text


def test_the_admin_previews_then_saves_a_wording(app, coop, as_role):
    client = as_role("admin")
    url = "/messages/templates/edit?event=arrears&language=es"
    assert "Cuotas atrasadas" in client.get(url).get_data(as_text=True)
    preview = client.post(url, data={"action": "preview", "subject": "Aviso",
                                     "body": "{name}, debe {amount}."})
    assert "Ana Pérez, debe 12 500,00." in preview.get_data(as_text=True)
    refused = client.post(url, data={"action": "save", "subject": "", "body": "Pague {codigo}"})
    assert refused.status_code == 422 and "{codigo}" in refused.get_data(as_text=True)
    saved = client.post(url, data={"action": "save", "subject": "Aviso",
                                   "body": "{name}, debe {amount}."})
    assert saved.status_code == 302
    with app.app_context():
        template = db.session.scalar(select(MessageTemplate).where(
            MessageTemplate.cooperative_id == coop.id))
        assert template.body == "{name}, debe {amount}."
    assert client.get("/messages/templates/edit?event=nope&language=es").status_code == 404


def test_the_secretary_records_consent_and_its_channel(app, coop, as_role):
    with app.test_request_context(), acting_as(None, "tests"):
        member_id = make_member(coop).id
        db.session.commit()
    client = as_role("secretary")
    url = f"/messages/members/{member_id}/contact"
    assert client.get(url).status_code == 200
    refused = client.post(url, data={"contact_consent": "y", "contact_channel": "email",
                                     "email": ""})
    assert refused.status_code == 422
    saved = client.post(url, data={"contact_consent": "y", "contact_channel": "email",
                                   "email": "ana@example.org"})
    assert saved.status_code == 302
    with app.app_context():
        member = db.session.get(Member, member_id)
        assert (member.contact_consent, member.contact_channel, member.email) == (
            True, ContactChannel.EMAIL, "ana@example.org")


def test_reminders_send_lists_then_queues(app, coop):
    with app.test_request_context(), acting_as(None, "tests"):
        from coopreg.contributions import services as contribution_services

        agreement = make_agreement(coop)
        member = make_member(coop)
        services.set_contact(member, True, ContactChannel.SMS, None)
        register(agreement, member, date(2024, 1, 1))
        contribution_services.generate_dues(agreement, date(2024, 1, 1), date(2024, 1, 1))
        db.session.commit()
    runner = app.test_cli_runner()
    dry = runner.invoke(args=["reminders", "send", "--cooperative", coop.code,
                              "--day", "2025-01-01", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "1 reminder(s) due; nothing queued" in dry.output
    sent = runner.invoke(args=["reminders", "send", "--cooperative", coop.code,
                               "--day", "2025-01-01"])
    assert "1 reminder(s) queued" in sent.output
    again = runner.invoke(args=["reminders", "send", "--cooperative", coop.code,
                                "--day", "2025-01-01"])
    assert "1 reminder(s) queued" in again.output  # the same message, not a second one
    with app.app_context():
        from coopreg.messaging.models import OutboxMessage

        assert len(db.session.scalars(select(OutboxMessage).where(
            OutboxMessage.cooperative_id == coop.id)).all()) == 1
    bad = runner.invoke(args=["reminders", "send", "--cooperative", "NOPE"])
    assert bad.exit_code == 1 and "No cooperative" in bad.output
    bad_day = runner.invoke(args=["reminders", "send", "--cooperative", coop.code,
                                  "--day", "tomorrow"])
    assert bad_day.exit_code == 1 and "not a date" in bad_day.output


def test_check_reports_the_channels(app, monkeypatch):
    from coopreg.maintenance import check_configuration

    monkeypatch.setitem(app.config, "SMS_URL", "http://gateway.example/send")
    monkeypatch.setitem(app.config, "WHATSAPP_URL", "ftp://nope")
    messages = {f.message: f.level for f in check_configuration(app)}
    assert messages["messages by sms: HTTP gateway http://gateway.example/send"] == "info"
    assert any(m.startswith("messages by whatsapp: misconfigured") and level == "error"
               for m, level in messages.items())
    assert any(m.startswith("messages by email: not configured") for m in messages)
