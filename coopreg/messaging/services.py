"""The outbox's rules: who may be written to and how often, what a message says, and how it
is sent once and only once.

- A message is queued in the transaction of what it tells (a receipt, a registration), so a
  rolled-back receipt sends nothing; `dedup_key` makes queuing the same news twice a no-op.
- Nothing is sent without the member's consent to be contacted, after an opt-out ("STOP"),
  without an address on the chosen channel, or beyond the daily cap per member: such a
  message is kept as `skipped` with the reason, so the treasurer's page says why. The
  one-time code a member asks for is theirs: consent and the cap do not hold it back.
- No message leaves in the quiet hours (codes do).
- Delivery (`deliver_due`, run by the job worker) claims a message before sending it, with a
  conditional change committed at once (and `FOR UPDATE SKIP LOCKED` on PostgreSQL): of two
  workers only one sends it. The outcome is committed right after the send. A failed send is
  tried again after an exponentially growing wait, up to MESSAGES_MAX_ATTEMPTS; a message a
  dead worker left `sending` is failed, never sent again (it may have gone)."""

from __future__ import annotations

import logging
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update

from coopreg.cooperatives.models import Cooperative
from coopreg.core.errors import DomainError
from coopreg.core.languages import LANGUAGES, language_or_default
from coopreg.core.models import utcnow
from coopreg.core.phones import parse_phone
from coopreg.core.tenancy import get_scoped, unscoped
from coopreg.core.unit_of_work import checkpoint
from coopreg.extensions import db
from coopreg.members.models import ContactChannel, Member
from coopreg.messaging.channels import ChannelError, Outgoing, channel_for
from coopreg.messaging.models import (
    MESSAGE_LIFECYCLE,
    MessageEvent,
    MessageStatus,
    MessageTemplate,
    OutboxMessage,
)
from coopreg.messaging.texts import default_text, fill, unknown_placeholders

log = logging.getLogger(__name__)
S = MessageStatus
# The app's own reasons are kept as codes and said in the reader's language (`say_error`);
# a channel's error (a gateway's answer) is kept as it came.
REASON_PREFIX = "reason:"
REASONS = {
    "no_email": _l("No email address on record."),
    "no_phone": _l("No phone number on record."),
    "stopped": _l("The member asked not to be contacted (STOP)."),
    "no_consent": _l("The member has not agreed to be contacted."),
    "daily_cap": _l("The daily limit of messages to this member was reached."),
    "interrupted": _l("The sending was interrupted; the message is not sent again, as it "
                      "may have gone."),
}


def say_error(error: str | None) -> str:
    """A message's error as the reader reads it."""
    if error and error.startswith(REASON_PREFIX):
        return str(REASONS.get(error[len(REASON_PREFIX):], error))
    return error or ""


# a message claimed this long ago and still `sending`: its worker died mid-send
STALE_SENDING = timedelta(minutes=15)


# ---- who may be written to -----------------------------------------------------------------

def address_of(member: Member, channel: ContactChannel) -> str | None:
    if channel == ContactChannel.EMAIL:
        return member.email or None
    return member.phone or None


def _refusal(member: Member, event: MessageEvent, channel: ContactChannel,
             now: datetime) -> str | None:
    """Why this message may not go (a code of `REASONS`), or None."""
    if address_of(member, channel) is None:
        return "no_email" if channel == ContactChannel.EMAIL else "no_phone"
    if event == MessageEvent.ONE_TIME_CODE:
        return None
    if member.contact_opted_out_at is not None:
        return "stopped"
    if not member.contact_consent:
        return "no_consent"
    start = datetime.combine(_local_today(now), time(0), tzinfo=_zone()).astimezone(
        now.tzinfo)
    today = db.session.scalar(select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.cooperative_id == member.cooperative_id,
        OutboxMessage.member_id == member.id, OutboxMessage.created_at >= start,
        OutboxMessage.status != S.SKIPPED,
        OutboxMessage.event != MessageEvent.ONE_TIME_CODE))
    if today >= current_app.config["MESSAGES_PER_MEMBER_DAY"]:
        return "daily_cap"
    return None


# ---- quiet hours ---------------------------------------------------------------------------

def _zone() -> ZoneInfo:
    return ZoneInfo(current_app.config.get("MESSAGES_TIMEZONE") or "UTC")


