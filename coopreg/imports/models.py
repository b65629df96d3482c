"""Import runs (one per uploaded file) and the column mapping each cooperative has taught."""

from __future__ import annotations

import enum
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from coopreg.core.labels import label
from coopreg.core.models import CooperativeOwned, TimestampMixin, enum_column
from coopreg.core.states import Lifecycle
from coopreg.extensions import db


class ImportStatus(enum.StrEnum):
    DRAFT = "draft"            # uploaded; the mapping is being chosen
    PREVIEWED = "previewed"    # every row checked; waiting for the person to confirm
    COMMITTED = "committed"    # written to the register (final)
    FAILED = "failed"          # a preview or commit stopped; nothing was written


# What may follow what. A committed import never changes again; a failed one may be
# previewed or committed again (a retry starts from a clean register: nothing was written).
IMPORT_STATUS_TRANSITIONS: dict[ImportStatus, frozenset[ImportStatus]] = {
    ImportStatus.DRAFT: frozenset({ImportStatus.DRAFT, ImportStatus.PREVIEWED,
                                   ImportStatus.FAILED}),
    ImportStatus.PREVIEWED: frozenset({ImportStatus.DRAFT, ImportStatus.PREVIEWED,
                                       ImportStatus.COMMITTED, ImportStatus.FAILED}),
    ImportStatus.FAILED: frozenset({ImportStatus.DRAFT, ImportStatus.PREVIEWED,
                                    ImportStatus.COMMITTED, ImportStatus.FAILED}),
    ImportStatus.COMMITTED: frozenset(),
}
IMPORT_LIFECYCLE = Lifecycle(IMPORT_STATUS_TRANSITIONS, lambda current, new: _(
    "This import is %(current)s and cannot become %(new)s.", current=label(current),
    new=label(new)))


class ImportRun(CooperativeOwned, TimestampMixin, db.Model):
    """One spreadsheet brought into the register: who uploaded it, when, its name and
    SHA-256, the mapping and options used, and the counts. The file itself is kept under the
    instance folder (`stored_name`), never in the database. Rows reach the register only
    through a commit, all at once or not at all."""

    __tablename__ = "import_runs"
    __audited__ = True
    __audit_exclude__ = ("problems", "sample")
    __table_args__ = (Index("ix_import_runs_coop_id", "cooperative_id", "id"),)

    cooperative_index = False
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    source: Mapped[str] = mapped_column(String(10), default="web")  # web, cli
    original_filename: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(Integer)
    file_format: Mapped[str] = mapped_column(String(10))
    stored_name: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[ImportStatus] = mapped_column(enum_column(ImportStatus),
                                                 default=ImportStatus.DRAFT)
    # The first rows as text (for the mapping page) and the total number of rows read.
    sample: Mapped[list | None] = mapped_column(JSON)
    total_rows: Mapped[int] = mapped_column(Integer, default=0)
    header_row: Mapped[int | None] = mapped_column(Integer)  # 1-based, as in the spreadsheet
    mapping: Mapped[dict | None] = mapped_column(JSON)       # column index (str) → field
    options: Mapped[dict | None] = mapped_column(JSON)
    rows_read: Mapped[int] = mapped_column(Integer, default=0)
    rows_created: Mapped[int] = mapped_column(Integer, default=0)
    rows_updated: Mapped[int] = mapped_column(Integer, default=0)
    rows_unchanged: Mapped[int] = mapped_column(Integer, default=0)
    rows_skipped: Mapped[int] = mapped_column(Integer, default=0)
    rows_refused: Mapped[int] = mapped_column(Integer, default=0)
    warnings: Mapped[int] = mapped_column(Integer, default=0)
    problems: Mapped[list | None] = mapped_column(JSON)      # the first problems, for the page
    problems_file: Mapped[str | None] = mapped_column(String(200))
    message: Mapped[dict | None] = mapped_column(JSON)       # why it failed (a kept sentence)
    job_id: Mapped[int | None] = mapped_column(ForeignKey("jobs.id"))
    previewed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    committed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    def __repr__(self) -> str:
        return f"<ImportRun {self.id} {self.original_filename!r} {self.status}>"


class ImportMapping(CooperativeOwned, TimestampMixin, db.Model):
    """What a column header means in this cooperative's files, as a person confirmed it
    (`field` empty: the column is not imported). Proposed first the next time."""

    __tablename__ = "import_mappings"
    __audited__ = True
    __table_args__ = (UniqueConstraint("cooperative_id", "header_key"),)

    cooperative_index = False
    header_key: Mapped[str] = mapped_column(String(200))
    field: Mapped[str] = mapped_column(String(40), default="")

    def __repr__(self) -> str:
        return f"<ImportMapping {self.header_key!r} → {self.field or '-'}>"
