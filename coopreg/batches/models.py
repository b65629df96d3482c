"""File layouts, batches (the files sent to an institution, sealed once written) and the
institution's acknowledgements."""

from __future__ import annotations

import enum
from datetime import date, datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
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
    inspect,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from coopreg.agreements.models import Agreement, Registration
from coopreg.batches.answer_reading import AnswerResult
from coopreg.core.labels import label, labels_for
from coopreg.core.models import CooperativeOwned, TimestampMixin, enum_column
from coopreg.core.sentences import say
from coopreg.core.states import Lifecycle
from coopreg.extensions import db
from coopreg.members.models import Member


class BatchKind(enum.StrEnum):
    ENROLMENT = "enrolment"
    UPDATE = "update"
    EXIT = "exit"
    REMITTANCE = "remittance"


class FileFormat(enum.StrEnum):
    XLSX = "xlsx"
    CSV = "csv"
    FIXED = "fixed"  # fixed-width text


class ColumnType(enum.StrEnum):
    TEXT = "text"
    NUMBER = "number"
    DATE = "date"
    AMOUNT = "amount"


class BatchStatus(enum.StrEnum):
    DRAFT = "draft"
    DISCARDED = "discarded"  # a draft given up: its number stays taken, nothing was written
    SEALED = "sealed"
    SENT = "sent"
    PARTIALLY_ACKNOWLEDGED = "partially_acknowledged"
    ACKNOWLEDGED = "acknowledged"
    SUPERSEDED = "superseded"  # a later batch replaces it; its file stays as it was


B = BatchStatus
# The only status changes a batch goes through. Once sealed, only these status fields (and the
# sending details) may change: never its lines, its file or the numbers describing the file.
BATCH_TRANSITIONS: dict[BatchStatus, frozenset[BatchStatus]] = {
    B.DRAFT: frozenset({B.SEALED, B.DISCARDED}),
    B.DISCARDED: frozenset(),
    B.SEALED: frozenset({B.SENT, B.PARTIALLY_ACKNOWLEDGED, B.ACKNOWLEDGED, B.SUPERSEDED}),
    B.SENT: frozenset({B.PARTIALLY_ACKNOWLEDGED, B.ACKNOWLEDGED, B.SUPERSEDED}),
    B.PARTIALLY_ACKNOWLEDGED: frozenset({B.PARTIALLY_ACKNOWLEDGED, B.ACKNOWLEDGED,
                                         B.SUPERSEDED}),
    B.ACKNOWLEDGED: frozenset(),
    B.SUPERSEDED: frozenset(),
}
BATCH_LIFECYCLE = Lifecycle(BATCH_TRANSITIONS, lambda current, new: _(
    "This batch is %(current)s: it cannot become %(new)s.", current=label(current),
    new=label(new)))
SEALED_STATUSES = frozenset({B.SEALED, B.SENT, B.PARTIALLY_ACKNOWLEDGED, B.ACKNOWLEDGED,
                             B.SUPERSEDED})
# Batch fields that describe the file and what it holds: fixed for good at sealing.
FROZEN_FIELDS = ("cooperative_id", "agreement_id", "kind", "number", "reference", "period",
                 "supersedes_id", "file_format", "layout_snapshot", "file_path", "sha256",
                 "data_checksum", "row_count", "totals", "total_minor", "col_widths",
                 "sealed_at", "sealed_by_id")


class FileLayout(CooperativeOwned, TimestampMixin, db.Model):
    """How one agreement's files of one kind are written: the format and the ordered columns.
    Layouts are data an admin edits; one layout per agreement and kind."""

    __tablename__ = "file_layouts"
    __audited__ = True
    __table_args__ = (UniqueConstraint("agreement_id", "kind"),)

    agreement_id: Mapped[int] = mapped_column(ForeignKey("agreements.id"))
    kind: Mapped[BatchKind] = mapped_column(enum_column(BatchKind))
    name: Mapped[str] = mapped_column(String(120))
    format: Mapped[FileFormat] = mapped_column(enum_column(FileFormat, 10))
    # CSV and fixed width: "utf-8-sig" (UTF-8 with BOM), "utf-8" or "cp1252"
    encoding: Mapped[str] = mapped_column(String(12), default="utf-8-sig")
    delimiter: Mapped[str] = mapped_column(String(1), default=",")
    decimal_mark: Mapped[str] = mapped_column(String(1), default=".")
    include_header: Mapped[bool] = mapped_column(Boolean, default=True)
    # fixed width: a record written before / after the detail lines, with {placeholders}
    header_line: Mapped[str | None] = mapped_column(String(500))
    footer_line: Mapped[str | None] = mapped_column(String(500))
    built_in_origin: Mapped[str | None] = mapped_column(String(60))
    # how an enrolment file carries the dependants enrolled with a member: not at all
    # ("none"), a line per dependant after the member's ("lines"), or the dependants'
    # columns on the member's line ("columns"); see `batches.dependants`
    dependants_mode: Mapped[str] = mapped_column(String(10), default="none")

    agreement: Mapped[Agreement] = relationship()
    columns: Mapped[list[LayoutColumn]] = relationship(
        back_populates="layout", cascade="all, delete-orphan",
        order_by="(LayoutColumn.position, LayoutColumn.id)")

    def __repr__(self) -> str:
        return f"<FileLayout {self.kind} {self.format} of agreement {self.agreement_id}>"