def _local_today(now: datetime) -> date:
    return now.astimezone(_zone()).date()


def quiet_hours() -> tuple[int, int] | None:
    """(start, end) hours of the quiet period, or None when there is none ("" or "0-0")."""
    text = (current_app.config.get("MESSAGES_QUIET_HOURS") or "").strip()
    if not text:
        return None
    try:
        start, end = (int(part) for part in text.split("-"))
    except ValueError:
        raise ValueError(f"COOPREG_MESSAGES_QUIET_HOURS must read like 21-7, not {text!r}"
                         ) from None
    if start == end:
        return None
    return start % 24, end % 24


def is_quiet(now: datetime) -> bool:
    hours = quiet_hours()
    if hours is None:
        return False
    hour = now.astimezone(_zone()).hour
    start, end = hours
    return start <= hour < end if start < end else hour >= start or hour < end


def after_quiet_hours(now: datetime) -> datetime:
    """`now`, or the end of the quiet period it falls in."""
    if not is_quiet(now):
        return now
    local = now.astimezone(_zone())
    end = local.replace(hour=quiet_hours()[1], minute=0, second=0, microsecond=0)
    if end <= local:
        end += timedelta(days=1)
    return end.astimezone(now.tzinfo)


# ---- queuing ---------------------------------------------------------------------------------

def member_language(member: Member, cooperative: Cooperative) -> str:
    return language_or_default(member.language or cooperative.locale)


def queue_message(member: Member, event: MessageEvent, parameters: dict[str, Any], *,
                  dedup_key: str | None = None, channel: ContactChannel | None = None,
                  now: datetime | None = None) -> OutboxMessage:
    """Queue `event`'s message to `member` on their channel (or `channel`), in the caller's
    transaction; kept as skipped, with the reason, when it may not go. The same `dedup_key`
    gives back the message queued first."""
    now = now or utcnow()
    if dedup_key is not None:
        known = db.session.scalar(select(OutboxMessage).where(
            OutboxMessage.cooperative_id == member.cooperative_id,
            OutboxMessage.dedup_key == dedup_key))
        if known is not None:
            return known
    cooperative = db.session.get(Cooperative, member.cooperative_id)
    channel = ContactChannel(channel or member.contact_channel or (
        ContactChannel.EMAIL if member.email and not member.phone else ContactChannel.SMS))
    language = member_language(member, cooperative)
    template = template_of(cooperative.id, event, language)
    refusal = _refusal(member, event, channel, now)
    params = {"name": member.first_name, "cooperative": cooperative.name,
              "contact": cooperative.contact or "", **parameters}
    message = OutboxMessage(
        cooperative_id=member.cooperative_id, member_id=member.id, channel=channel,
        event=MessageEvent(event), template_id=template.id if template else None,
        language=language, recipient=address_of(member, channel), parameters=params,
        status=S.SKIPPED if refusal else S.QUEUED,
        error=REASON_PREFIX + refusal if refusal else None, dedup_key=dedup_key,
        next_attempt_at=now if event == MessageEvent.ONE_TIME_CODE else after_quiet_hours(now),
        created_at=now)
    db.session.add(message)
    db.session.flush()
    return message


# ---- templates -----------------------------------------------------------------------------

def template_of(cooperative_id: int, event: MessageEvent, language: str
                ) -> MessageTemplate | None:
    return db.session.scalar(select(MessageTemplate).where(
        MessageTemplate.cooperative_id == cooperative_id,
        MessageTemplate.event == MessageEvent(event), MessageTemplate.language == language))


def wording(cooperative_id: int, event: MessageEvent, language: str) -> tuple[str, str]:
    """(subject, body) of the cooperative's template, or the default."""
    template = template_of(cooperative_id, event, language)
    if template is not None:
        return template.subject, template.body
    return default_text(event, language)


