"""The money records of the contributions area: dues, receipts and their allocations,
reversals, remittances and their acknowledgement, closed periods, collection sheets and
imported bank or mobile-money statements.

Posted money records are append-only. A wrong receipt is reversed (a `ReceiptReversal` and
negative allocations that reference it), never edited or deleted. The ORM refuses an update
or delete of these rows (`_refuse_money_changes`), and the database refuses it too, with
triggers created by migration 0005 (0010 for the write-offs) on both SQLite and
PostgreSQL.

Amounts are integer minor units of the cooperative's currency (`*_minor`, BigInteger).
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    UniqueConstraint,
    event,
    inspect,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from coopreg.agreements.models import Agreement, Registration
from coopreg.auth.models import User
from coopreg.core.models import CooperativeOwned, TimestampMixin, enum_column, utcnow
from coopreg.extensions import db
from coopreg.members.models import Member


class PaymentMethod(enum.StrEnum):
    CASH = "cash"
    BANK_TRANSFER = "bank_transfer"
    MOBILE_MONEY = "mobile_money"
    PRODUCE_DEDUCTION = "produce_deduction"  # deducted from a produce payment


class Due(CooperativeOwned, db.Model):
    """What one member owes under one agreement for one period (the first day of the month
    the due falls in), with the cooperative's share beside it. Generated from the agreement's
    terms; at most one per (agreement, member, period), which makes generation idempotent.
    Never changed once written (append-only).

    One composite key ties a due to its registration and, through it, to the registration's
    agreement, member and cooperative (which have their own keys): the three cannot disagree
    with the registration, and the database checks one key per row instead of four — dues are
    written a hundred thousand at a time (migration 0008). Registrations and terms are never
    deleted, so the dues keep no index just for their keys' delete checks."""

    __tablename__ = "dues"
    __table_args__ = (
        UniqueConstraint("agreement_id", "member_id", "period"),
        Index("ix_dues_coop_member_due", "cooperative_id", "member_id", "due_date", "id"),
        # the remittance form's first lines walk a period's dues in member order (0040)
        Index("ix_dues_coop_agreement_period_member", "cooperative_id", "agreement_id",
              "period", "member_id"),
        ForeignKeyConstraint(
            ["registration_id", "agreement_id", "member_id", "cooperative_id"],
            ["registrations.id", "registrations.agreement_id", "registrations.member_id",
             "registrations.cooperative_id"]),
        CheckConstraint("member_share_minor >= 0 AND cooperative_share_minor >= 0",
                        name="shares_not_negative"),
    )

    cooperative_foreign_key = False
    agreement_id: Mapped[int] = mapped_column()
    member_id: Mapped[int] = mapped_column()
    registration_id: Mapped[int] = mapped_column()
    terms_id: Mapped[int] = mapped_column(ForeignKey("agreement_terms.id"))
    period: Mapped[date] = mapped_column(Date)
    due_date: Mapped[date] = mapped_column(Date)
    grace_until: Mapped[date] = mapped_column(Date)
    member_share_minor: Mapped[int] = mapped_column(BigInteger)
    cooperative_share_minor: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    # the composite key is the registration's: each relationship follows its own column
    member: Mapped[Member] = relationship(primaryjoin="Due.member_id == Member.id",
                                          foreign_keys="Due.member_id")
    agreement: Mapped[Agreement] = relationship(primaryjoin="Due.agreement_id == Agreement.id",
                                                foreign_keys="Due.agreement_id")
    registration: Mapped[Registration] = relationship(
        primaryjoin="Due.registration_id == Registration.id",
        foreign_keys="Due.registration_id")

    @property
    def total_minor(self) -> int:
        """The member's and the cooperative's shares: what the cooperative collects and
        remits. A third party's share (the state's, a donor's) is in `DuePayerShare`, beside
        it, and not in this figure."""
        return self.member_share_minor + self.cooperative_share_minor

    def __repr__(self) -> str:
        return (f"<Due member={self.member_id} agreement={self.agreement_id} "
                f"{self.period:%Y-%m} {self.member_share_minor}+{self.cooperative_share_minor}>")


