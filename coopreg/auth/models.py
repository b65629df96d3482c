"""Users and the roles they hold in cooperatives."""

from __future__ import annotations

import enum
import secrets
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import Boolean, DateTime, Enum, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coopreg.cooperatives.models import Cooperative
from coopreg.core.models import CooperativeOwned, TimestampMixin
from coopreg.core.states import Lifecycle
from coopreg.extensions import db


class Role(enum.StrEnum):
    ADMIN = "admin"
    SECRETARY = "secretary"
    TREASURER = "treasurer"
    VIEWER = "viewer"


class OutsideRole(enum.StrEnum):
    """Roles held outside any cooperative, kept by the areas that grant them (a federation's
    roles are `coopreg.federations.models.FederationRole`); an API token of an institution's
    desk acts with this role."""

    INSTITUTION = "institution"


def new_session_token() -> str:
    return secrets.token_urlsafe(32)


class User(TimestampMixin, db.Model):
    """A person who logs in. The session carries `session_token`, not the id, so rotating the
    token (logout, password change, disabling) ends every other session of the user."""

    __tablename__ = "users"
    __audited__ = True
    __audit_exclude__ = ("password_hash", "session_token")

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    locale: Mapped[str | None] = mapped_column(String(10))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    session_token: Mapped[str] = mapped_column(String(64), unique=True, default=new_session_token)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # keeps the installation's federations and institution desk accounts (`coopreg users
    # platform-admin`); gives no role in any cooperative or federation
    platform_admin: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="user", cascade="all, delete-orphan"
    )

    # Flask-Login protocol
    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return self.session_token

    def role_in(self, cooperative_id: int) -> Role | None:
        for membership in self.memberships:
            if membership.cooperative_id == cooperative_id:
                return membership.role
        return None

    def __repr__(self) -> str:
        return f"<User {self.email}>"


class Membership(CooperativeOwned, TimestampMixin, db.Model):
    """A user's role in one cooperative (one role per cooperative)."""

    __tablename__ = "memberships"
    __audited__ = True
    __table_args__ = (UniqueConstraint("user_id", "cooperative_id"),)

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    role: Mapped[Role] = mapped_column(Enum(Role, native_enum=False, length=20,
                                            values_callable=lambda e: [m.value for m in e]))

    user: Mapped[User] = relationship(back_populates="memberships")
    cooperative: Mapped[Cooperative] = relationship()

    def __repr__(self) -> str:
        return f"<Membership user={self.user_id} cooperative={self.cooperative_id} {self.role}>"


class InvitationStatus(enum.StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    CANCELLED = "cancelled"


INVITATION_TRANSITIONS: dict[InvitationStatus, frozenset[InvitationStatus]] = {
    InvitationStatus.PENDING: frozenset({InvitationStatus.ACCEPTED, InvitationStatus.DECLINED,
                                         InvitationStatus.CANCELLED}),
    InvitationStatus.ACCEPTED: frozenset(),
    InvitationStatus.DECLINED: frozenset(),
    InvitationStatus.CANCELLED: frozenset(),
}
INVITATION_LIFECYCLE = Lifecycle(INVITATION_TRANSITIONS, lambda current, new: _(
    "This invitation was already answered or cancelled."))


class Invitation(CooperativeOwned, TimestampMixin, db.Model):
    """An admin's offer of a role in their cooperative to an email. Nobody gets a role in a
    cooperative without saying yes: the person accepts (or declines) after logging in, or
    through the invitation's link, which also lets a newcomer choose their own password. The
    admin sees only what they typed (email, name), never whether an account exists. Only the
    SHA-256 of the link's token is kept."""

    __tablename__ = "invitations"
    __audited__ = True
    __audit_exclude__ = ("token_hash",)
    __table_args__ = (Index("ix_invitations_coop_status", "cooperative_id", "status"),)

    cooperative_index = False
    email: Mapped[str] = mapped_column(String(254), index=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(Enum(Role, native_enum=False, length=20,
                                            values_callable=lambda e: [m.value for m in e]))
    status: Mapped[InvitationStatus] = mapped_column(
        Enum(InvitationStatus, native_enum=False, length=20,
             values_callable=lambda e: [m.value for m in e]), default=InvitationStatus.PENDING)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    cooperative: Mapped[Cooperative] = relationship()

    def __repr__(self) -> str:
        return f"<Invitation {self.email} {self.role} to cooperative {self.cooperative_id}>"
