"""Institutions, their schemes, group registration agreements (with their terms kept as
amendments) and each member's registration under an agreement."""

from __future__ import annotations

import enum
from datetime import date, datetime

from flask_babel import gettext as _
from sqlalchemy import (
    JSON,
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
    event,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from coopreg.auth.models import User
from coopreg.cooperatives.models import Cooperative, DocumentType
from coopreg.core.labels import label
from coopreg.core.models import CooperativeOwned, TimestampMixin, enum_column
from coopreg.core.states import Lifecycle
from coopreg.extensions import db
from coopreg.members.models import Dependant, DependantRelation, IncomeDeclaration, Member


class Branch(enum.StrEnum):
    """The nine branches of social protection of ILO Convention 102, in the Convention's
    order."""

    MEDICAL_CARE = "medical_care"
    SICKNESS = "sickness"
    UNEMPLOYMENT = "unemployment"
    OLD_AGE = "old_age"
    EMPLOYMENT_INJURY = "employment_injury"
    FAMILY = "family"
    MATERNITY = "maternity"
    INVALIDITY = "invalidity"
    SURVIVORS = "survivors"


class RuleKind(enum.StrEnum):
    FLAT = "flat"  # a fixed amount per period
    RATE = "rate"  # a rate of the member's declared income, between a floor and a ceiling
    SCALE = "scale"  # income brackets (`ScaleRow`): the member's income places them
    CATEGORY = "category"  # categories (`ScaleRow`) a member is placed in (`CategoryPlacement`)


class PayerKind(enum.StrEnum):
    """Who pays a share of a due. The member and the cooperative are on every agreement; the
    state and other third parties (a municipality, a donor) are named on the terms."""
    MEMBER = "member"
    COOPERATIVE = "cooperative"
    STATE = "state"
    THIRD_PARTY = "third_party"


class Schedule(enum.StrEnum):
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"  # dues fall in March, June, September and December
    YEARLY = "yearly"  # dues fall in one month of the year (`due_months`)
    SEASONAL = "seasonal"  # dues fall only in the season's months (`due_months`)


class RegistrationStatus(enum.StrEnum):
    PENDING = "pending"
    READY = "ready"
    SUBMITTED = "submitted"
    REGISTERED = "registered"
    REJECTED = "rejected"
    SUSPENDED = "suspended"
    TERMINATED = "terminated"


S = RegistrationStatus
# The only changes a registration can go through; anything else is refused
# (`coopreg.agreements.services.transition_registration`).
REGISTRATION_TRANSITIONS: dict[RegistrationStatus, frozenset[RegistrationStatus]] = {
    S.PENDING: frozenset({S.READY, S.TERMINATED}),
    # back to pending when something turns out to be missing after all
    S.READY: frozenset({S.SUBMITTED, S.PENDING, S.TERMINATED}),
    S.SUBMITTED: frozenset({S.REGISTERED, S.REJECTED, S.TERMINATED}),
    S.REGISTERED: frozenset({S.SUSPENDED, S.TERMINATED}),
    S.REJECTED: frozenset({S.READY, S.TERMINATED}),
    S.SUSPENDED: frozenset({S.REGISTERED, S.TERMINATED}),
    # a member who comes back is enrolled again: the same registration starts over
    S.TERMINATED: frozenset({S.PENDING}),
}
REGISTRATION_LIFECYCLE = Lifecycle(REGISTRATION_TRANSITIONS, lambda current, new: _(
    "A registration that is %(current)s cannot become %(new)s (allowed: %(allowed)s).",
    current=label(current), new=label(new),
    allowed=", ".join(label(s) for s in REGISTRATION_LIFECYCLE.allowed(current)) or _("none")))
# Registrations that still concern the institution (flagged for exit when the member leaves).
ACTIVE_STATUSES = frozenset(set(RegistrationStatus) - {S.TERMINATED})
# Limits of a scheme's texts for members (the awareness sheet prints on one page).
MEMBER_BENEFITS_MAX = 1500
HOW_TO_CLAIM_MAX = 2000


class Institution(CooperativeOwned, TimestampMixin, db.Model):
    """A social security institution, as one cooperative knows it (each cooperative keeps its
    own list: a federation creates it in each). Short names are unique in the cooperative."""

    __tablename__ = "institutions"
    __audited__ = True
    __table_args__ = (UniqueConstraint("cooperative_id", "short_name"),)

    cooperative_index = False
    name: Mapped[str] = mapped_column(String(200))
    short_name: Mapped[str] = mapped_column(String(40))
    country: Mapped[str] = mapped_column(String(2))

    schemes: Mapped[list[Scheme]] = relationship(back_populates="institution",
                                                 order_by="Scheme.name")

    def __repr__(self) -> str:
        return f"<Institution {self.short_name} of cooperative {self.cooperative_id}>"


class Scheme(CooperativeOwned, TimestampMixin, db.Model):
    """A scheme of an institution, covering a set of the nine branches (`SchemeBranch`).

    `member_benefits` and `how_to_claim` are what the awareness sheet tells members, as the
    cooperative typed them (printed as typed, never translated; at most
    `MEMBER_BENEFITS_MAX` and `HOW_TO_CLAIM_MAX` characters, so a sheet fits one page)."""

    __tablename__ = "schemes"
    __audited__ = True
    __table_args__ = (UniqueConstraint("institution_id", "name"),)

    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"))
    name: Mapped[str] = mapped_column(String(200))
    # what the scheme gives members, and what a member does to claim it (steps, documents to
    # bring, where to go, phone): free text for the awareness sheet
    member_benefits: Mapped[str | None] = mapped_column(Text)
    how_to_claim: Mapped[str | None] = mapped_column(Text)

    institution: Mapped[Institution] = relationship(back_populates="schemes")
    branch_rows: Mapped[list[SchemeBranch]] = relationship(
        back_populates="scheme", cascade="all, delete-orphan")

    @property
    def branches(self) -> list[Branch]:
        """The branches covered, in the Convention's order."""
        held = {row.branch for row in self.branch_rows}
        return [b for b in Branch if b in held]

    def __repr__(self) -> str:
        return f"<Scheme {self.name!r} of institution {self.institution_id}>"


class SchemeBranch(CooperativeOwned, db.Model):
    """One branch a scheme covers (a scheme covers each branch at most once)."""

    __tablename__ = "scheme_branches"
    __audited__ = True
    __table_args__ = (UniqueConstraint("scheme_id", "branch"),)

    scheme_id: Mapped[int] = mapped_column(ForeignKey("schemes.id"))
    branch: Mapped[Branch] = mapped_column(enum_column(Branch, 30))

    scheme: Mapped[Scheme] = relationship(back_populates="branch_rows")

    def __repr__(self) -> str:
        return f"<SchemeBranch {self.branch} of scheme {self.scheme_id}>"


class Agreement(CooperativeOwned, TimestampMixin, db.Model):
    """A group registration agreement: the cooperative × an institution × one or more of its
    schemes. References are unique in the cooperative. The contribution rule and the schedule
    live in `AgreementTerms` rows, one per amendment, never overwritten."""

    __tablename__ = "agreements"
    __audited__ = True
    __table_args__ = (UniqueConstraint("cooperative_id", "reference"),)

    cooperative_index = False
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"), index=True)
    reference: Mapped[str] = mapped_column(String(60))
    signed_on: Mapped[date | None] = mapped_column(Date)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    # The institution's member numbers (a regular expression the whole number must match).
    member_number_pattern: Mapped[str | None] = mapped_column(String(200))

    cooperative: Mapped[Cooperative] = relationship()
    institution: Mapped[Institution] = relationship()
    scheme_links: Mapped[list[AgreementScheme]] = relationship(
        back_populates="agreement", cascade="all, delete-orphan")
    document_links: Mapped[list[AgreementDocument]] = relationship(
        back_populates="agreement", cascade="all, delete-orphan")
    terms: Mapped[list[AgreementTerms]] = relationship(
        back_populates="agreement", order_by="AgreementTerms.effective_from")

    @property
    def schemes(self) -> list[Scheme]:
        return sorted((link.scheme for link in self.scheme_links), key=lambda s: s.name)

    @property
    def branches(self) -> list[Branch]:
        held = {b for scheme in self.schemes for b in scheme.branches}
        return [b for b in Branch if b in held]

    @property
    def required_documents(self) -> list[DocumentType]:
        return sorted((link.document_type for link in self.document_links),
                      key=lambda t: (t.position, t.id))

    def in_force_on(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)

    def __repr__(self) -> str:
        return f"<Agreement {self.reference} of cooperative {self.cooperative_id}>"


class AgreementScheme(CooperativeOwned, db.Model):
    """A scheme an agreement registers members in."""

    __tablename__ = "agreement_schemes"
    __audited__ = True
    __table_args__ = (UniqueConstraint("agreement_id", "scheme_id"),)

    agreement_id: Mapped[int] = mapped_column(ForeignKey("agreements.id"))
    scheme_id: Mapped[int] = mapped_column(ForeignKey("schemes.id"), index=True)

    agreement: Mapped[Agreement] = relationship(back_populates="scheme_links")
    scheme: Mapped[Scheme] = relationship()

    def __repr__(self) -> str:
        return f"<AgreementScheme agreement={self.agreement_id} scheme={self.scheme_id}>"


class AgreementDocument(CooperativeOwned, db.Model):
    """A checklist document the institution requires before a member can be registered."""

    __tablename__ = "agreement_documents"
    __audited__ = True
    __table_args__ = (UniqueConstraint("agreement_id", "document_type_id"),)

    agreement_id: Mapped[int] = mapped_column(ForeignKey("agreements.id"))
    document_type_id: Mapped[int] = mapped_column(ForeignKey("document_types.id"), index=True)

    agreement: Mapped[Agreement] = relationship(back_populates="document_links")
    document_type: Mapped[DocumentType] = relationship()

    def __repr__(self) -> str:
        return (f"<AgreementDocument agreement={self.agreement_id} "
                f"type={self.document_type_id}>")


class AgreementTerms(CooperativeOwned, db.Model):
    """The contribution rule and schedule in force from `effective_from` until the next
    amendment. Rows are append-only: an amendment adds a row with a later date; the ORM refuses
    to change or delete one (see `_refuse_terms_changes`).

    Rates and shares are integer basis points (1 bp = 0.01 %); money is integer minor units.
    `member_share_bp` is the member's part of the contribution; the rest is the cooperative's
    (or a subsidy's). `due_months` is a comma list of month numbers: the season's months, or
    the one month of a yearly due."""

    __tablename__ = "agreement_terms"
    __audited__ = True
    __table_args__ = (UniqueConstraint("agreement_id", "effective_from"),)

    agreement_id: Mapped[int] = mapped_column(ForeignKey("agreements.id"))
    effective_from: Mapped[date] = mapped_column(Date)
    rule_kind: Mapped[RuleKind] = mapped_column(enum_column(RuleKind))
    flat_amount_minor: Mapped[int | None] = mapped_column(BigInteger)
    rate_bp: Mapped[int | None] = mapped_column(Integer)
    floor_minor: Mapped[int | None] = mapped_column(BigInteger)
    ceiling_minor: Mapped[int | None] = mapped_column(BigInteger)
    member_share_bp: Mapped[int] = mapped_column(Integer)
    schedule: Mapped[Schedule] = mapped_column(enum_column(Schedule))
    due_months: Mapped[str | None] = mapped_column(String(40))
    due_day: Mapped[int] = mapped_column(Integer)
    grace_days: Mapped[int] = mapped_column(Integer)
    remittance_deadline_days: Mapped[int] = mapped_column(Integer)
    note: Mapped[str | None] = mapped_column(String(300))
    # whether a registration suspended before a month starts still owes that month
    suspended_accrue: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    agreement: Mapped[Agreement] = relationship(back_populates="terms")
    third_payers: Mapped[list[TermsPayer]] = relationship(
        order_by="TermsPayer.position", lazy="selectin", viewonly=True)
    scale_rows: Mapped[list[ScaleRow]] = relationship(
        order_by="ScaleRow.position", lazy="selectin", viewonly=True)

    @property
    def month_list(self) -> list[int]:
        return [int(m) for m in (self.due_months or "").split(",") if m.strip()]

    @property
    def cooperative_share_bp(self) -> int:
        return 10_000 - self.member_share_bp

    def __repr__(self) -> str:
        return (f"<AgreementTerms agreement={self.agreement_id} from {self.effective_from} "
                f"{self.rule_kind} {self.schedule}>")


class TermsPayer(CooperativeOwned, db.Model):
    """A third party (the state, a municipality, a donor) that pays a share of every due under
    one set of terms: a percentage of the due (`share_bp`) or a fixed amount per period
    (`fixed_minor`), and whether its money passes through the cooperative or goes to the
    institution directly. Part of the terms, so append-only like them: an amendment names its
    payers again. The member's share is the terms' `member_share_bp`; the cooperative pays
    the rest (see `agreements.services.split_due`)."""

    __tablename__ = "terms_payers"
    __audited__ = True
    __table_args__ = (UniqueConstraint("terms_id", "position"),
                      UniqueConstraint("terms_id", "name"))

    terms_id: Mapped[int] = mapped_column(ForeignKey("agreement_terms.id"))
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[PayerKind] = mapped_column(enum_column(PayerKind))
    name: Mapped[str] = mapped_column(String(120))
    share_bp: Mapped[int | None] = mapped_column(Integer)
    fixed_minor: Mapped[int | None] = mapped_column(BigInteger)
    through_cooperative: Mapped[bool] = mapped_column(Boolean, default=True)

    def __repr__(self) -> str:
        return f"<TermsPayer {self.name!r} of terms {self.terms_id}>"


class ScaleRow(CooperativeOwned, db.Model):
    """One row of a contribution scale (issue 17): an income bracket (from `income_from_minor`
    up to the next bracket's start; the CCSS independent-worker scale) or a category a member
    is placed in (Monotributo's), by its `code`. Each row gives a fixed amount per period
    (`amount_minor`) or a rate of the member's income (`rate_bp`), and may give its own
    member's share and third parties' shares (`payer1_share_bp`, `payer2_share_bp`: the
    terms' first and second third payer); a share left empty is the terms' own. Part of the
    terms, so never changed: an amendment names its rows again."""

    __tablename__ = "terms_scale_rows"
    __audited__ = True
    __table_args__ = (UniqueConstraint("terms_id", "position"),
                      UniqueConstraint("terms_id", "code"))

    terms_id: Mapped[int] = mapped_column(ForeignKey("agreement_terms.id"))
    position: Mapped[int] = mapped_column(Integer)
    code: Mapped[str] = mapped_column(String(40))
    income_from_minor: Mapped[int | None] = mapped_column(BigInteger)
    amount_minor: Mapped[int | None] = mapped_column(BigInteger)
    rate_bp: Mapped[int | None] = mapped_column(Integer)
    member_share_bp: Mapped[int | None] = mapped_column(Integer)
    payer1_share_bp: Mapped[int | None] = mapped_column(Integer)
    payer2_share_bp: Mapped[int | None] = mapped_column(Integer)

    def payer_share_bp(self, index: int) -> int | None:
        """The row's own share for the terms' third payer at `index` (0 or 1), if any."""
        return (self.payer1_share_bp, self.payer2_share_bp)[index] if index < 2 else None

    def __repr__(self) -> str:
        return f"<ScaleRow {self.code!r} of terms {self.terms_id}>"


class CategoryPlacement(CooperativeOwned, db.Model):
    """A member placed in a category of an agreement's scale from a date (by the category's
    code, which amendments keep). The latest placement on or before a period's first day is
    the member's category for that period; a member with none owes no due under a category
    scale (generation names them). Kept, never changed: a move is a newer placement."""

    __tablename__ = "category_placements"
    __audited__ = True
    __table_args__ = (Index("ix_category_placements_coop_agreement_member", "cooperative_id",
                            "agreement_id", "member_id", "effective_from", unique=True),)

    cooperative_index = False
    agreement_id: Mapped[int] = mapped_column(ForeignKey("agreements.id"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    code: Mapped[str] = mapped_column(String(40))
    effective_from: Mapped[date] = mapped_column(Date)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    def __repr__(self) -> str:
        return (f"<CategoryPlacement member={self.member_id} {self.code!r} "
                f"from {self.effective_from}>")


@event.listens_for(Session, "before_flush")
def _refuse_terms_changes(session: Session, flush_context, instances) -> None:
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, (TermsPayer, ScaleRow, CategoryPlacement, IncomeDeclaration)) and (
                obj in session.deleted or session.is_modified(obj)):
            raise RuntimeError("agreement terms are kept as amendments: never changed")
        if isinstance(obj, AgreementTerms) and (obj in session.deleted
                                                or session.is_modified(obj)):
            raise RuntimeError("agreement terms are kept as amendments: never changed")


class Registration(CooperativeOwned, TimestampMixin, db.Model):
    """A member's registration under an agreement (one per member and agreement), with its own
    lifecycle (`REGISTRATION_TRANSITIONS`), separate from membership. Institution numbers are
    unique within the agreement."""

    __tablename__ = "registrations"
    __audited__ = True
    __table_args__ = (
        UniqueConstraint("member_id", "agreement_id"),
        UniqueConstraint("agreement_id", "institution_member_number"),
        Index("ix_registrations_coop_agreement_status", "cooperative_id", "agreement_id",
              "status"),
        Index("ix_registrations_coop_status", "cooperative_id", "status", "member_id"),
        # the target of the dues' composite key (a due's agreement, member and cooperative
        # are its registration's)
        Index("uq_registrations_dues_key", "id", "agreement_id", "member_id", "cooperative_id",
              unique=True),
    )

    cooperative_index = False
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("agreements.id"))
    status: Mapped[RegistrationStatus] = mapped_column(enum_column(RegistrationStatus),
                                                       default=RegistrationStatus.PENDING)
    institution_member_number: Mapped[str | None] = mapped_column(String(40))
    coverage_start: Mapped[date | None] = mapped_column(Date)
    coverage_end: Mapped[date | None] = mapped_column(Date)
    rejection_reason: Mapped[str | None] = mapped_column(String(300))
    exit_flagged: Mapped[bool] = mapped_column(Boolean, default=False)
    exit_flag_reason: Mapped[str | None] = mapped_column(String(300))
    exit_flagged_on: Mapped[date | None] = mapped_column(Date)
    status_changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    member: Mapped[Member] = relationship()
    agreement: Mapped[Agreement] = relationship()
    events: Mapped[list[RegistrationEvent]] = relationship(
        back_populates="registration", order_by="RegistrationEvent.id")

    def __repr__(self) -> str:
        return (f"<Registration member={self.member_id} agreement={self.agreement_id} "
                f"{self.status}>")


class RegistrationEvent(CooperativeOwned, db.Model):
    """History of a registration: from, to, why, who and when. Never changed."""

    __tablename__ = "registration_events"
    __audited__ = True

    registration_id: Mapped[int] = mapped_column(ForeignKey("registrations.id"), index=True)
    from_status: Mapped[RegistrationStatus | None] = mapped_column(enum_column(RegistrationStatus))
    to_status: Mapped[RegistrationStatus] = mapped_column(enum_column(RegistrationStatus))
    reason: Mapped[str | None] = mapped_column(String(300))  # as a person gave it
    # or what the application said, kept as a code and its values (core.sentences)
    reason_code: Mapped[str | None] = mapped_column(String(60))
    reason_params: Mapped[dict | None] = mapped_column(JSON)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    registration: Mapped[Registration] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship()

    @property
    def said_reason(self):
        """The reason to show: a kept sentence (`say` it) or the text a person gave."""
        if self.reason_code:
            return {"code": self.reason_code, "params": self.reason_params or {}}
        return self.reason

    def __repr__(self) -> str:
        return (f"<RegistrationEvent {self.from_status}→{self.to_status} "
                f"registration={self.registration_id}>")


# ---- families: who a scheme covers through a member, and their registrations ----------------

class DependantStatus(enum.StrEnum):
    """A dependant's registration, carried by the member's: enrolled with the member, sent in
    the member's batch, then registered or rejected by the institution's answer."""

    ENROLLED = "enrolled"
    SUBMITTED = "submitted"
    REGISTERED = "registered"
    REJECTED = "rejected"
    TERMINATED = "terminated"


D = DependantStatus
DEPENDANT_TRANSITIONS: dict[DependantStatus, frozenset[DependantStatus]] = {
    D.ENROLLED: frozenset({D.SUBMITTED, D.TERMINATED}),
    D.SUBMITTED: frozenset({D.REGISTERED, D.REJECTED, D.TERMINATED}),
    D.REGISTERED: frozenset({D.TERMINATED}),
    # corrected (a document, a date of birth): sent again with the member's next batch
    D.REJECTED: frozenset({D.ENROLLED, D.TERMINATED}),
    D.TERMINATED: frozenset({D.ENROLLED}),
}
DEPENDANT_LIFECYCLE = Lifecycle(DEPENDANT_TRANSITIONS, lambda current, new: _(
    "A dependant's registration that is %(current)s cannot become %(new)s (allowed: "
    "%(allowed)s).", current=label(current), new=label(new),
    allowed=", ".join(label(s) for s in DEPENDANT_LIFECYCLE.allowed(current)) or _("none")))
# Dependants whose cover counts (the coverage report's "covered dependants").
COVERED_DEPENDANT = DependantStatus.REGISTERED


class FamilyRule(CooperativeOwned, TimestampMixin, db.Model):
    """Which dependants a scheme covers through a member, for one relation: up to `max_age`
    (none: any age), up to `student_max_age` while studying, at any age when disabled
    (`disabled_any_age`), free or for a `surcharge_minor` per period paid by the member.
    One rule per scheme and relation; no rule means the scheme does not cover that relation.
    The surcharge is kept and shown here; turning it into dues is the dues engine's work."""

    __tablename__ = "family_rules"
    __audited__ = True
    __table_args__ = (UniqueConstraint("scheme_id", "relation"),)

    scheme_id: Mapped[int] = mapped_column(ForeignKey("schemes.id"))
    relation: Mapped[DependantRelation] = mapped_column(enum_column(DependantRelation))
    max_age: Mapped[int | None] = mapped_column(Integer)
    student_max_age: Mapped[int | None] = mapped_column(Integer)
    disabled_any_age: Mapped[bool] = mapped_column(Boolean, default=False)
    surcharge_minor: Mapped[int | None] = mapped_column(BigInteger)

    scheme: Mapped[Scheme] = relationship()

    @property
    def free(self) -> bool:
        return not self.surcharge_minor

    def __repr__(self) -> str:
        return f"<FamilyRule {self.relation} of scheme {self.scheme_id}>"


class DependantRegistration(CooperativeOwned, TimestampMixin, db.Model):
    """A dependant's registration under the registration of the member who carries them: one
    per dependant and member registration. It moves through `DEPENDANT_LIFECYCLE` with the
    member's (sent when the member's batch is sealed, answered with the member's answer or
    by a row of the answer file that gives the dependant's ID). `batch_id` is the batch that
    carried it last."""

    __tablename__ = "dependant_registrations"
    __audited__ = True
    __table_args__ = (
        UniqueConstraint("registration_id", "dependant_id"),
        Index("ix_dependant_registrations_coop_status", "cooperative_id", "status"),
    )

    cooperative_index = False  # the composite index starting with cooperative_id serves
    registration_id: Mapped[int] = mapped_column(ForeignKey("registrations.id"))
    dependant_id: Mapped[int] = mapped_column(ForeignKey("dependants.id"), index=True)
    status: Mapped[DependantStatus] = mapped_column(enum_column(DependantStatus),
                                                    default=DependantStatus.ENROLLED)
    batch_id: Mapped[int | None] = mapped_column(Integer)
    institution_number: Mapped[str | None] = mapped_column(String(40))
    coverage_start: Mapped[date | None] = mapped_column(Date)
    rejection_reason: Mapped[str | None] = mapped_column(String(300))
    status_changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    registration: Mapped[Registration] = relationship()
    dependant: Mapped[Dependant] = relationship()

    def __repr__(self) -> str:
        return (f"<DependantRegistration dependant={self.dependant_id} "
                f"registration={self.registration_id} {self.status}>")


class OutsideSource(enum.StrEnum):
    """Where a member is covered outside the cooperative."""

    EMPLOYER = "employer"
    SPOUSE = "spouse"
    STATE = "state"
    OTHER_SCHEME = "other_scheme"


class OutsideCoverage(CooperativeOwned, TimestampMixin, db.Model):
    """A branch a member is covered for outside the cooperative (through an employer, a
    spouse, the state or another scheme), as the member declared it: one row per member and
    branch. The coverage report counts them apart from the gap."""

    __tablename__ = "outside_coverages"
    __audited__ = True
    __table_args__ = (UniqueConstraint("member_id", "branch"),
                      Index("ix_outside_coverages_coop_member", "cooperative_id", "member_id"))

    cooperative_index = False  # the composite index starting with cooperative_id serves
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    branch: Mapped[Branch] = mapped_column(enum_column(Branch, 30))
    source: Mapped[OutsideSource] = mapped_column(enum_column(OutsideSource))
    note: Mapped[str | None] = mapped_column(String(200))
    declared_on: Mapped[date] = mapped_column(Date)

    def __repr__(self) -> str:
        return f"<OutsideCoverage {self.branch} of member {self.member_id} ({self.source})>"


class RegistrationCount(db.Model):
    """How many registrations an agreement holds in each status, split by their member's
    status, and how many of them are flagged for exit — kept by database triggers in the same
    transaction as every registration's insert, transition (one row or a batch's set-based
    move) and delete, and every member's status change (migration 0027). With `MemberCount`
    it answers the funnel, and "active members not enrolled" (active members − registrations
    held by active members), without reading the register. Never written by the application."""

    __tablename__ = "registration_counts"

    cooperative_id: Mapped[int] = mapped_column(ForeignKey("cooperatives.id"))
    agreement_id: Mapped[int] = mapped_column(ForeignKey("agreements.id"), primary_key=True)
    status: Mapped[str] = mapped_column(String(20), primary_key=True)
    member_status: Mapped[str] = mapped_column(String(20), primary_key=True)
    n: Mapped[int] = mapped_column(BigInteger)
    flagged: Mapped[int] = mapped_column(BigInteger)

    def __repr__(self) -> str:
        return (f"<RegistrationCount agreement={self.agreement_id} {self.status}/"
                f"{self.member_status}={self.n}>")