class LayoutColumn(CooperativeOwned, db.Model):
    """One column of a layout: its header, where its value comes from (`source`, a key of
    `coopreg.batches.layouts.SOURCES`), how it is written, and whether it must be filled."""

    __tablename__ = "layout_columns"
    __audited__ = True

    layout_id: Mapped[int] = mapped_column(ForeignKey("file_layouts.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    header: Mapped[str] = mapped_column(String(120))
    source: Mapped[str] = mapped_column(String(60))
    fixed_value: Mapped[str | None] = mapped_column(String(200))
    col_type: Mapped[ColumnType] = mapped_column(enum_column(ColumnType, 10))
    date_pattern: Mapped[str | None] = mapped_column(String(40))
    id_format: Mapped[str] = mapped_column(String(10), default="compact")
    decimals: Mapped[int] = mapped_column(Integer, default=2)
    implied_decimals: Mapped[bool] = mapped_column(Boolean, default=False)
    transform: Mapped[str] = mapped_column(String(12), default="none")
    width: Mapped[int | None] = mapped_column(Integer)
    align: Mapped[str] = mapped_column(String(5), default="left")
    pad: Mapped[str] = mapped_column(String(1), default=" ")
    required: Mapped[bool] = mapped_column(Boolean, default=False)

    layout: Mapped[FileLayout] = relationship(back_populates="columns")

    def __repr__(self) -> str:
        return f"<LayoutColumn {self.position} {self.header!r} ← {self.source}>"


class Batch(CooperativeOwned, TimestampMixin, db.Model):
    """One file for the institution. A draft's lines can be rebuilt; sealing writes the file,
    records its SHA-256, and freezes the batch for good (`FROZEN_FIELDS`, the lines): the ORM
    refuses the change here and the database refuses it with triggers (migration 0006). A
    mistake is mended by a new batch that supersedes it."""

    __tablename__ = "batches"
    __audited__ = True
    __audit_exclude__ = ("layout_snapshot", "col_widths")
    __table_args__ = (
        UniqueConstraint("cooperative_id", "number"),
        Index("ix_batches_coop_agreement", "cooperative_id", "agreement_id", "kind", "id"),
    )

    cooperative_index = False
    agreement_id: Mapped[int] = mapped_column(ForeignKey("agreements.id"))
    kind: Mapped[BatchKind] = mapped_column(enum_column(BatchKind))
    number: Mapped[int] = mapped_column(Integer)
    reference: Mapped[str] = mapped_column(String(20))
    period: Mapped[date | None] = mapped_column(Date)  # remittance: the month (first day)
    status: Mapped[BatchStatus] = mapped_column(enum_column(BatchStatus, 24), default=B.DRAFT)
    # "exclude": lines with problems are left out; "block": no sealing while any has one
    problem_policy: Mapped[str] = mapped_column(String(10), default="exclude")
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("batches.id"))
    layout_id: Mapped[int | None] = mapped_column(ForeignKey("file_layouts.id",
                                                             ondelete="SET NULL"))
    file_format: Mapped[FileFormat] = mapped_column(enum_column(FileFormat, 10))
    layout_snapshot: Mapped[dict] = mapped_column(JSON)
    col_widths: Mapped[list | None] = mapped_column(JSON)
    file_path: Mapped[str | None] = mapped_column(String(300))  # relative to EXPORT_DIR
    sha256: Mapped[str | None] = mapped_column(String(64))
    data_checksum: Mapped[str | None] = mapped_column(String(64))
    row_count: Mapped[int | None] = mapped_column(Integer)
    totals: Mapped[dict | None] = mapped_column(JSON)  # minor units
    total_minor: Mapped[int | None] = mapped_column(BigInteger)
    sealed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    sealed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    sent_on: Mapped[date | None] = mapped_column(Date)
    sent_channel: Mapped[str | None] = mapped_column(String(60))
    sent_note: Mapped[str | None] = mapped_column(String(300))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    agreement: Mapped[Agreement] = relationship()
    supersedes: Mapped[Batch | None] = relationship(remote_side="Batch.id")

    @property
    def is_sealed(self) -> bool:
        return self.status in SEALED_STATUSES

    def __repr__(self) -> str:
        return f"<Batch {self.reference} {self.kind} {self.status}>"


class BatchLine(CooperativeOwned, db.Model):
    """One line of a batch: a snapshot of what is (or will be) written, the member and
    registration it stands for, and its problems. Lines of a sealed batch never change."""

    __tablename__ = "batch_lines"
    __table_args__ = (
        Index("ix_batch_lines_batch_line_no", "batch_id", "line_no"),
        Index("ix_batch_lines_registration", "registration_id"),
    )

    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"))
    line_no: Mapped[int] = mapped_column(Integer)
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"), index=True)
    registration_id: Mapped[int | None] = mapped_column(ForeignKey("registrations.id"))
    # a line for a dependant the member carries (layouts with a line per dependant): its
    # member is the carrier, it has no registration of its own
    dependant_id: Mapped[int | None] = mapped_column(ForeignKey("dependants.id"))
    values: Mapped[list] = mapped_column(JSON)
    # the member's exported fields when the line was made (update batches compare with them)
    source_values: Mapped[dict | None] = mapped_column(JSON)
    amount_minor: Mapped[int | None] = mapped_column(BigInteger)
    member_share_minor: Mapped[int | None] = mapped_column(BigInteger)
    cooperative_share_minor: Mapped[int | None] = mapped_column(BigInteger)
    problem: Mapped[str | None] = mapped_column(Text)
    included: Mapped[bool] = mapped_column(Boolean, default=True)

    member: Mapped[Member | None] = relationship()
    registration: Mapped[Registration | None] = relationship()

    @property
    def problems(self) -> list[str]:
        return self.problem.split("\n") if self.problem else []

    def __repr__(self) -> str:
        return f"<BatchLine {self.line_no} of batch {self.batch_id}>"


class AckMapping(CooperativeOwned, TimestampMixin, db.Model):
    """How one agreement's acknowledgement files read: which column (by its header text) holds
    each piece, and which result values mean accepted or rejected. Kept once per agreement."""

    __tablename__ = "ack_mappings"
    __audited__ = True
    __table_args__ = (UniqueConstraint("agreement_id"),)

    agreement_id: Mapped[int] = mapped_column(ForeignKey("agreements.id"))
    columns: Mapped[dict] = mapped_column(JSON)  # role → header text
    accepted_values: Mapped[str] = mapped_column(String(200))
    rejected_values: Mapped[str] = mapped_column(String(200))
    # "dmy" or "mdy" when the secretary said so; None: read from each file's dates
    date_order: Mapped[str | None] = mapped_column(String(3))

    def __repr__(self) -> str:
        return f"<AckMapping of agreement {self.agreement_id}>"


class AckStatus(enum.StrEnum):
    UPLOADED = "uploaded"  # read, waiting for the mapping and the preview
    APPLIED = "applied"
    DISCARDED = "discarded"
    EXPIRED = "expired"  # never applied, and its rows removed after the retention period


# An answer file is applied or discarded once, never both, never again.
ACK_TRANSITIONS: dict[AckStatus, frozenset[AckStatus]] = {
    AckStatus.UPLOADED: frozenset({AckStatus.APPLIED, AckStatus.DISCARDED, AckStatus.EXPIRED}),
    AckStatus.APPLIED: frozenset(),
    AckStatus.DISCARDED: frozenset(),
    AckStatus.EXPIRED: frozenset(),
}
ACK_LIFECYCLE = Lifecycle(ACK_TRANSITIONS, lambda current, new: (
    _("An applied file stays on record.") if current == AckStatus.APPLIED
    else _("This answer file expired: upload it again.") if current == AckStatus.EXPIRED
    else _("This answer file was discarded.")))


class Acknowledgement(CooperativeOwned, TimestampMixin, db.Model):
    """An answer file of the institution for a sealed batch: read, matched line by line, and
    applied all or nothing. A batch can be answered in several parts."""

    __tablename__ = "acknowledgements"
    __audited__ = True
    __audit_exclude__ = ("headers",)

    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"), index=True)
    file_name: Mapped[str] = mapped_column(String(200))
    sha256: Mapped[str] = mapped_column(String(64))
    status: Mapped[AckStatus] = mapped_column(enum_column(AckStatus), default=AckStatus.UPLOADED)
    headers: Mapped[list] = mapped_column(JSON)
    header_row: Mapped[int] = mapped_column(Integer, default=1)  # where the headers were found
    row_count: Mapped[int] = mapped_column(Integer, default=0)
    accepted_count: Mapped[int] = mapped_column(Integer, default=0)
    rejected_count: Mapped[int] = mapped_column(Integer, default=0)
    unmatched_count: Mapped[int] = mapped_column(Integer, default=0)
    problem_count: Mapped[int] = mapped_column(Integer, default=0)
    interpreted: Mapped[bool] = mapped_column(Boolean, default=False)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    applied_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    applied_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    batch: Mapped[Batch] = relationship()
    lines: Mapped[list[AcknowledgementLine]] = relationship(
        back_populates="acknowledgement", order_by="AcknowledgementLine.row_no",
        cascade="all, delete-orphan")

    def __repr__(self) -> str:
        return f"<Acknowledgement {self.file_name!r} of batch {self.batch_id} {self.status}>"


class ProblemKind(enum.StrEnum):
    BLOCKING = "blocking"  # the file cannot be applied while a row has one
    SKIPPED = "skipped"  # reported and left aside: no match, or answered before


labels_for(ProblemKind, {ProblemKind.BLOCKING: _l("Keeps the file from being applied"),
                         ProblemKind.SKIPPED: _l("Left aside")})


class AcknowledgementLine(CooperativeOwned, db.Model):
    """One row of an answer file: what it says, the batch line it matched (never guessed:
    none when nothing matches) and what stops it from being applied."""

    __tablename__ = "acknowledgement_lines"
    __table_args__ = (Index("ix_acknowledgement_lines_ack_row", "acknowledgement_id", "row_no"),)

    acknowledgement_id: Mapped[int] = mapped_column(ForeignKey("acknowledgements.id"))
    row_no: Mapped[int] = mapped_column(Integer)
    raw: Mapped[list] = mapped_column(JSON)
    batch_line_id: Mapped[int | None] = mapped_column(ForeignKey("batch_lines.id"), index=True)
    result: Mapped[AnswerResult | None] = mapped_column(enum_column(AnswerResult, length=10))
    institution_number: Mapped[str | None] = mapped_column(String(40))
    reason: Mapped[str | None] = mapped_column(String(300))
    effective_date: Mapped[date | None] = mapped_column(Date)
    # kept sentences (core.sentences), said in the reader's language
    problems: Mapped[list | None] = mapped_column(JSON(none_as_null=True))
    problem_kind: Mapped[ProblemKind | None] = mapped_column(enum_column(ProblemKind, length=10))
    applied: Mapped[bool] = mapped_column(Boolean, default=False)

    acknowledgement: Mapped[Acknowledgement] = relationship(back_populates="lines")
    batch_line: Mapped[BatchLine | None] = relationship()

    @property
    def problem_text(self) -> str:
        """The row's problems in the current language, one a line."""
        return "\n".join(say(p) for p in self.problems or [])

    def __repr__(self) -> str:
        return f"<AcknowledgementLine {self.row_no} of acknowledgement {self.acknowledgement_id}>"


def _old_status(batch: Batch) -> BatchStatus | None:
    history = inspect(batch).attrs.status.history
    if history.deleted:
        return history.deleted[0]
    return batch.status


@event.listens_for(Session, "before_flush")
def _refuse_changes_to_sealed_batches(session: Session, flush_context, instances) -> None:
    """A sealed batch keeps its file fields and its lines for good (the database refuses it
    too, see migration 0006)."""
    for obj in session.deleted:
        if isinstance(obj, Batch) and _old_status(obj) != B.DRAFT:
            raise RuntimeError(f"batch {obj.reference} is sealed: it cannot be deleted")
        if isinstance(obj, BatchLine):
            batch = session.get(Batch, obj.batch_id)
            if batch is not None and _old_status(batch) != B.DRAFT:
                raise RuntimeError("the lines of a sealed batch cannot be deleted")
    for obj in session.dirty:
        if isinstance(obj, Batch) and session.is_modified(obj):
            old = _old_status(obj)
            if old == B.DRAFT:
                continue
            state = inspect(obj)
            changed = [key for key in FROZEN_FIELDS if state.attrs[key].history.has_changes()]
            if changed:
                raise RuntimeError(f"batch {obj.reference} is sealed: {', '.join(changed)} "
                                   "cannot change")
            if obj.status == B.DRAFT:
                raise RuntimeError(f"batch {obj.reference} is sealed: it cannot become a draft")
        elif isinstance(obj, BatchLine) and session.is_modified(obj):
            batch = session.get(Batch, obj.batch_id)
            if batch is not None and _old_status(batch) != B.DRAFT:
                raise RuntimeError("the lines of a sealed batch cannot change")
    for obj in session.new:
        if isinstance(obj, BatchLine):
            batch = session.get(Batch, obj.batch_id) if obj.batch_id else None
            if batch is not None and _old_status(batch) != B.DRAFT:
                raise RuntimeError("lines cannot be added to a sealed batch")