def save_template(cooperative: Cooperative, event: MessageEvent | str, language: str,
                  subject: str, body: str) -> MessageTemplate:
    """The cooperative's wording of an event's message; refused when it names a placeholder
    the event does not fill, or is empty."""
    try:
        event = MessageEvent(event)
    except ValueError:
        raise DomainError(_("Unknown kind of message.")) from None
    if language not in LANGUAGES:
        raise DomainError(_("Unknown language."), field="language")
    subject, body = (subject or "").strip(), (body or "").strip()
    if not body:
        raise DomainError(_("Write the message."), field="body")
    if len(body) > 1000 or len(subject) > 200:
        raise DomainError(_("The message is too long."), field="body")
    unknown = unknown_placeholders(event, subject + " " + body)
    if unknown:
        raise DomainError(_("This message cannot fill %(names)s.",
                            names=", ".join("{" + name + "}" for name in unknown)), field="body")
    template = template_of(cooperative.id, event, language)
    if template is None:
        template = MessageTemplate(cooperative_id=cooperative.id, event=event,
                                   language=language, subject=subject, body=body)
        db.session.add(template)
    else:
        template.subject, template.body = subject, body
    db.session.flush()
    return template


def render(message: OutboxMessage) -> Outgoing:
    subject, body = wording(message.cooperative_id, message.event, message.language)
    params = message.parameters or {}
    return Outgoing(to=message.recipient or "", subject=fill(subject, params),
                    body=fill(body, params))


# ---- delivery ------------------------------------------------------------------------------

@dataclass
class Delivery:
    sent: int = 0
    retrying: int = 0
    failed: int = 0


def _claim(cooperative_id: int, now: datetime, limit: int) -> list[int]:
    """Take up to `limit` due messages for this worker (queued → sending, one more attempt),
    committed before any is sent. The change is conditional on `queued`, and on PostgreSQL
    the rows are picked with SKIP LOCKED, so two workers never take the same message."""
    table = OutboxMessage.__table__
    due = [table.c.cooperative_id == cooperative_id, table.c.status == S.QUEUED.value,
           table.c.next_attempt_at <= now]
    if is_quiet(now):
        due.append(table.c.event == MessageEvent.ONE_TIME_CODE.value)
    candidates = db.session.scalars(
        select(table.c.id).where(*due).order_by(table.c.next_attempt_at, table.c.id)
        .limit(limit).with_for_update(skip_locked=True)).all()
    if not candidates:
        checkpoint()
        return []
    claimed = db.session.scalars(
        update(table).where(table.c.id.in_(candidates), *due)
        .values(status=S.SENDING.value, claimed_at=now, attempts=table.c.attempts + 1)
        .returning(table.c.id)).all()
    checkpoint()
    return sorted(claimed)


def _fail_interrupted(cooperative_id: int, now: datetime) -> int:
    table = OutboxMessage.__table__
    changed = db.session.execute(update(table).where(
        table.c.cooperative_id == cooperative_id, table.c.status == S.SENDING.value,
        table.c.claimed_at < now - STALE_SENDING).values(
        status=S.FAILED.value, error=REASON_PREFIX + "interrupted"))
    checkpoint()
    return changed.rowcount


def backoff(attempts: int) -> timedelta:
    """The wait before the next try after `attempts` failed sends: 1, 2, 4… × the base."""
    base = current_app.config["MESSAGES_BACKOFF_SECONDS"]
    return timedelta(seconds=base * 2 ** max(attempts - 1, 0))


def _send_one(message: OutboxMessage, now: datetime) -> str:
    """Hand one claimed message to its channel and record the outcome; returns it."""
    try:
        provider_id = channel_for(current_app.config, message.channel).send(render(message))
    except (ChannelError, ValueError) as error:
        message.error = str(error)[:1000]
        if message.attempts >= current_app.config["MESSAGES_MAX_ATTEMPTS"]:
            MESSAGE_LIFECYCLE.move(message, S.FAILED)
            return "failed"
        MESSAGE_LIFECYCLE.move(message, S.QUEUED)
        message.next_attempt_at = after_quiet_hours(now + backoff(message.attempts))
        return "retrying"
    MESSAGE_LIFECYCLE.move(message, S.SENT)
    message.provider_id, message.sent_at, message.error = provider_id[:120], utcnow(), None
    return "sent"


def deliver_due(cooperative_id: int, *, now: datetime | None = None, limit: int = 200
                ) -> Delivery:
    """Send the cooperative's messages that are due, each claimed first; commits as it goes
    (a send cannot be rolled back, so its record must not be either)."""
    now = now or utcnow()
    done = Delivery()
    done.failed += _fail_interrupted(cooperative_id, now)
    for message_id in _claim(cooperative_id, now, limit):
        message = get_scoped(OutboxMessage, message_id, cooperative_id)
        outcome = _send_one(message, now)
        setattr(done, outcome, getattr(done, outcome) + 1)
        checkpoint()
        if outcome != "sent":
            log.warning("message %s: %s (%s)", message_id, outcome, message.error)
    return done


