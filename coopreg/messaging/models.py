"""The outbox (one row per message to one member) and the templates an admin edits."""

from __future__ import annotations

import enum
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from coopreg.core.labels import label
from coopreg.core.models import CooperativeOwned, TimestampMixin, enum_column, utcnow
from coopreg.core.states import Lifecycle
from coopreg.extensions import db
from coopreg.members.models import ContactChannel


class MessageEvent(enum.StrEnum):
    """What a message tells the member (one template per event and language)."""

    RECEIPT_RECORDED = "receipt_recorded"
    REGISTRATION_REGISTERED = "registration_registered"
    REGISTRATION_REJECTED = "registration_rejected"
    DUE_SOON = "due_soon"
    ARREARS = "arrears"
    ONE_TIME_CODE = "one_time_code"


class MessageStatus(enum.StrEnum):
    QUEUED = "queued"      # waiting for its time (next_attempt_at) and a worker
    SENDING = "sending"    # claimed by one worker, which is handing it to the channel
    SENT = "sent"          # the channel took it (provider id kept)
    FAILED = "failed"      # the last attempt failed, or a send was interrupted: not retried
    SKIPPED = "skipped"    # never sent: no consent, opted out, no address, the daily cap


S = MessageStatus
MESSAGE_TRANSITIONS = {
    S.QUEUED: frozenset({S.SENDING, S.SKIPPED}),
    S.SENDING: frozenset({S.SENT, S.QUEUED, S.FAILED}),  # QUEUED: a retry after a failure
    S.SENT: frozenset(),
    S.FAILED: frozenset(),
    S.SKIPPED: frozenset(),
}
MESSAGE_LIFECYCLE = Lifecycle(MESSAGE_TRANSITIONS, lambda current, target: _(
    "A message %(current)s cannot become %(target)s.", current=label(current),
    target=label(target)))


class OutboxMessage(CooperativeOwned, db.Model):
    """One message to one member on one channel. A worker claims it (queued → sending, a
    conditional change, so that of two workers only one sends it) before handing it to the
    channel, and records the outcome after: sent, queued again with a later `next_attempt_at`
    (exponential backoff) or failed after the last attempt. A message found still `sending`
    after a worker died is failed, never sent again: a duplicate is worse than a miss.
    `dedup_key` makes queuing idempotent (one reminder per due, one confirmation per
    receipt)."""

    __tablename__ = "outbox_messages"
    __table_args__ = (
        Index("ix_outbox_coop_created", "cooperative_id", "created_at", "id"),
        Index("ix_outbox_status_next", "status", "next_attempt_at"),
        Index("ix_outbox_coop_member_created", "cooperative_id", "member_id", "created_at"),
        UniqueConstraint("cooperative_id", "dedup_key"),
    )

    cooperative_index = False
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    channel: Mapped[ContactChannel] = mapped_column(enum_column(ContactChannel))
    event: Mapped[MessageEvent] = mapped_column(enum_column(MessageEvent, 30))
    template_id: Mapped[int | None] = mapped_column(ForeignKey("message_templates.id"))
    language: Mapped[str] = mapped_column(String(5))
    recipient: Mapped[str | None] = mapped_column(String(200))
    parameters: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[MessageStatus] = mapped_column(enum_column(MessageStatus),
                                                  default=MessageStatus.QUEUED)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    provider_id: Mapped[str | None] = mapped_column(String(120))
    error: Mapped[str | None] = mapped_column(Text)
    dedup_key: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    def __repr__(self) -> str:
        return f"<OutboxMessage {self.id} {self.event} {self.channel} {self.status}>"


class MessageTemplate(CooperativeOwned, TimestampMixin, db.Model):
    """A cooperative's own wording of one event's message in one language; without one, the
    default of `messaging/texts.py` is used."""

    __tablename__ = "message_templates"
    __audited__ = True
    __table_args__ = (UniqueConstraint("cooperative_id", "event", "language"),)

    cooperative_index = False
    event: Mapped[MessageEvent] = mapped_column(enum_column(MessageEvent, 30))
    language: Mapped[str] = mapped_column(String(5))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)

    def __repr__(self) -> str:
        return f"<MessageTemplate {self.event} {self.language}>"