class CollectionSheet(CooperativeOwned, db.Model):
    """A collection day or meeting posted at once: the control count and total the treasurer
    typed matched the receipts recorded from it (all in one transaction). Append-only."""

    __tablename__ = "collection_sheets"
    __audited__ = True
    __table_args__ = (UniqueConstraint("cooperative_id", "idempotency_key"),)

    cooperative_index = False
    agreement_id: Mapped[int] = mapped_column(ForeignKey("agreements.id"), index=True)
    collected_on: Mapped[date] = mapped_column(Date)
    collector: Mapped[str | None] = mapped_column(String(120))
    control_count: Mapped[int] = mapped_column(Integer)
    control_total_minor: Mapped[int] = mapped_column(BigInteger)
    idempotency_key: Mapped[str] = mapped_column(String(80))
    posted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    agreement: Mapped[Agreement] = relationship()

    def __repr__(self) -> str:
        return f"<CollectionSheet {self.id} {self.collected_on} n={self.control_count}>"


class Receipt(CooperativeOwned, db.Model):
    """Money a member paid. Numbers are sequential per cooperative with no gaps and no repeats
    (`coopreg.core.sequences`); a form submitted twice carries the same idempotency key and
    records one receipt; an external reference is unique per payment method. Append-only:
    a wrong receipt is reversed (`ReceiptReversal`)."""

    __tablename__ = "receipts"
    __audited__ = True
    __table_args__ = (
        UniqueConstraint("cooperative_id", "number"),
        UniqueConstraint("cooperative_id", "idempotency_key"),
        UniqueConstraint("cooperative_id", "method", "external_reference"),
        Index("ix_receipts_coop_member", "cooperative_id", "member_id", "id"),
        Index("ix_receipts_coop_received", "cooperative_id", "received_on", "collector"),
        CheckConstraint("amount_minor > 0", name="amount_positive"),
    )

    cooperative_index = False
    number: Mapped[int] = mapped_column(Integer)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    received_on: Mapped[date] = mapped_column(Date)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    method: Mapped[PaymentMethod] = mapped_column(enum_column(PaymentMethod, 20))
    external_reference: Mapped[str | None] = mapped_column(String(80))
    collector: Mapped[str | None] = mapped_column(String(120))
    note: Mapped[str | None] = mapped_column(String(300))
    idempotency_key: Mapped[str] = mapped_column(String(80))
    collection_sheet_id: Mapped[int | None] = mapped_column(ForeignKey("collection_sheets.id"),
                                                            index=True)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    member: Mapped[Member] = relationship()
    recorded_by: Mapped[User | None] = relationship()
    reversal: Mapped[ReceiptReversal | None] = relationship(back_populates="receipt",
                                                            uselist=False)

    def __repr__(self) -> str:
        return f"<Receipt {self.number} of cooperative {self.cooperative_id}: {self.amount_minor}>"


class ReceiptReversal(CooperativeOwned, db.Model):
    """The reversal of a wrong receipt, with its reason: its allocations are undone by
    negative allocations referencing this row. A receipt is reversed at most once, and a
    reversal cannot itself be reversed. Append-only."""

    __tablename__ = "receipt_reversals"
    __audited__ = True

    receipt_id: Mapped[int] = mapped_column(ForeignKey("receipts.id"), unique=True)
    reason: Mapped[str] = mapped_column(String(300))
    reversed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reversed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    receipt: Mapped[Receipt] = relationship(back_populates="reversal")
    reversed_by: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<ReceiptReversal of receipt {self.receipt_id}>"


