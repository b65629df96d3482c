"""Members of a cooperative and what hangs off them."""

from __future__ import annotations

import enum
from datetime import date, datetime

from flask_babel import gettext as _
from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coopreg.core.labels import label
from coopreg.core.models import CooperativeOwned, TimestampMixin, enum_column
from coopreg.core.phones import phone_as
from coopreg.core.states import Lifecycle
from coopreg.extensions import db


class Sex(enum.StrEnum):
    FEMALE = "female"
    MALE = "male"
    OTHER = "other"


class Sector(enum.StrEnum):
    AGRICULTURE = "agriculture"
    HOME_BASED_WORK = "home_based_work"
    WASTE_PICKING = "waste_picking"
    STREET_VENDING = "street_vending"
    DOMESTIC_WORK = "domestic_work"
    TRANSPORT = "transport"
    ARTS_AND_CULTURE = "arts_and_culture"
    PLATFORM_WORK = "platform_work"
    CARE = "care"
    FISHING = "fishing"
    CRAFTS = "crafts"
    OTHER = "other"


class MemberStatus(enum.StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    LEFT = "left"
    DECEASED = "deceased"


# The only status changes a member can go through; anything else is refused.
MEMBER_STATUS_TRANSITIONS: dict[MemberStatus, frozenset[MemberStatus]] = {
    MemberStatus.ACTIVE: frozenset({MemberStatus.SUSPENDED, MemberStatus.LEFT,
                                    MemberStatus.DECEASED}),
    MemberStatus.SUSPENDED: frozenset({MemberStatus.ACTIVE, MemberStatus.LEFT,
                                       MemberStatus.DECEASED}),
    MemberStatus.LEFT: frozenset({MemberStatus.ACTIVE, MemberStatus.DECEASED}),
    MemberStatus.DECEASED: frozenset(),
}
MEMBER_LIFECYCLE = Lifecycle(MEMBER_STATUS_TRANSITIONS, lambda current, new: _(
    "A member who is %(current)s cannot become %(new)s.", current=label(current),
    new=label(new)))


class CivilStatus(enum.StrEnum):
    SINGLE = "single"
    MARRIED = "married"
    COMMON_LAW = "common_law"
    SEPARATED = "separated"
    DIVORCED = "divorced"
    WIDOWED = "widowed"


class ContactChannel(enum.StrEnum):
    """How a member agreed to be reached with reminders and confirmations (messaging)."""

    SMS = "sms"
    WHATSAPP = "whatsapp"
    EMAIL = "email"


class ConsentMethod(enum.StrEnum):
    SIGNED_FORM = "signed_form"
    THUMBPRINT = "thumbprint"
    VERBAL_WITNESSED = "verbal_witnessed"
    DIGITAL = "digital"


class DependantRelation(enum.StrEnum):
    SPOUSE = "spouse"
    CHILD = "child"
    PARENT = "parent"
    OTHER = "other"


class Member(CooperativeOwned, TimestampMixin, db.Model):
    """A member of one cooperative. The member number and the national ID are each unique in
    the cooperative; `search_name` is the folded full name kept for accent-free search."""

    __tablename__ = "members"
    __audited__ = True
    __audit_exclude__ = ("search_name", "locality_key", "number_key", "version")
    __table_args__ = (
        UniqueConstraint("cooperative_id", "member_number"),
        UniqueConstraint("cooperative_id", "id_type", "id_number"),
        Index("ix_members_coop_search_name", "cooperative_id", "search_name", "id"),
        Index("ix_members_coop_status", "cooperative_id", "status", "id"),
        Index("ix_members_coop_phone", "cooperative_id", "phone"),
        Index("ix_members_coop_id_number", "cooperative_id", "id_number"),
        Index("ix_members_coop_joined", "cooperative_id", "joined_on", "id"),
        Index("ix_members_coop_number_key", "cooperative_id", "number_key", "id"),
        Index("ix_members_coop_sector", "cooperative_id", "sector", "id"),
        Index("ix_members_coop_locality", "cooperative_id", "locality_key", "id"),
    )

    cooperative_index = False
    member_number: Mapped[str] = mapped_column(String(20))
    number_key: Mapped[str] = mapped_column(String(21))
    first_name: Mapped[str] = mapped_column(String(100))
    middle_name: Mapped[str | None] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    second_last_name: Mapped[str | None] = mapped_column(String(100))
    name_extension: Mapped[str | None] = mapped_column(String(10))  # Jr., Sr., III
    mothers_maiden_name: Mapped[str | None] = mapped_column(String(100))
    civil_status: Mapped[CivilStatus | None] = mapped_column(enum_column(CivilStatus))
    nationality: Mapped[str | None] = mapped_column(String(2))  # ISO 3166-1 alpha-2
    search_name: Mapped[str] = mapped_column(String(420))
    sex: Mapped[Sex] = mapped_column(enum_column(Sex))
    date_of_birth: Mapped[date] = mapped_column(Date)
    id_type: Mapped[str | None] = mapped_column(String(20))
    id_number: Mapped[str | None] = mapped_column(String(40))
    tax_number: Mapped[str | None] = mapped_column(String(40))
    # E.164 (+50688881234); a phone from before phones were checked that could not be read
    # is kept as it was typed, with `phone_unchecked` set, until someone corrects it
    phone: Mapped[str | None] = mapped_column(String(30))
    phone_unchecked: Mapped[bool] = mapped_column(Boolean, default=False,
                                                  server_default="0")
    email: Mapped[str | None] = mapped_column(String(254))
    address: Mapped[str | None] = mapped_column(String(300))
    # the official codes of the address's divisions where the country has them (CR: 2, 210,
    # 21001); see members/divisions.py
    province_code: Mapped[str | None] = mapped_column(String(10))
    canton_code: Mapped[str | None] = mapped_column(String(10))
    district_code: Mapped[str | None] = mapped_column(String(10))
    locality: Mapped[str | None] = mapped_column(String(120))
    locality_key: Mapped[str | None] = mapped_column(String(120))
    sector: Mapped[Sector] = mapped_column(enum_column(Sector))
    occupation: Mapped[str | None] = mapped_column(String(120))
    declared_income_minor: Mapped[int | None] = mapped_column(BigInteger)
    joined_on: Mapped[date] = mapped_column(Date)
    left_on: Mapped[date | None] = mapped_column(Date)
    status: Mapped[MemberStatus] = mapped_column(enum_column(MemberStatus),
                                                 default=MemberStatus.ACTIVE)
    status_reason: Mapped[str | None] = mapped_column(String(300))
    status_date: Mapped[date | None] = mapped_column(Date)
    consent_given: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_date: Mapped[date | None] = mapped_column(Date)
    consent_method: Mapped[ConsentMethod | None] = mapped_column(enum_column(ConsentMethod))
    # Reminders and confirmations (coopreg/messaging): only with the member's consent, on the
    # channel they chose (an email goes to `email` above); "STOP" (or the self-service page)
    # records the opt-out's time.
    contact_consent: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    contact_channel: Mapped[ContactChannel | None] = mapped_column(enum_column(ContactChannel))
    contact_opted_out_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # the language the member reads: receipts, statements and summaries print in it
    language: Mapped[str | None] = mapped_column(String(5))
    notes: Mapped[str | None] = mapped_column(Text)
    # Optimistic locking: an UPDATE names the version it read, so two secretaries saving the
    # same member cannot silently overwrite each other (the second is told to reload).
    version: Mapped[int] = mapped_column(Integer, server_default="1")

    __mapper_args__ = {"version_id_col": version}

    dependants: Mapped[list[Dependant]] = relationship(
        back_populates="member", order_by="Dependant.id"
    )
    documents: Mapped[list[MemberDocument]] = relationship(back_populates="member")
    status_changes: Mapped[list[MemberStatusChange]] = relationship(
        back_populates="member", order_by="MemberStatusChange.id"
    )

    @property
    def full_name(self) -> str:
        parts = [self.first_name, self.middle_name, self.last_name, self.second_last_name]
        return " ".join(p for p in parts if p)

    @property
    def phone_shown(self) -> str:
        """The phone in the national form people write ("8888 1234")."""
        return phone_as(self.phone)

    @property
    def sort_name(self) -> str:
        surnames = " ".join(p for p in (self.last_name, self.second_last_name) if p)
        given = " ".join(p for p in (self.first_name, self.middle_name) if p)
        return f"{surnames}, {given}"

    def __repr__(self) -> str:
        return f"<Member {self.member_number} of cooperative {self.cooperative_id}>"


class Dependant(CooperativeOwned, TimestampMixin, db.Model):
    """A person covered through a member (spouse, child…)."""

    __tablename__ = "dependants"
    __audited__ = True

    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    relation: Mapped[DependantRelation] = mapped_column(enum_column(DependantRelation))
    date_of_birth: Mapped[date | None] = mapped_column(Date)
    id_number: Mapped[str | None] = mapped_column(String(40))
    # what a scheme's family rules may ask (a student or a disabled child is covered longer)
    student: Mapped[bool] = mapped_column(Boolean, default=False)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)

    member: Mapped[Member] = relationship(back_populates="dependants")

    def __repr__(self) -> str:
        return f"<Dependant {self.name!r} of member {self.member_id}>"


