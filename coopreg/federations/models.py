"""A federation, the cooperatives it groups and the people who hold a role in it."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coopreg.auth.models import User
from coopreg.cooperatives.models import Cooperative
from coopreg.core.models import CooperativeOwned, TimestampMixin, enum_column, utcnow
from coopreg.extensions import db


class FederationRole(enum.StrEnum):
    """Roles held at federation level; they give no role in any cooperative."""

    ADMIN = "federation_admin"  # keeps the federation: its cooperatives and its people
    ANALYST = "federation_analyst"  # reads the roll-ups and the duplicate report


class Federation(TimestampMixin, db.Model):
    """A union of cooperatives (code unique in the installation)."""

    __tablename__ = "federations"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(200))

    def __repr__(self) -> str:
        return f"<Federation {self.code}>"


class FederationCooperative(CooperativeOwned, TimestampMixin, db.Model):
    """A cooperative's place in a federation (a cooperative belongs to at most one).

    `shares_member_records` is the cooperative admin's choice: while it is off (the default),
    no federation role sees a member of the cooperative by name; the duplicate report shows
    only which cooperative holds the other registration. Changes are audited."""

    __tablename__ = "federation_cooperatives"
    __audited__ = True
    __table_args__ = (UniqueConstraint("cooperative_id"),)

    cooperative_index = False
    federation_id: Mapped[int] = mapped_column(ForeignKey("federations.id"), index=True)
    shares_member_records: Mapped[bool] = mapped_column(Boolean, default=False)
    joined_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    federation: Mapped[Federation] = relationship()
    cooperative: Mapped[Cooperative] = relationship()

    def __repr__(self) -> str:
        return (f"<FederationCooperative federation={self.federation_id} "
                f"cooperative={self.cooperative_id}>")


class FederationMembership(TimestampMixin, db.Model):
    """A user's role in one federation (one role per federation), held beside the user's
    cooperative roles (`coopreg.auth.models.Membership`) and never instead of them."""

    __tablename__ = "federation_memberships"
    __audited__ = True
    __table_args__ = (UniqueConstraint("user_id", "federation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    federation_id: Mapped[int] = mapped_column(ForeignKey("federations.id"), index=True)
    role: Mapped[FederationRole] = mapped_column(enum_column(FederationRole, 30))

    user: Mapped[User] = relationship()
    federation: Mapped[Federation] = relationship()

    def __repr__(self) -> str:
        return (f"<FederationMembership user={self.user_id} federation={self.federation_id} "
                f"{self.role}>")