def cooperatives_with_due_messages(now: datetime | None = None) -> list[int]:
    now = now or utcnow()
    return list(db.session.scalars(
        select(OutboxMessage.cooperative_id).where(
            OutboxMessage.status == S.QUEUED, OutboxMessage.next_attempt_at <= now)
        .distinct().execution_options(**unscoped(
            "the worker looks for every cooperative's messages due to go"))))


# ---- opting out ----------------------------------------------------------------------------

def opt_out(member: Member, now: datetime | None = None) -> int:
    """The member asked not to be contacted: recorded, and what was still queued for them is
    skipped. Returns how many queued messages were held back."""
    member.contact_opted_out_at = now or utcnow()
    table = OutboxMessage.__table__
    held = db.session.execute(update(table).where(
        table.c.cooperative_id == member.cooperative_id, table.c.member_id == member.id,
        table.c.status == S.QUEUED.value,
        table.c.event != MessageEvent.ONE_TIME_CODE.value).values(
        status=S.SKIPPED.value, error=REASON_PREFIX + "stopped"))
    db.session.flush()
    return held.rowcount


def set_contact(member: Member, consent: bool, channel: ContactChannel | str | None,
                email: str | None) -> Member:
    """Record the member's consent to be contacted and its channel (consenting again lifts an
    earlier opt-out)."""
    channel = ContactChannel(channel) if channel else None
    email = (email or "").strip() or None
    if email is not None and ("@" not in email or len(email) > 200 or " " in email):
        raise DomainError(_("Give a valid email address."), field="email")
    if consent and channel is None:
        raise DomainError(_("Choose how the member wants to be contacted."), field="channel")
    if consent and channel == ContactChannel.EMAIL and not (email or member.email):
        raise DomainError(_("Give the member's email address."), field="email")
    member.contact_consent = bool(consent)
    member.contact_channel = channel
    if email is not None:
        member.email = email
    if consent:
        member.contact_opted_out_at = None
    db.session.flush()
    return member


# ---- answers from members: STOP ------------------------------------------------------------

# What a member answers to stop the messages, in the app's languages (compared without case,
# accents or punctuation: "Stop.", "arrêt", "PARE"…).
STOP_WORDS = frozenset({
    "STOP", "STOPP", "UNSUBSCRIBE", "END", "CANCEL", "QUIT",  # en
    "PARAR", "ALTO", "BAJA", "CANCELAR",  # es ("para" is left out: "para el lunes…")
    "ARRET", "ARRETER", "DESABONNER", "DESINSCRIRE",  # fr
    "PARE", "SAIR", "DESCADASTRAR",  # pt
})


def is_stop(text: str | None) -> bool:
    """Whether an answer asks to stop the messages: a short answer (three words at most)
    whose first word is a stop word ("STOP", "Pare por favor"); a longer text is a message
    for the office, not an opt-out."""
    plain = "".join(ch for ch in unicodedata.normalize("NFKD", text or "")
                    if not unicodedata.combining(ch)).upper()
    words = "".join(ch if ch.isalnum() else " " for ch in plain).split()
    return 0 < len(words) <= 3 and words[0] in STOP_WORDS


def stop_from_phone(cooperative: Cooperative, phone: str | None, text: str | None,
                    now: datetime | None = None) -> list[Member]:
    """A gateway passed on an answer from `phone`: when it says STOP (in any of the app's
    languages), every member of the cooperative with that phone is opted out (audited) and
    what was queued for them is held back. The members stopped (none when the answer is no
    STOP or the phone is nobody's)."""
    if not is_stop(text):
        return []
    try:
        number = parse_phone(phone, cooperative.country)
    except DomainError:
        return []
    if number is None:
        return []
    members = list(db.session.scalars(select(Member).where(
        Member.cooperative_id == cooperative.id, Member.phone == number)))
    for member in members:
        if member.contact_opted_out_at is None:
            opt_out(member, now)
    return members