class MemberDocument(CooperativeOwned, TimestampMixin, db.Model):
    """A checklist item the cooperative holds for a member (received on a date)."""

    __tablename__ = "member_documents"
    __audited__ = True
    __table_args__ = (UniqueConstraint("member_id", "document_type_id"),)

    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    document_type_id: Mapped[int] = mapped_column(ForeignKey("document_types.id"), index=True)
    received_on: Mapped[date] = mapped_column(Date)

    member: Mapped[Member] = relationship(back_populates="documents")

    def __repr__(self) -> str:
        return f"<MemberDocument type={self.document_type_id} member={self.member_id}>"


class MemberStatusChange(CooperativeOwned, db.Model):
    """History of a member's status: from, to, the date it took effect, why, and who."""

    __tablename__ = "member_status_changes"
    __audited__ = True

    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    from_status: Mapped[MemberStatus] = mapped_column(enum_column(MemberStatus))
    to_status: Mapped[MemberStatus] = mapped_column(enum_column(MemberStatus))
    effective_on: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(300))
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    member: Mapped[Member] = relationship(back_populates="status_changes")

    def __repr__(self) -> str:
        return f"<MemberStatusChange {self.from_status}→{self.to_status} member={self.member_id}>"


class IncomeDeclaration(CooperativeOwned, db.Model):
    """A member's declared income from a date (issue 17): the history that moves a member
    between the brackets of an income scale. The income of a period is the latest
    declaration that took effect on or before the period's first day, else the member's
    declared income (`members.services.income_on`). Kept, never changed: a correction is a
    newer declaration."""

    __tablename__ = "income_declarations"
    __audited__ = True
    __table_args__ = (Index("ix_income_declarations_coop_member_from", "cooperative_id",
                            "member_id", "effective_from", unique=True),)

    cooperative_index = False  # the composite index starting with cooperative_id serves
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    effective_from: Mapped[date] = mapped_column(Date)
    income_minor: Mapped[int] = mapped_column(BigInteger)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    def __repr__(self) -> str:
        return (f"<IncomeDeclaration member={self.member_id} {self.effective_from} "
                f"{self.income_minor}>")


class MemberCount(db.Model):
    """How many members a cooperative holds in each status, kept by database triggers in the
    same transaction as every insert, status change (one row or set-based) and delete of a
    member (migration 0027), so the pages read a few rows instead of counting the register.
    Never written by the application; tests hold it equal to the counts it stands for."""

    __tablename__ = "member_counts"

    cooperative_id: Mapped[int] = mapped_column(ForeignKey("cooperatives.id"),
                                                primary_key=True)
    status: Mapped[str] = mapped_column(String(20), primary_key=True)
    n: Mapped[int] = mapped_column(BigInteger)

    def __repr__(self) -> str:
        return f"<MemberCount cooperative={self.cooperative_id} {self.status}={self.n}>"