class Allocation(CooperativeOwned, db.Model):
    """Part of a receipt applied to a due. Positive when money is applied; a reversal adds
    the negative of each, referencing the reversal. Append-only. The services keep the sum
    per receipt within the receipt's amount and the sum per due within the member's share."""

    __tablename__ = "allocations"
    __table_args__ = (
        CheckConstraint("(amount_minor > 0 AND reversal_id IS NULL) OR "
                        "(amount_minor < 0 AND reversal_id IS NOT NULL)",
                        name="sign_matches_reversal"),
    )

    receipt_id: Mapped[int] = mapped_column(ForeignKey("receipts.id"), index=True)
    due_id: Mapped[int] = mapped_column(ForeignKey("dues.id"), index=True)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    reversal_id: Mapped[int | None] = mapped_column(ForeignKey("receipt_reversals.id"),
                                                    index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    def __repr__(self) -> str:
        return f"<Allocation receipt={self.receipt_id} due={self.due_id} {self.amount_minor}>"


class Remittance(CooperativeOwned, db.Model):
    """Money passed on to the institution for an agreement and a period: the member and
    cooperative shares of the fully paid dues of that period and earlier ones not remitted
    before (those of earlier periods are adjustments: late payments). Its amount equals the
    total of its lines. One per agreement and period; append-only."""

    __tablename__ = "remittances"
    __audited__ = True
    __table_args__ = (
        UniqueConstraint("agreement_id", "period"),
        CheckConstraint("amount_minor > 0", name="amount_positive"),
    )

    agreement_id: Mapped[int] = mapped_column(ForeignKey("agreements.id"))
    period: Mapped[date] = mapped_column(Date)
    remitted_on: Mapped[date] = mapped_column(Date)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    reference: Mapped[str | None] = mapped_column(String(80))
    note: Mapped[str | None] = mapped_column(String(300))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    agreement: Mapped[Agreement] = relationship()
    acknowledgement: Mapped[RemittanceAcknowledgement | None] = relationship(
        back_populates="remittance", uselist=False)

    def __repr__(self) -> str:
        return f"<Remittance agreement={self.agreement_id} {self.period:%Y-%m} {self.amount_minor}>"


class RemittanceLine(CooperativeOwned, db.Model):
    """One due passed on in a remittance, with the shares sent. A due is remitted once."""

    __tablename__ = "remittance_lines"

    remittance_id: Mapped[int] = mapped_column(ForeignKey("remittances.id"), index=True)
    due_id: Mapped[int] = mapped_column(ForeignKey("dues.id"), unique=True)
    member_share_minor: Mapped[int] = mapped_column(BigInteger)
    cooperative_share_minor: Mapped[int] = mapped_column(BigInteger)

    due: Mapped[Due] = relationship()

    def __repr__(self) -> str:
        return f"<RemittanceLine remittance={self.remittance_id} due={self.due_id}>"


class RemittanceAcknowledgement(CooperativeOwned, db.Model):
    """The institution's confirmation of a remittance (date, amount, reference); a difference
    from the remitted amount is flagged by the reconciliation. One per remittance;
    append-only."""

    __tablename__ = "remittance_acknowledgements"
    __audited__ = True

    remittance_id: Mapped[int] = mapped_column(ForeignKey("remittances.id"), unique=True)
    acknowledged_on: Mapped[date] = mapped_column(Date)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    reference: Mapped[str | None] = mapped_column(String(80))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    remittance: Mapped[Remittance] = relationship(back_populates="acknowledgement")

    def __repr__(self) -> str:
        return f"<RemittanceAcknowledgement remittance={self.remittance_id} {self.amount_minor}>"


class PeriodClose(CooperativeOwned, db.Model):
    """A closed period of an agreement: no dues are generated for it and no remittance is
    recorded for it any more; late payments of its dues go into the next remittance as
    adjustments. Closing is final (append-only)."""

    __tablename__ = "period_closes"
    __audited__ = True
    __table_args__ = (UniqueConstraint("agreement_id", "period"),)

    agreement_id: Mapped[int] = mapped_column(ForeignKey("agreements.id"))
    period: Mapped[date] = mapped_column(Date)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    closed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    def __repr__(self) -> str:
        return f"<PeriodClose agreement={self.agreement_id} {self.period:%Y-%m}>"


class DueWriteOff(CooperativeOwned, db.Model):
    """What is left open of a due that will never be paid (the member died, left, or the
    debt is beyond collection), cleared by the treasurer with a reason: an entry of its own,
    never a deletion of the due. The amount is the member's share still open when it was
    written off; it leaves the arrears, the collection sheet and the member's balance, and the
    reconciliation shows it as written off. At most one per due; irreversible (append-only)."""

    __tablename__ = "due_write_offs"
    __audited__ = True
    __table_args__ = (CheckConstraint("amount_minor > 0", name="amount_positive"),)

    due_id: Mapped[int] = mapped_column(ForeignKey("dues.id"), unique=True)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(String(300))
    written_off_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    written_off_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    due: Mapped[Due] = relationship()
    written_off_by: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<DueWriteOff due={self.due_id} {self.amount_minor}>"


class DueTotal(db.Model):
    """A due's running figures: what has been allocated to it (net of reversals) and what was
    written off, kept by database triggers in the same transaction as every allocation and
    write-off (migration 0025), so the pages read one row by key instead of summing a due's
    payments. Never written by the application; a property test holds it equal to the sums
    it stands for. No row: nothing paid nor written off yet."""

    __tablename__ = "due_totals"

    due_id: Mapped[int] = mapped_column(ForeignKey("dues.id"), primary_key=True)
    paid_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    written_off_minor: Mapped[int] = mapped_column(BigInteger, default=0)

    def __repr__(self) -> str:
        return f"<DueTotal due={self.due_id} paid={self.paid_minor} off={self.written_off_minor}>"


class PeriodTotal(db.Model):
    """An agreement's running figures for one period (the first day of a month), kept by
    database triggers in the same transaction as every due, payment (and its reversal),
    write-off and remittance line (migration 0040), so the remittance form, the
    reconciliation and the dashboards read one row per period instead of every due and
    payment of the agreement. Never written by the application; tests hold every column
    equal to the figure recomputed from the money rows.

    Of the period's dues: how many (`dues`), their members' share (`due_minor`) and
    cooperative's share (`cooperative_minor`), the latest grace day, what was paid of them
    (net of reversals) and written off, how many are fully paid (`full_dues`, with both
    shares: `full_minor`), remitted (`remitted_dues`, the lines' shares: `remitted_minor`;
    `remitted_unpaid`: remitted and no longer fully paid) and fully paid but not remitted yet
    (`remittable_dues`, `remittable_minor`). And `collected_minor`: what receipts dated in
    this month applied to the agreement's dues (of any period). No row: nothing yet."""

    __tablename__ = "period_totals"

    cooperative_id: Mapped[int] = mapped_column(ForeignKey("cooperatives.id"))
    agreement_id: Mapped[int] = mapped_column(ForeignKey("agreements.id"), primary_key=True)
    period: Mapped[date] = mapped_column(Date, primary_key=True)
    dues: Mapped[int] = mapped_column(BigInteger)
    due_minor: Mapped[int] = mapped_column(BigInteger)
    cooperative_minor: Mapped[int] = mapped_column(BigInteger)
    paid_minor: Mapped[int] = mapped_column(BigInteger)
    written_off_minor: Mapped[int] = mapped_column(BigInteger)
    full_dues: Mapped[int] = mapped_column(BigInteger)
    full_minor: Mapped[int] = mapped_column(BigInteger)
    remitted_dues: Mapped[int] = mapped_column(BigInteger)
    remitted_minor: Mapped[int] = mapped_column(BigInteger)
    remitted_unpaid: Mapped[int] = mapped_column(BigInteger)
    remittable_dues: Mapped[int] = mapped_column(BigInteger)
    remittable_minor: Mapped[int] = mapped_column(BigInteger)
    collected_minor: Mapped[int] = mapped_column(BigInteger)
    grace_until: Mapped[date | None] = mapped_column(Date)

    def __repr__(self) -> str:
        return (f"<PeriodTotal agreement={self.agreement_id} {self.period:%Y-%m} "
                f"dues={self.dues} paid={self.paid_minor}>")


class CreditTotal(db.Model):
    """A cooperative's running credit: the money its members' receipts brought (reversed
    receipts not counted) and what of it was applied to dues (net of reversals), kept by
    database triggers with every receipt, reversal and allocation (migration 0040). Their
    difference is all members' credit. Also how many receipts it recorded and how many of
    them were reversed (migration 0041). Never written by the application."""

    __tablename__ = "credit_totals"

    cooperative_id: Mapped[int] = mapped_column(ForeignKey("cooperatives.id"),
                                                primary_key=True)
    received_minor: Mapped[int] = mapped_column(BigInteger)
    allocated_minor: Mapped[int] = mapped_column(BigInteger)
    receipts: Mapped[int] = mapped_column(BigInteger, server_default="0")
    reversed_receipts: Mapped[int] = mapped_column(BigInteger, server_default="0")

    def __repr__(self) -> str:
        return (f"<CreditTotal cooperative={self.cooperative_id} "
                f"received={self.received_minor} allocated={self.allocated_minor}>")


class DuePayerShare(CooperativeOwned, db.Model):
    """A third party's share of one due (the state's, a municipality's, a donor's), one row
    per payer share, written by dues generation in the same run as the due (on PostgreSQL in
    the same statement, `contributions.services._insert_dues_and_shares`; on SQLite one more
    INSERT … SELECT per chunk, `_insert_payer_shares`). The member's and the
    cooperative's shares stay on the due itself, so an agreement with no third party writes
    no row here. The due's whole amount is member + third parties + cooperative
    (`agreements.services.split_due`). Append-only, like the dues."""

    __tablename__ = "due_payer_shares"
    __table_args__ = (
        UniqueConstraint("due_id", "payer_id"),
        Index("ix_due_payer_shares_coop_payer", "cooperative_id", "payer_id"),
        CheckConstraint("amount_minor >= 0", name="amount_not_negative"),
    )

    cooperative_index = False
    due_id: Mapped[int] = mapped_column(ForeignKey("dues.id"))
    payer_id: Mapped[int] = mapped_column(ForeignKey("terms_payers.id"))
    amount_minor: Mapped[int] = mapped_column(BigInteger)

    def __repr__(self) -> str:
        return f"<DuePayerShare due={self.due_id} payer={self.payer_id} {self.amount_minor}>"


class ThirdPartyPayment(CooperativeOwned, db.Model):
    """What a third party (the state, a municipality, a donor) paid of its shares of an
    agreement's dues for one period: when, how much, its reference, and whether the money came
    to the cooperative or went to the institution directly (as the payer's terms say).
    Never more than that payer still owes for the period. Append-only; a wrong one is reversed
    (`ThirdPartyPaymentReversal`), like a receipt."""

    __tablename__ = "third_party_payments"
    __audited__ = True
    __table_args__ = (
        Index("ix_third_party_payments_coop_agreement_period", "cooperative_id",
              "agreement_id", "period"),
        CheckConstraint("amount_minor > 0", name="amount_positive"),
    )

    cooperative_index = False
    agreement_id: Mapped[int] = mapped_column(ForeignKey("agreements.id"))
    payer_name: Mapped[str] = mapped_column(String(120))
    period: Mapped[date] = mapped_column(Date)
    paid_on: Mapped[date] = mapped_column(Date)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    reference: Mapped[str] = mapped_column(String(80))
    through_cooperative: Mapped[bool] = mapped_column()
    note: Mapped[str | None] = mapped_column(String(300))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    agreement: Mapped[Agreement] = relationship()
    recorded_by: Mapped[User | None] = relationship()
    reversal: Mapped[ThirdPartyPaymentReversal | None] = relationship(
        back_populates="payment", uselist=False)

    def __repr__(self) -> str:
        return (f"<ThirdPartyPayment {self.payer_name!r} agreement={self.agreement_id} "
                f"{self.period:%Y-%m} {self.amount_minor}>")


class ThirdPartyPaymentReversal(CooperativeOwned, db.Model):
    """The reversal of a wrong third-party payment, with its reason: the payment stays on
    record and stops counting. At most one per payment. Append-only."""

    __tablename__ = "third_party_payment_reversals"
    __audited__ = True

    payment_id: Mapped[int] = mapped_column(ForeignKey("third_party_payments.id"), unique=True)
    reason: Mapped[str] = mapped_column(String(300))
    reversed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reversed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    payment: Mapped[ThirdPartyPayment] = relationship(back_populates="reversal")
    reversed_by: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<ThirdPartyPaymentReversal payment={self.payment_id}>"


class StatementSource(CooperativeOwned, TimestampMixin, db.Model):
    """Where statements come from (a bank account, a mobile-money wallet), with the column
    mapping of its files saved for the next import. Names are unique in the cooperative."""

    __tablename__ = "statement_sources"
    __audited__ = True
    __table_args__ = (UniqueConstraint("cooperative_id", "name"),)

    cooperative_index = False
    name: Mapped[str] = mapped_column(String(80))
    method: Mapped[PaymentMethod] = mapped_column(enum_column(PaymentMethod, 20))
    # the header texts of the mapped columns (member and description are optional)
    date_column: Mapped[str | None] = mapped_column(String(120))
    amount_column: Mapped[str | None] = mapped_column(String(120))
    reference_column: Mapped[str | None] = mapped_column(String(120))
    member_column: Mapped[str | None] = mapped_column(String(120))
    description_column: Mapped[str | None] = mapped_column(String(120))
    date_order: Mapped[str] = mapped_column(String(3), default="ymd")  # ymd, dmy or mdy

    @property
    def mapped(self) -> bool:
        return bool(self.date_column and self.amount_column)

    def __repr__(self) -> str:
        return f"<StatementSource {self.name!r} of cooperative {self.cooperative_id}>"


class Statement(CooperativeOwned, db.Model):
    """One imported statement file: how many lines were new and how many were already
    there (a file imported twice adds nothing)."""

    __tablename__ = "statements"
    __audited__ = True

    source_id: Mapped[int] = mapped_column(ForeignKey("statement_sources.id"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    sha256: Mapped[str] = mapped_column(String(64))
    lines_added: Mapped[int] = mapped_column(Integer)
    lines_known: Mapped[int] = mapped_column(Integer)
    lines_skipped: Mapped[int] = mapped_column(Integer)
    imported_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    imported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    source: Mapped[StatementSource] = relationship()

    def __repr__(self) -> str:
        return f"<Statement {self.id} of source {self.source_id}: {self.lines_added} lines>"


class StatementLine(CooperativeOwned, db.Model):
    """A credit on a statement. `dedup_key` (the bank's reference, or a hash of the line and
    its occurrence in the file) is unique per source, so importing the same statement twice
    adds nothing."""

    __tablename__ = "statement_lines"
    __table_args__ = (
        UniqueConstraint("cooperative_id", "source_id", "dedup_key"),
        CheckConstraint("amount_minor > 0", name="amount_positive"),
    )

    cooperative_index = False
    source_id: Mapped[int] = mapped_column(ForeignKey("statement_sources.id"), index=True)
    statement_id: Mapped[int] = mapped_column(ForeignKey("statements.id"), index=True)
    row_number: Mapped[int] = mapped_column(Integer)
    booked_on: Mapped[date] = mapped_column(Date)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    reference: Mapped[str | None] = mapped_column(String(80))
    member_text: Mapped[str | None] = mapped_column(String(120))
    description: Mapped[str | None] = mapped_column(String(300))
    dedup_key: Mapped[str] = mapped_column(String(90))

    source: Mapped[StatementSource] = relationship()
    match: Mapped[StatementMatch | None] = relationship(back_populates="line", uselist=False)

    def __repr__(self) -> str:
        return f"<StatementLine {self.id} {self.booked_on} {self.amount_minor}>"


class StatementMatch(CooperativeOwned, db.Model):
    """A statement line matched to the receipt it pays for: automatically (by reference, or
    by amount, date and member), linked by the treasurer, or recorded from the line. A line
    and a receipt are each matched at most once. Append-only."""

    __tablename__ = "statement_matches"
    __audited__ = True

    line_id: Mapped[int] = mapped_column(ForeignKey("statement_lines.id"), unique=True)
    receipt_id: Mapped[int] = mapped_column(ForeignKey("receipts.id"), unique=True)
    how: Mapped[str] = mapped_column(String(20))  # reference, amount_date_member, linked, recorded
    matched_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    matched_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    line: Mapped[StatementLine] = relationship(back_populates="match")
    receipt: Mapped[Receipt] = relationship()

    def __repr__(self) -> str:
        return f"<StatementMatch line={self.line_id} receipt={self.receipt_id} {self.how}>"


# Tables the database itself keeps append-only (triggers in migration 0005).
APPEND_ONLY_MODELS = (Due, CollectionSheet, Receipt, ReceiptReversal, Allocation, Remittance,
                      RemittanceLine, RemittanceAcknowledgement, PeriodClose, StatementMatch,
                      DueWriteOff, DuePayerShare, ThirdPartyPayment, ThirdPartyPaymentReversal)


@event.listens_for(Session, "before_flush")
def _refuse_money_changes(session: Session, flush_context, instances) -> None:
    """Posted money records are never changed or deleted through the ORM either."""
    for obj in session.deleted:
        if isinstance(obj, APPEND_ONLY_MODELS):
            raise RuntimeError(f"{obj.__tablename__} rows are append-only: never deleted")
    for obj in session.dirty:
        if not isinstance(obj, APPEND_ONLY_MODELS):
            continue
        state = inspect(obj)
        if any(state.attrs[attr.key].history.has_changes()
               for attr in state.mapper.column_attrs):
            raise RuntimeError(f"{obj.__tablename__} rows are append-only: never changed")
