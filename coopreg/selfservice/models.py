"""What self-service keeps: the sign-in code printed on a member's card or receipt (hashed,
one per member, reissued by the secretary) and the members' requests to correct their
details (nothing changes until a secretary accepts one)."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coopreg.core.models import CooperativeOwned, TimestampMixin, enum_column
from coopreg.extensions import db
from coopreg.members.models import Member


class CardCode(CooperativeOwned, TimestampMixin, db.Model):
    """The code printed on a member's card or receipt that signs them in without a message:
    only its hash is kept; issuing a new one replaces it (the old one stops working)."""

    __tablename__ = "member_card_codes"
    __audited__ = True
    __audit_exclude__ = ("code_hash",)
    __table_args__ = (UniqueConstraint("cooperative_id", "member_id"),)

    cooperative_index = False
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    code_hash: Mapped[str] = mapped_column(String(200))
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    def __repr__(self) -> str:
        return f"<CardCode of member {self.member_id}>"


class CorrectionStatus(enum.StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


class CorrectionRequest(CooperativeOwned, TimestampMixin, db.Model):
    """A member's request to correct their details: the fields and what they should be (as
    JSON), a note; pending until a secretary accepts it (applied through the members
    service) or rejects it with a reason the member reads."""

    __tablename__ = "correction_requests"
    __audited__ = True
    __table_args__ = (Index("ix_correction_requests_coop_status", "cooperative_id", "status"),)

    cooperative_index = False
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    changes: Mapped[str] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(String(500))
    status: Mapped[CorrectionStatus] = mapped_column(enum_column(CorrectionStatus),
                                                     default=CorrectionStatus.PENDING)
    reason: Mapped[str | None] = mapped_column(String(300))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    member: Mapped[Member] = relationship()

    def __repr__(self) -> str:
        return f"<CorrectionRequest {self.id} of member {self.member_id}: {self.status}>"
