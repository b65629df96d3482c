"""Bringing members in from a spreadsheet: upload, mapping, preview, all-or-nothing commit.

Every row is checked by the member form's own rules (`clean_member_data`), plus duplicates
inside the file and against the register. Nothing is written by a preview; a commit writes
every row or none (one transaction: the job's, or the command's), and refuses a file with
problems unless the person chose to import only the valid rows. Existing members (matched by
national ID, or by member number for a row without ID) are changed only when asked.
"""

from __future__ import annotations

import gc
import hashlib
import json
import logging
import os
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select, text

from coopreg.cooperatives.models import Cooperative
from coopreg.core.audit import record_bulk
from coopreg.core.bulk import insert_rows
from coopreg.core.diskspace import temporary_file, write_atomically
from coopreg.core.errors import DomainError
from coopreg.core.models import utcnow
from coopreg.core.sentences import kept, kept_error, sentence
from coopreg.core.spreadsheets import (
    Column,
    ReadLimits,
    Sheet,
    Table,
    cell_text,
    column_letter,
    read_table,
    write_xlsx,
)
from coopreg.core.tenancy import get_scoped, unscoped
from coopreg.core.text import ascii_digits, fold
from coopreg.core.unit_of_work import checkpoint, discard
from coopreg.extensions import db
from coopreg.imports import fields as F
from coopreg.imports.models import (
    IMPORT_LIFECYCLE,
    ImportMapping,
    ImportRun,
    ImportStatus,
)
from coopreg.jobs.services import create_job, job_handler, start_job
from coopreg.members.models import ConsentMethod, Member, MemberStatus, Sector, Sex
from coopreg.members.national_ids import id_types_for, normalise_id
from coopreg.members.services import (
    clean_member_data,
    reserve_member_numbers,
    search_fields,
)
from coopreg.members.versions import register_changed

log = logging.getLogger(__name__)

SAMPLE_ROWS = 30          # rows kept for the mapping page (title rows + header + examples)
PROBLEMS_SHOWN = 200      # problems kept on the run for its page (all are in the file)
CHUNK = 1000              # rows per bulk insert
Progress = Callable[[int, int, str], None]


def _no_progress(done: int, total: int, message: str = "") -> None:
    return None


# ---- where files live ---------------------------------------------------------------------------

def import_dir(cooperative_id: int) -> Path:
    path = Path(current_app.config["IMPORT_DIR"]) / str(int(cooperative_id))
    path.mkdir(parents=True, exist_ok=True)
    return path


def read_limits() -> ReadLimits:
    return ReadLimits.from_config(current_app.config)


def _write_atomically(path: Path, data: bytes) -> None:
    # whole or not at all; a full disk says so ("no room left; nothing was saved")
    write_atomically(path, data, field="file")


def display_name(filename: str) -> str:
    """The person's file name, for showing only (never a path): last component, 255 chars."""
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    return (name or "upload")[-255:]


def set_status(run: ImportRun, status: ImportStatus) -> None:
    IMPORT_LIFECYCLE.move(run, status)


# ---- header and mapping -------------------------------------------------------------------------

def find_header_row(rows: list[list[Any]], scan: int = SAMPLE_ROWS) -> int:
    """The 0-based index of the header row: among the first rows, the one where most cells
    name a member field (title rows above it score nothing); else the first non-empty row."""
    best, best_score, first_filled = None, 0, None
    for index, row in enumerate(rows[:scan]):
        texts = [cell_text(v) for v in row]
        if not any(texts):
            continue
        if first_filled is None:
            first_filled = index
        fields = {F.guess_field(t)[0] for t in texts if t and not _looks_like_data(t)}
        fields.discard(None)
        if len(fields) > best_score:
            best, best_score = index, len(fields)
    if best is not None and best_score >= 2:
        return best
    return first_filled or 0


def _looks_like_data(text: str) -> bool:
    return any(c in "0123456789" for c in text)


@dataclass
class SourceColumn:
    index: int
    letter: str
    header: str
    examples: list[str]

    @property
    def label(self) -> str:
        return f"{self.letter} · {self.header}" if self.header else self.letter


def source_columns(rows: list[list[Any]], header_index: int,
                   examples: int = 3) -> list[SourceColumn]:
    """The columns under the header row (a column without a header but with data is kept)."""
    header = rows[header_index] if header_index < len(rows) else []
    below = rows[header_index + 1:]
    width = max([len(header)] + [len(r) for r in below[:SAMPLE_ROWS]]) if rows else 0
    columns = []
    for index in range(width):
        title = cell_text(header[index]) if index < len(header) else ""
        values = [cell_text(r[index]) for r in below if index < len(r)]
        filled = [v for v in values[:SAMPLE_ROWS] if v]
        if not title and not filled:
            continue
        columns.append(SourceColumn(index, column_letter(index), title[:120], filled[:examples]))
    return columns


def propose_mapping(cooperative_id: int, columns: list[SourceColumn]) -> dict[int, str]:
    """Column index → field: what this cooperative confirmed before for the same header,
    else what the header says in English, Spanish, French or Portuguese. A field goes to one
    column only (an exact header wins over a partial one, then the leftmost)."""
    saved = dict(db.session.execute(select(ImportMapping.header_key, ImportMapping.field).where(
        ImportMapping.cooperative_id == cooperative_id)).all())
    candidates: list[tuple[int, int, str]] = []  # (rank, column index, field)
    for column in columns:
        key = F.header_key(column.header)
        if key in saved:
            if saved[key]:
                candidates.append((0, column.index, saved[key]))
            continue
        guessed, exact = F.guess_field(column.header)
        if guessed:
            candidates.append((1 if exact else 2, column.index, guessed))
    mapping: dict[int, str] = {c.index: "" for c in columns}
    taken: set[str] = set()
    for _rank, index, target in sorted(candidates):
        if target in F.FIELD_BY_KEY and target not in taken:
            mapping[index] = target
            taken.add(target)
    return mapping


def check_mapping(mapping: dict[int, str], defaults: dict[str, Any]) -> None:
    """Each field at most once; every required field has a column (or, for sector and the
    joining date, one value for all rows)."""
    seen: dict[str, int] = {}
    for index, target in mapping.items():
        if not target:
            continue
        if target not in F.FIELD_BY_KEY:
            raise DomainError(_("Unknown member field: %(field)s.", field=target))
        if target in seen:
            raise DomainError(_("%(field)s is chosen for two columns (%(a)s and %(b)s); "
                                "choose it for one only.",
                                field=F.FIELD_BY_KEY[target].label,
                                a=column_letter(seen[target]), b=column_letter(index)))
        seen[target] = index
    missing = [k for k in F.REQUIRED if k not in seen and not defaults.get(k)]
    if missing:
        raise MissingColumns(_("Choose the column that holds: %(fields)s. Every member needs "
                               "them.", fields=", ".join(str(F.FIELD_BY_KEY[k].label)
                                                         for k in missing)), missing)


class MissingColumns(DomainError):
    """Required member fields with no column and no default: `keys` names them."""

    def __init__(self, message: str, keys: list[str]):
        super().__init__(message)
        self.keys = keys


def save_mapping(run: ImportRun, header_row: int, mapping: dict[int, str],
                 defaults: dict[str, Any]) -> ImportRun:
    """Record the confirmed mapping on the run and remember it for the cooperative's next
    files (per header text). The run goes back to draft until it is previewed again."""
    if run.status == ImportStatus.COMMITTED:
        raise DomainError(_("This import is already done."))
    check_mapping(mapping, defaults)
    rows = run.sample or []
    if not 1 <= header_row <= max(len(rows), 1):
        raise DomainError(_("The header row must be one of the first %(n)d rows.",
                            n=len(rows)), field="header_row")
    columns = {c.index: c for c in source_columns(rows, header_row - 1)}
    saved = {m.header_key: m for m in db.session.scalars(select(ImportMapping).where(
        ImportMapping.cooperative_id == run.cooperative_id)).all()}
    for index, target in mapping.items():
        column = columns.get(index)
        key = F.header_key(column.header) if column else ""
        if not key:
            continue
        if key in saved:
            if saved[key].field != target:
                saved[key].field = target
        else:
            saved[key] = ImportMapping(cooperative_id=run.cooperative_id, header_key=key,
                                       field=target)
            db.session.add(saved[key])
    set_status(run, ImportStatus.DRAFT)
    run.header_row = header_row
    run.mapping = {str(i): t for i, t in sorted(mapping.items()) if t and i in columns}
    options = dict(run.options or {})
    options["defaults"] = {k: (v.isoformat() if isinstance(v, date) else v)
                           for k, v in defaults.items() if v}
    run.options = options
    _reset_counts(run)
    db.session.flush()
    return run


def _reset_counts(run: ImportRun) -> None:
    run.previewed_at = None
    run.rows_read = run.rows_created = run.rows_updated = run.rows_unchanged = 0
    run.rows_skipped = run.rows_refused = run.warnings = 0
    run.problems = None
    run.problems_file = None
    run.message = None
    _drop_stage(run)


# ---- upload ---------------------------------------------------------------------------------

def store_upload(cooperative: Cooperative, user_id: int | None, filename: str,
                 data: bytes) -> ImportRun:
    """Check an uploaded file (a hostile or unreadable one is refused with the reason, and
    nothing is kept), store it under the instance folder by its SHA-256 (a name the app
    makes), and record the run with its first rows and a proposed header row."""
    name = display_name(filename)
    table = read_table(data, filename=name, limits=read_limits())
    if not any(any(cell_text(v) for v in row) for row in table.rows):
        raise DomainError(_("The file has no rows."), field="file")
    digest = hashlib.sha256(data).hexdigest()
    path = import_dir(cooperative.id) / digest
    if not path.exists():
        _write_atomically(path, data)
    width = min(table.width, read_limits().max_columns)
    sample = [[cell_text(v)[:200] for v in row[:width]] for row in table.rows[:SAMPLE_ROWS]]
    run = ImportRun(cooperative_id=cooperative.id, created_by_id=user_id, source="web",
                    original_filename=name, sha256=digest, size_bytes=len(data),
                    file_format=table.format, stored_name=f"{cooperative.id}/{digest}",
                    status=ImportStatus.DRAFT, sample=sample, total_rows=len(table.rows),
                    header_row=find_header_row(table.rows) + 1, options={})
    db.session.add(run)
    db.session.flush()
    return run


def upload_expires_at(run: ImportRun) -> datetime | None:
    """When the file of an upload that was never previewed (still a draft) is removed;
    None once it has been previewed or is gone."""
    if run.status != ImportStatus.DRAFT or not run.stored_name or run.created_at is None:
        return None
    hours = current_app.config["IMPORT_UPLOAD_RETENTION_HOURS"]
    created = run.created_at
    if created.tzinfo is None:  # SQLite hands back naive UTC
        created = created.replace(tzinfo=UTC)
    return created + timedelta(hours=hours)


def expire_uploads(now: datetime | None = None) -> int:
    """Remove the files of uploads never previewed (drafts) older than
    IMPORT_UPLOAD_RETENTION_HOURS, cooperative by cooperative: the run keeps its name, date
    and SHA-256 (audited), loses its file, and asks for a new upload. A file another live
    upload of the same cooperative still uses (same SHA-256) stays. Returns how many runs
    expired."""
    now = now or utcnow()
    cutoff = now - timedelta(hours=current_app.config["IMPORT_UPLOAD_RETENTION_HOURS"])
    expired = 0
    for cooperative_id in db.session.scalars(select(Cooperative.id).order_by(Cooperative.id)):
        runs = db.session.scalars(select(ImportRun).where(
            ImportRun.cooperative_id == cooperative_id, ImportRun.status == ImportStatus.DRAFT,
            ImportRun.stored_name.is_not(None), ImportRun.created_at < cutoff)).all()
        names = set()
        for run in runs:
            names.add(run.stored_name)
            run.stored_name = None
        db.session.flush()
        for name in names:
            if db.session.scalar(select(ImportRun.id).where(
                    ImportRun.cooperative_id == cooperative_id,
                    ImportRun.stored_name == name).limit(1)) is None:
                (Path(current_app.config["IMPORT_DIR"]) / name).unlink(missing_ok=True)
        expired += len(runs)
    return expired


def load_table(run: ImportRun) -> Table:
    """The run's stored file, read again (checked again: limits may have changed)."""
    path = Path(current_app.config["IMPORT_DIR"]) / (run.stored_name or "-")
    if not run.stored_name or not path.is_file():
        raise DomainError(_("The uploaded file is no longer on the server; upload it again."))
    data = path.read_bytes()
    if hashlib.sha256(data).hexdigest() != run.sha256:
        raise DomainError(_("The stored file has changed since it was uploaded; upload it "
                            "again."))
    return read_table(data, filename=run.original_filename, limits=read_limits())


# ---- the check of every row -------------------------------------------------------------------

ERROR, WARNING, NOTICE = "error", "warning", "notice"


@dataclass
class Problem:
    row: int            # the spreadsheet's row number
    column: str         # "D · Fecha de nacimiento", or "" when no column holds the field
    field: str          # the member field, or ""
    message: str
    severity: str = ERROR

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "field": self.field,
                "message": self.message, "severity": self.severity}


@dataclass
class RowResult:
    row: int
    cells: list[Any]
    values: dict[str, Any] | None = None
    action: str = "refused"    # create, update, unchanged, skipped, refused
    member_id: int | None = None
    changes: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    @property
    def has_errors(self) -> bool:
        return any(p.severity == ERROR for p in self.problems)


@dataclass
class Analysis:
    headers: list[str]
    header_row: int
    results: list[RowResult]

    def count(self, action: str) -> int:
        return sum(1 for r in self.results if r.action == action)

    @property
    def problems(self) -> Iterator[Problem]:
        for result in self.results:
            yield from result.problems

    @property
    def counts(self) -> dict[str, int]:
        return {"read": len(self.results), "created": self.count("create"),
                "updated": self.count("update"), "unchanged": self.count("unchanged"),
                "skipped": self.count("skipped"), "refused": self.count("refused"),
                "warnings": sum(1 for p in self.problems if p.severity != ERROR)}


@dataclass
class ImportOptions:
    update_existing: bool = False
    valid_rows_only: bool = False
    defaults: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_run(cls, run: ImportRun) -> ImportOptions:
        options = run.options or {}
        return cls(update_existing=bool(options.get("update_existing")),
                   valid_rows_only=bool(options.get("valid_rows_only")),
                   defaults=dict(options.get("defaults") or {}))


# Compared to tell whether an existing member would change.
_STORED = ("member_number", "first_name", "middle_name", "last_name", "second_last_name",
           "name_extension", "mothers_maiden_name", "sex", "date_of_birth", "civil_status",
           "nationality", "id_type", "id_number", "tax_number", "phone", "phone_unchecked",
           "email", "address", "province_code", "canton_code", "district_code", "locality",
           "sector", "occupation", "declared_income_minor", "joined_on", "consent_given",
           "consent_date", "consent_method", "notes", "search_name", "locality_key")
_VALUE_FIELD = {"declared_income_minor": "declared_income"}


def _stored(value: Any) -> Any:
    return getattr(value, "value", value)


# Up to this many distinct keys (numbers, IDs, dates of birth) in a file, the register is
# read only where the file's rows could match it: a few hundred new members checked against a
# register of 100,000 then cost what the file costs, not what the register does.
_TARGETED_KEYS = 5_000
_IN_CHUNK = 900  # values per IN (…): below SQLite's limit on a statement's parameters


class _Register:
    """The cooperative's members that the file's rows could match (by member number, by ID,
    or as a same-names-and-birth-date twin), each loaded once: for a small file only those
    (three indexed look-ups); for a large one the whole register in one query."""

    def __init__(self, cooperative_id: int, results: list[RowResult] | None = None):
        table = Member.__table__
        self._columns = [table.c.id] + [table.c[name] for name in _STORED]
        self._cooperative_id = cooperative_id
        self.by_id: dict[tuple[str, str], dict] = {}
        self.by_number: dict[str, dict] = {}
        self.twins: dict[tuple[str, str, date], list[str]] = defaultdict(list)
        self._seen: set[int] = set()
        keys = _match_keys(results) if results is not None else None
        if keys is None:
            self._load()
            return
        numbers, id_numbers, births = keys
        for column, values in ((table.c.member_number, numbers),
                               (table.c.id_number, id_numbers),
                               (table.c.date_of_birth, births)):
            ordered = sorted(values)
            for start in range(0, len(ordered), _IN_CHUNK):
                self._load(column.in_(ordered[start:start + _IN_CHUNK]))

    def _load(self, condition=None) -> None:
        stmt = select(*self._columns).where(
            Member.__table__.c.cooperative_id == self._cooperative_id)
        if condition is not None:
            stmt = stmt.where(condition)
        for row in db.session.execute(stmt).mappings():
            if row["id"] in self._seen:
                continue
            self._seen.add(row["id"])
            record = {k: _stored(v) for k, v in row.items()}
            if record["id_number"]:
                self.by_id[(record["id_type"], record["id_number"])] = record
            self.by_number[record["member_number"]] = record
            self.twins[(fold(record["first_name"]), fold(record["last_name"]),
                        record["date_of_birth"])].append(record["member_number"])


def _match_keys(results: list[RowResult]) -> tuple[set, set, set] | None:
    """The member numbers, ID numbers and dates of birth of the rows to compare with the
    register; None when there are too many for targeted look-ups."""
    numbers: set[str] = set()
    id_numbers: set[str] = set()
    births: set[date] = set()
    for result in results:
        values = result.values
        if values is None:
            continue
        if values.get("member_number"):
            numbers.add(values["member_number"])
        if values.get("id_number"):
            id_numbers.add(values["id_number"])
        births.add(values["date_of_birth"])
        if len(numbers) + len(id_numbers) + len(births) > _TARGETED_KEYS:
            return None
    return numbers, id_numbers, births


def _placeholder(name: str, trial: dict[str, Any], today: date) -> Any:
    """A value that passes the member rules, put in place of a field already found wrong so
    the rest of the row is still checked (every problem of a row is listed, not the first)."""
    if name in ("first_name", "last_name"):
        return "X"
    if name == "sex":
        return "female"
    if name == "sector":
        return "other"
    if name == "date_of_birth":
        joined = trial.get("joined_on")
        anchor = joined if isinstance(joined, date) and joined <= today else today
        return anchor - timedelta(days=1)
    if name in ("joined_on", "consent_date"):
        return today
    if name == "consent_method":
        return "signed_form"
    if name == "consent_given":
        return False
    return None


class RowChecker:
    """Turns one row of cells into what the member form would receive, then checks it with
    the member form's own rules. Unique look-ups against the register are done in bulk by
    `analyse`."""

    def __init__(self, cooperative: Cooperative, headers: list[str], mapping: dict[int, str],
                 options: ImportOptions, today: date | None = None):
        self.cooperative = cooperative
        self.today = today or date.today()
        self.mapping = {int(i): t for i, t in mapping.items() if t}
        self.column_of = {t: i for i, t in self.mapping.items()}
        self.headers = headers
        self.options = options
        types = id_types_for(cooperative.country, cooperative.id_label)
        self.default_id_type = types[0].code
        self.id_type_words = {}
        for id_type in types:
            self.id_type_words[F.header_key(id_type.code)] = id_type.code
            self.id_type_words[F.header_key(id_type.label)] = id_type.code
        self.checked_id_types = {t.code for t in types if t.module}
        present = set(self.column_of) | {k for k, v in (options.defaults or {}).items() if v}
        groups = {"declared_income": ("declared_income_minor",),
                  "id_number": ("id_type", "id_number"),
                  "phone": ("phone", "phone_unchecked"),
                  "consent_given": ("consent_given", "consent_date", "consent_method")}
        self.unmapped_stored = [stored for spec in F.FIELDS
                                if spec.key not in present and spec.key not in (
                                    "id_type", "consent_date", "consent_method")
                                for stored in groups.get(spec.key, (spec.key,))]
        defaults = options.defaults or {}
        self.defaults = {}
        if defaults.get("sector"):
            self.defaults["sector"] = defaults["sector"]
        if defaults.get("joined_on"):
            self.defaults["joined_on"] = date.fromisoformat(str(defaults["joined_on"]))

    def column_label(self, name: str) -> str:
        index = self.column_of.get(name)
        if index is None and name == "id_type":
            index = self.column_of.get("id_number")
        if index is None:
            return ""
        header = self.headers[index] if index < len(self.headers) else ""
        return f"{column_letter(index)} · {header}" if header else column_letter(index)

    def _converter(self, spec: F.Field) -> Callable[[Any], Any]:
        label = str(spec.label)
        if spec.kind == F.DATE:
            return lambda raw: F.parse_date(raw, label)
        if spec.key in F.ENUM_WORDS:
            return lambda raw: F.enum_value(spec.key, raw) if cell_text(raw) else ""
        if spec.key == "consent_given":
            return lambda raw: F.yes_no(raw, label)
        if spec.key == "declared_income":
            return F.amount_text
        if spec.key == "id_type":
            words = self.id_type_words
            return lambda raw: words.get(F.header_key(raw), cell_text(raw)) \
                if cell_text(raw) else ""
        if spec.key == "notes":
            return lambda raw: raw if isinstance(raw, str) else cell_text(raw)
        return cell_text

    def read(self, cells: list[Any]) -> tuple[dict[str, Any], dict[str, str]]:
        """(data for the member form, {field: problem} for cells that are not readable)."""
        if not hasattr(self, "_plan"):
            # what an empty cell gives, worked out once: fields without a column, and the
            # empty cells of the others, take it without converting
            self._blank = {spec.key: self._converter(spec)("") for spec in F.FIELDS}
            self._plan = [(spec.key, index, self._converter(spec)) for spec in F.FIELDS
                          if (index := self.column_of.get(spec.key)) is not None]
            self._required = [(spec.key, _("%(label)s is required.", label=spec.label))
                              for spec in F.FIELDS if spec.required]
        data: dict[str, Any] = dict(self._blank)
        bad: dict[str, str] = {}
        width = len(cells)
        for key, index, convert in self._plan:
            if index >= width:
                continue
            raw = cells[index]
            if raw is None:
                continue
            if isinstance(raw, str):
                raw = raw.strip()
                if not raw:
                    continue
            try:
                data[key] = convert(raw)
            except DomainError as error:
                bad[key] = error.message
                data[key] = None
        for name, value in self.defaults.items():
            if not data.get(name) and name not in bad:
                data[name] = value
        for key, message in self._required:
            if key not in bad and data.get(key) in (None, ""):
                bad[key] = message
        if data.get("id_number"):
            data["id_number"] = self._restore_zeros(data.get("id_type") or
                                                    self.default_id_type, data["id_number"])
        return data, bad

    def _restore_zeros(self, id_type: str, number: str) -> str:
        """An ID typed as a number loses its leading zeros: when the country's check (a
        python-stdnum module, with a check digit or a fixed length) refuses the digits but
        accepts them with one to three zeros in front, those are put back."""
        if id_type not in self.checked_id_types or not ascii_digits(number):
            return number
        candidates = F.id_candidates(number)
        for candidate in candidates:
            try:
                normalise_id(self.cooperative.country, id_type, candidate,
                             pattern=self.cooperative.id_pattern,
                             local_label=self.cooperative.id_label)
            except DomainError:
                continue
            return candidate
        return number

    def check(self, cells: list[Any]) -> tuple[dict[str, Any] | None, list[tuple[str, str]]]:
        """(clean values or None, [(field, message)])."""
        data, bad = self.read(cells)
        problems = list(bad.items())
        if (data.get("notes") or "").strip() == F.EXAMPLE_MARK:
            return None, [("notes", _("This is the template's example row: delete it."))]
        trial = dict(data)
        replaced = set(bad)
        for name in bad:
            trial[name] = _placeholder(name, trial, self.today)
        for _attempt in range(len(F.FIELDS) + 2):
            try:
                clean = clean_member_data(self.cooperative, trial, today=self.today,
                                          unique_checks=False)
            except DomainError as error:
                name = error.field or ""
                problems.append((name, error.message))
                if not name or name in replaced:
                    return None, problems
                replaced.add(name)
                trial[name] = _placeholder(name, trial, self.today)
                continue
            return (None if problems else clean), problems
        return None, problems


def analyse(cooperative: Cooperative, table: Table, header_row: int, mapping: dict,
            options: ImportOptions, progress: Progress = _no_progress) -> Analysis:
    """Check every row of the table (header on `header_row`, 1-based) against the member
    rules, the other rows and the register; decide what each row would do. Writes nothing."""
    headers, results, checker = check_rows(cooperative, table, header_row, mapping, options,
                                           progress)
    return decide(cooperative, headers, header_row, results, checker, options)


def _filled(cells: list[Any]) -> bool:
    """Whether a row has any cell with text (`cell_text` not empty), without converting
    every cell of every row to text."""
    for value in cells:
        if value is None:
            continue
        if type(value) is str:
            if value and not value.isspace():
                return True
        elif cell_text(value):
            return True
    return False


def check_rows(cooperative: Cooperative, table: Table, header_row: int, mapping: dict,
               options: ImportOptions, progress: Progress = _no_progress
               ) -> tuple[list[str], list[RowResult], RowChecker]:
    """The part of `analyse` that does not depend on the register: every row by the member
    rules, then the rows against each other. A preview keeps what it finds (see `_write_stage`)
    so that the commit does not do it again."""
    rows = table.rows
    header_index = header_row - 1
    headers = [cell_text(v) for v in (rows[header_index] if header_index < len(rows) else [])]
    limits = read_limits()
    data_rows = [(n, cells) for n, cells in enumerate(rows[header_index + 1:],
                                                      start=header_row + 1)
                 if _filled(cells)]
    if len(data_rows) > limits.max_rows:
        raise DomainError(_("The file has more than %(n)d rows; split it into smaller files.",
                            n=limits.max_rows))
    checker = RowChecker(cooperative, headers, mapping, options)
    total = len(data_rows)
    progress(0, total, _("Checking rows…"))
    results: list[RowResult] = []
    for position, (number, cells) in enumerate(data_rows, start=1):
        result = RowResult(row=number, cells=cells)  # the table's own list: not copied
        values, problems = checker.check(result.cells)
        result.values = values
        result.problems = [Problem(number, checker.column_label(f), f, m) for f, m in problems]
        results.append(result)
        if position % 2000 == 0:
            progress(position, total, _("Checked %(done)d of %(total)d rows…",
                                        done=position, total=total))
    progress(total, total, _("Comparing with the register…"))
    _check_against_each_other(results, checker)
    return headers, results, checker


def decide(cooperative: Cooperative, headers: list[str], header_row: int,
           results: list[RowResult], checker: RowChecker, options: ImportOptions) -> Analysis:
    """The rows (checked by `check_rows`) against the register as it stands now: what each
    would do, or why it cannot be imported."""
    _check_against_register(results, checker, _Register(cooperative.id, results),
                            options)
    for result in results:
        if result.has_errors:
            result.action = "refused"
    return Analysis(headers, header_row, results)


def _check_against_each_other(results: list[RowResult], checker: RowChecker) -> None:
    by_id: dict[tuple, list[RowResult]] = defaultdict(list)
    by_number: dict[str, list[RowResult]] = defaultdict(list)
    by_person: dict[tuple, list[RowResult]] = defaultdict(list)
    for result in results:
        values = result.values
        if values is None:
            continue
        if values.get("id_number"):
            by_id[(values["id_type"], values["id_number"])].append(result)
        if values.get("member_number"):
            by_number[values["member_number"]].append(result)
        by_person[(fold(values["first_name"]), fold(values["last_name"]),
                   values["date_of_birth"])].append(result)
    _refuse_repeats(by_id, checker, "id_number", lambda others: _(
        "The same ID number is also on row %(rows)s; keep one row per person.", rows=others))
    _refuse_repeats(by_number, checker, "member_number", lambda others: _(
        "The same member number is also on row %(rows)s.", rows=others))
    for group in by_person.values():
        if len(group) > 1:
            for result in group[1:]:
                result.problems.append(Problem(
                    result.row, "", "", _("Same names and date of birth as row %(row)d: the "
                                          "same person twice?", row=group[0].row), WARNING))


def _refuse_repeats(groups: dict, checker: RowChecker, column: str, message) -> None:
    """Every row of a group that holds more than one row is refused, naming the others."""
    for group in groups.values():
        if len(group) > 1:
            for result in group:
                others = ", ".join(str(r.row) for r in group if r is not result)
                result.problems.append(Problem(result.row, checker.column_label(column),
                                               column, message(others)))


def _check_against_register(results: list[RowResult], checker: RowChecker,
                            register: _Register, options: ImportOptions) -> None:
    for result in results:
        values = result.values
        if values is None or result.has_errors:
            continue
        existing = None
        number = values.get("member_number")
        owner = register.by_number.get(number) if number else None
        if values.get("id_number"):
            existing = register.by_id.get((values["id_type"], values["id_number"]))
        if existing is None and owner is not None and not (
                values.get("id_number") and owner["id_number"]):
            existing = owner  # matched by member number: the row or the member has no ID
        if owner is not None and (existing is None or owner["id"] != existing["id"]):
            result.problems.append(Problem(
                result.row, checker.column_label("member_number"), "member_number",
                _("Member number %(number)s is already taken.", number=number)))
            continue
        if existing is None:
            result.action = "create"
            twins = register.twins.get((fold(values["first_name"]), fold(values["last_name"]),
                                        values["date_of_birth"]))
            if twins:
                result.problems.append(Problem(
                    result.row, "", "", _("A member with the same names and date of birth is "
                                          "already in the register (number %(numbers)s).",
                                          numbers=", ".join(twins[:3])), WARNING))
            continue
        result.member_id = existing["id"]
        if not number:
            values["member_number"] = existing["member_number"]
        for name in checker.unmapped_stored:
            values[name] = existing[name]  # a column the file does not have changes nothing
        stored = {**values, **search_fields(values)}
        result.changes = {name: (existing[name], _stored(stored[name])) for name in _STORED
                          if existing[name] != _stored(stored[name])}
        if not result.changes:
            result.action = "unchanged"
        elif options.update_existing:
            result.action = "update"
        else:
            result.action = "skipped"
            shown = sorted({_VALUE_FIELD.get(n, n) for n in result.changes
                            if n not in ("search_name", "locality_key")})
            labels = ", ".join(str(F.FIELD_BY_KEY[n].label) for n in shown
                               if n in F.FIELD_BY_KEY)
            result.problems.append(Problem(
                result.row, "", "", _("Already in the register as member %(number)s; not "
                                      "changed (the file differs in: %(fields)s). Choose to "
                                      "update existing members to apply the file.",
                                      number=existing["member_number"], fields=labels),
                NOTICE))


# ---- the problems file ---------------------------------------------------------------------

def write_problems_file(analysis: Analysis, target) -> None:
    """The refused rows as they were in the file, with a "Problems" column first and the
    source row number, so they can be fixed and imported again; and every problem listed."""
    refused = [r for r in analysis.results if r.action == "refused"]
    width = max([len(analysis.headers)] + [len(r.cells) for r in refused])
    headers = [h or column_letter(i) for i, h in
               enumerate(analysis.headers + [""] * (width - len(analysis.headers)))]
    rows_sheet = Sheet(
        _("Rows to fix"),
        [Column(_("Problems"), width=60), Column(_("Source row"), width=10)]
        + [Column(h) for h in headers],
        ([" · ".join(p.message for p in r.problems if p.severity == ERROR), str(r.row)]
         + [cell_text(v) for v in r.cells] for r in refused))
    list_sheet = Sheet(
        _("All problems"),
        [Column(_("Row"), width=8), Column(_("Column"), width=28), Column(_("Field"), width=18),
         Column(_("Severity"), width=10), Column(_("Problem"), width=90)],
        ([str(p.row), p.column, p.field, p.severity, p.message] for p in analysis.problems))
    write_xlsx(target, [rows_sheet, list_sheet])


def _store_analysis(run: ImportRun, analysis: Analysis) -> None:
    counts = analysis.counts
    run.rows_read = counts["read"]
    run.rows_created = counts["created"]
    run.rows_updated = counts["updated"]
    run.rows_unchanged = counts["unchanged"]
    run.rows_skipped = counts["skipped"]
    run.rows_refused = counts["refused"]
    run.warnings = counts["warnings"]
    shown = []
    for problem in analysis.problems:
        if len(shown) >= PROBLEMS_SHOWN:
            break
        shown.append(problem.as_dict())
    run.problems = shown
    if counts["refused"] or counts["warnings"]:
        name = f"run-{run.id}-problems.xlsx"
        path = import_dir(run.cooperative_id) / name
        temporary = path.with_name(name + ".part")
        with temporary_file(temporary):
            write_problems_file(analysis, temporary)
            os.replace(temporary, path)
        run.problems_file = f"{run.cooperative_id}/{name}"
    else:
        run.problems_file = None


def problems_path(run: ImportRun) -> Path | None:
    if not run.problems_file:
        return None
    path = Path(current_app.config["IMPORT_DIR"]) / run.problems_file
    return path if path.is_file() else None


# ---- preview and commit ----------------------------------------------------------------------

# What a preview found before comparing with the register, kept for the commit: a JSON file
# next to the upload (first line: what it depends on; then chunks of rows). The commit uses it
# only when the file, mapping, defaults, cooperative settings and day are the same, and always
# compares with the register again (it may have changed since the preview).
STAGE_VERSION = 1
_STAGE_CHUNK = 2000
_DATE_VALUES = frozenset({"date_of_birth", "joined_on", "consent_date"})
_ENUM_VALUES = {"sex": Sex, "sector": Sector, "consent_method": ConsentMethod}


def _stage_path(run: ImportRun) -> Path:
    return import_dir(run.cooperative_id) / f"run-{int(run.id)}-checked.json"


def _stage_key(run: ImportRun, cooperative: Cooperative, options: ImportOptions) -> str:
    return json.dumps([
        STAGE_VERSION, run.sha256, run.header_row or 1,
        sorted((str(k), v) for k, v in (run.mapping or {}).items() if v),
        sorted((k, str(v)) for k, v in (options.defaults or {}).items() if v),
        cooperative.country, cooperative.currency, cooperative.id_pattern, cooperative.id_label,
        date.today().isoformat(), read_limits().max_rows])


def _encode_values(values: dict[str, Any] | None, keys: list[str],
                   dates: list[int], enums: list[int]) -> list | None:
    if values is None:
        return None
    out = [values.get(key) for key in keys]
    for index in dates:
        if out[index] is not None:
            out[index] = out[index].toordinal()
    for index in enums:
        if out[index] is not None:
            out[index] = out[index].value
    return out


def _decode_values(encoded: list | None, keys: list[str], dates: list[int],
                   enums: list[tuple[int, dict[str, Any]]]) -> dict[str, Any] | None:
    if encoded is None:
        return None
    for index in dates:
        if encoded[index] is not None:
            encoded[index] = date.fromordinal(encoded[index])
    for index, members in enums:
        if encoded[index] is not None:
            encoded[index] = members[encoded[index]]
    return dict(zip(keys, encoded, strict=True))


def _write_stage(run: ImportRun, cooperative: Cooperative, options: ImportOptions,
                 headers: list[str], results: list[RowResult]) -> None:
    keys = list(next((r.values for r in results if r.values is not None), {}))
    dates = [i for i, key in enumerate(keys) if key in _DATE_VALUES]
    enums = [i for i, key in enumerate(keys) if key in _ENUM_VALUES]
    path = _stage_path(run)
    temporary = path.with_name(path.name + f".{os.getpid()}.part")
    with temporary_file(temporary), temporary.open("w", encoding="utf-8") as out:
        out.write(json.dumps({"key": _stage_key(run, cooperative, options),
                              "headers": headers, "keys": keys}) + "\n")
        for start in range(0, len(results), _STAGE_CHUNK):
            out.write(json.dumps([
                [r.row, _encode_values(r.values, keys, dates, enums),
                 [[p.column, p.field, p.message, p.severity] for p in r.problems],
                 [cell_text(v) for v in r.cells] if r.has_errors else None]
                for r in results[start:start + _STAGE_CHUNK]]) + "\n")
        out.close()
        os.replace(temporary, path)


def _read_stage(run: ImportRun, cooperative: Cooperative, options: ImportOptions
                ) -> tuple[list[str], list[RowResult], RowChecker] | None:
    """What the preview kept, or None when there is none or it no longer applies."""
    path = _stage_path(run)
    if not path.is_file():
        return None
    try:
        with path.open(encoding="utf-8") as lines:
            head = json.loads(next(lines))
            if head.get("key") != _stage_key(run, cooperative, options):
                return None
            keys = head["keys"]
            dates = [i for i, key in enumerate(keys) if key in _DATE_VALUES]
            enums = [(i, {m.value: m for m in _ENUM_VALUES[key]})
                     for i, key in enumerate(keys) if key in _ENUM_VALUES]
            results = []
            for line in lines:
                for number, values, problems, cells in json.loads(line):
                    results.append(RowResult(
                        row=number, cells=cells, values=_decode_values(values, keys, dates, enums),
                        problems=[Problem(number, c, f, m, sev) for c, f, m, sev in problems]))
    except (OSError, ValueError, KeyError, TypeError, StopIteration):
        log.warning("import run %s: the preview's checked rows are unreadable; checking the "
                    "file again", run.id)
        return None
    headers = head["headers"]
    return headers, results, RowChecker(cooperative, headers, run.mapping or {}, options)


def _drop_stage(run: ImportRun) -> None:
    if run.id is not None:
        _stage_path(run).unlink(missing_ok=True)


def _fill_cells(run: ImportRun, analysis: Analysis) -> None:
    """The cells of rows refused only now (by the register), for the problems file."""
    missing = [r for r in analysis.results if r.action == "refused" and r.cells is None]
    if missing:
        rows = load_table(run).rows
        for result in missing:
            result.cells = list(rows[result.row - 1]) if result.row - 1 < len(rows) else []


@contextmanager
def _cycle_collector_paused():
    """Python's cycle collector off while an import builds its hundreds of thousands of small
    objects (none of them in cycles): each of its full passes walks all of them again, a
    fifth of a 100,000-row import's time. Back on at the end, as it was."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


def preview_run(run: ImportRun, progress: Progress = _no_progress) -> Analysis:
    """Check every row of the run's file with its mapping; record the counts and problems,
    and keep the checked rows for the commit."""
    with _cycle_collector_paused():
        return _preview_run(run, progress)


def _preview_run(run: ImportRun, progress: Progress) -> Analysis:
    if not run.mapping:
        raise DomainError(_("Choose the columns first."))
    cooperative = db.session.get(Cooperative, run.cooperative_id)
    options = ImportOptions.from_run(run)
    progress(0, 0, _("Reading the file…"))
    table = load_table(run)
    header_row = run.header_row or 1
    headers, results, checker = check_rows(cooperative, table, header_row, run.mapping,
                                           options, progress)
    del table
    _write_stage(run, cooperative, options, headers, results)
    analysis = decide(cooperative, headers, header_row, results, checker, options)
    set_status(run, ImportStatus.PREVIEWED)
    _store_analysis(run, analysis)
    run.previewed_at = utcnow()
    db.session.flush()
    return analysis


def _insert_members(rows: list[dict[str, Any]]) -> list[int]:
    """One bulk insert (COPY on PostgreSQL, one executemany on SQLite) of member rows; their
    new ids, in order. The ids are taken before: from the table's sequence on PostgreSQL, after
    the highest id on SQLite (whose writers hold the database's write lock, so no other can
    take them). Looking them up afterwards by member number would scan the table on
    PostgreSQL, whose planner has no statistics yet for rows written in this transaction."""
    table = Member.__table__
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        ids = list(connection.execute(text(
            "SELECT nextval(pg_get_serial_sequence('members', 'id')) "
            "FROM generate_series(1, :n)"), {"n": len(rows)}).scalars())
    else:
        highest = connection.execute(select(func.coalesce(func.max(table.c.id), 0))
                                     .execution_options(**unscoped(
                                         "ids are shared by all cooperatives: the largest "
                                         "member id so far"))).scalar()
        ids = list(range(highest + 1, highest + 1 + len(rows)))
    insert_rows(table, [{**row, "id": member_id} for row, member_id in zip(rows, ids,
                                                                            strict=True)])
    return ids


def _lock_register(cooperative_id: int) -> None:
    db.session.execute(select(Cooperative.id).where(Cooperative.id == cooperative_id)
                       .with_for_update())


def write_rows(cooperative: Cooperative, analysis: Analysis,
               progress: Progress = _no_progress) -> dict[str, int]:
    """Write the analysed rows: new members in bulk (numbers from the cooperative's counter,
    audit events written alongside), existing ones changed through the ORM (audited by the
    flush). Call inside the one transaction of a commit."""
    creates = [r for r in analysis.results if r.action == "create"]
    updates = [r for r in analysis.results if r.action == "update"]
    total = len(creates) + len(updates)
    in_file = {r.values["member_number"] for r in analysis.results
               if r.values and r.values.get("member_number")}
    numbers = iter(reserve_member_numbers(
        cooperative.id, sum(1 for r in creates if not r.values["member_number"]), in_file))
    now = utcnow()
    rows = []
    for result in creates:
        values = dict(result.values)
        if not values["member_number"]:
            values["member_number"] = next(numbers)
            result.values["member_number"] = values["member_number"]
        rows.append({"cooperative_id": cooperative.id, **values, **search_fields(values),
                     "status": MemberStatus.ACTIVE, "status_reason": None,
                     "status_date": None, "left_on": None, "created_at": now,
                     "updated_at": now})
    done = 0
    if rows:
        register_changed(db.session, [cooperative.id])  # the flush hook never sees Core
    for start in range(0, len(rows), CHUNK):
        chunk = rows[start:start + CHUNK]
        ids = _insert_members(chunk)
        for row, member_id in zip(chunk, ids, strict=True):
            row["id"] = member_id
        record_bulk(Member, "create", chunk)
        done += len(chunk)
        progress(done, total, _("Written %(done)d of %(total)d members…", done=done,
                                total=total))
    for result, row in zip(creates, rows, strict=True):
        result.member_id = row["id"]
    for start in range(0, len(updates), CHUNK):
        chunk = updates[start:start + CHUNK]
        members = {m.id: m for m in db.session.scalars(select(Member).where(
            Member.cooperative_id == cooperative.id,
            Member.id.in_([r.member_id for r in chunk])))}
        for result in chunk:
            member = members[result.member_id]
            for name, value in {**result.values, **search_fields(result.values)}.items():
                setattr(member, name, value)
        db.session.flush()
        done += len(chunk)
        progress(done, total, _("Written %(done)d of %(total)d members…", done=done,
                                total=total))
    return {"created": len(creates), "updated": len(updates)}


class ImportRefused(DomainError):
    """Some rows have problems and the person did not choose to import only the valid ones.
    `analysis` (when known) holds what was found."""

    def __init__(self, message: str, analysis: Analysis | None = None):
        super().__init__(message)
        self.analysis = analysis


def refusal_message(refused: int) -> str:
    return _("%(n)d row(s) have problems, so nothing was imported. Fix them in the file (the "
             "problems file lists them) and upload it again, or choose to import only the "
             "valid rows.", n=refused)


def commit_run(run: ImportRun, progress: Progress = _no_progress) -> Analysis:
    """Write the run's rows into the register, all of them or none. The rows the preview
    checked are used when they still apply (else the file is checked again), and always
    compared with the register again inside this transaction (it may have changed since)."""
    with _cycle_collector_paused():
        return _commit_run(run, progress)


def _commit_run(run: ImportRun, progress: Progress) -> Analysis:
    if run.status == ImportStatus.COMMITTED:
        raise DomainError(_("This import is already done."))
    if run.status not in (ImportStatus.PREVIEWED, ImportStatus.FAILED) or not run.previewed_at:
        raise DomainError(_("Check the rows (preview) before importing."))
    cooperative = db.session.get(Cooperative, run.cooperative_id)
    _lock_register(cooperative.id)
    options = ImportOptions.from_run(run)
    progress(0, 0, _("Reading the file…"))
    header_row = run.header_row or 1
    staged = _read_stage(run, cooperative, options)
    if staged is None:
        headers, results, checker = check_rows(cooperative, load_table(run), header_row,
                                               run.mapping or {}, options, progress)
    else:
        headers, results, checker = staged
    progress(0, 0, _("Comparing with the register…"))
    analysis = decide(cooperative, headers, header_row, results, checker, options)
    refused = analysis.count("refused")
    if refused and not options.valid_rows_only:
        raise ImportRefused(refusal_message(refused), analysis)
    write_rows(cooperative, analysis, progress)
    set_status(run, ImportStatus.COMMITTED)
    _fill_cells(run, analysis)
    _store_analysis(run, analysis)
    run.committed_at = utcnow()
    db.session.flush()
    _drop_stage(run)
    return analysis


# The values the mapping page lets a person give for every row that has none.
DEFAULTABLE = ("sector", "joined_on")


def parse_defaults(pairs: Iterable[str], today: date | None = None) -> dict[str, Any]:
    """`FIELD=VALUE` texts (the command line's --default) as the defaults the mapping page
    offers: `sector` (one of the sector codes) and `joined_on` (YYYY-MM-DD, not in the
    future). A DomainError names what is wrong and what is allowed."""
    from coopreg.members.models import Sector

    today = today or date.today()
    defaults: dict[str, Any] = {}
    for pair in pairs:
        name, equals, value = str(pair).partition("=")
        name, value = name.strip().lower(), value.strip()
        if not equals or not name or not value:
            raise DomainError(_("Give a default as FIELD=VALUE, for example "
                                "sector=agriculture (not “%(text)s”).", text=pair))
        if name not in DEFAULTABLE:
            raise DomainError(_("No default can be given for “%(field)s”; these can: "
                                "%(fields)s.", field=name, fields=", ".join(DEFAULTABLE)))
        if name in defaults:
            raise DomainError(_("The default for %(field)s is given twice.", field=name))
        if name == "sector":
            if value.lower() not in {s.value for s in Sector}:
                raise DomainError(_("“%(value)s” is not a sector; the sectors are: "
                                    "%(sectors)s.", value=value,
                                    sectors=", ".join(s.value for s in Sector)))
            defaults[name] = value.lower()
        else:
            try:
                day = date.fromisoformat(value)
            except ValueError:
                raise DomainError(_("The joining date “%(value)s” is not a date: write it as "
                                    "YYYY-MM-DD, for example 2020-01-15.", value=value)
                                  ) from None
            if day > today:
                raise DomainError(_("The joining date %(value)s is in the future.",
                                    value=value))
            defaults[name] = day
    return defaults


def import_file(cooperative: Cooperative, data: bytes, filename: str, *,
                update_existing: bool = False, valid_rows_only: bool = False,
                dry_run: bool = False, defaults: dict[str, Any] | None = None,
                progress: Progress = _no_progress) -> tuple[Analysis, ImportRun | None]:
    """The command line's import: read, map (saved mapping, else the headers' names), check,
    and — unless a dry run, or rows fail without `valid_rows_only` — write and record the
    run. `defaults` (from `parse_defaults`) fill the sector and joining date of rows that have
    none, as on the mapping page. Raises `ImportRefused` when rows fail and only the valid
    ones were not asked for."""
    with _cycle_collector_paused():
        return _import_file(cooperative, data, filename, update_existing=update_existing,
                            valid_rows_only=valid_rows_only, dry_run=dry_run,
                            defaults=defaults or {}, progress=progress)


def _import_file(cooperative: Cooperative, data: bytes, filename: str, *,
                 update_existing: bool, valid_rows_only: bool, dry_run: bool,
                 defaults: dict[str, Any], progress: Progress
                 ) -> tuple[Analysis, ImportRun | None]:
    name = display_name(filename)
    table = read_table(data, filename=name, limits=read_limits())
    header_index = find_header_row(table.rows)
    columns = source_columns(table.rows, header_index)
    mapping = propose_mapping(cooperative.id, columns)
    check_mapping(mapping, defaults)
    stored_defaults = {k: (v.isoformat() if isinstance(v, date) else v)
                       for k, v in defaults.items() if v}
    options = ImportOptions(update_existing=update_existing, valid_rows_only=valid_rows_only,
                            defaults=stored_defaults)
    if not dry_run:
        _lock_register(cooperative.id)
    analysis = analyse(cooperative, table, header_index + 1, mapping, options, progress)
    refused = analysis.count("refused")
    if dry_run:
        return analysis, None
    if refused and not valid_rows_only:
        raise ImportRefused(refusal_message(refused), analysis)
    write_rows(cooperative, analysis, progress)
    run = ImportRun(cooperative_id=cooperative.id, created_by_id=None, source="cli",
                    original_filename=name, sha256=hashlib.sha256(data).hexdigest(),
                    size_bytes=len(data), file_format=table.format, stored_name=None,
                    status=ImportStatus.COMMITTED, total_rows=len(table.rows),
                    header_row=header_index + 1,
                    mapping={str(i): t for i, t in mapping.items() if t},
                    options={"update_existing": update_existing,
                             "valid_rows_only": valid_rows_only,
                             **({"defaults": stored_defaults} if stored_defaults else {})},
                    previewed_at=utcnow(), committed_at=utcnow())
    db.session.add(run)
    db.session.flush()
    counts = analysis.counts
    run.rows_read, run.rows_created = counts["read"], counts["created"]
    run.rows_updated, run.rows_unchanged = counts["updated"], counts["unchanged"]
    run.rows_skipped, run.rows_refused = counts["skipped"], counts["refused"]
    run.warnings = counts["warnings"]
    db.session.flush()
    return analysis, run


# ---- jobs --------------------------------------------------------------------------------------

PREVIEW_JOB = "members_import_preview"
COMMIT_JOB = "members_import"


def _refuse_if_running(run: ImportRun) -> None:
    from coopreg.jobs.models import Job

    job = get_scoped(Job, run.job_id, run.cooperative_id) if run.job_id else None
    if job is not None and not job.finished:
        raise DomainError(_("This import is already running; wait for it to end."))


def start_preview(run: ImportRun, user_id: int | None) -> int:
    """Queue the preview of a run (the caller commits first: see `launch`)."""
    _refuse_if_running(run)
    job = create_job(run.cooperative_id, PREVIEW_JOB, user_id, {"run_id": run.id})
    run.job_id = job.id
    db.session.flush()
    return job.id


def start_commit(run: ImportRun, user_id: int | None, *, update_existing: bool,
                 valid_rows_only: bool) -> int:
    """Record the person's choices and queue the commit. A file with problems is refused
    here already unless only the valid rows were asked for."""
    _refuse_if_running(run)
    if run.status == ImportStatus.COMMITTED:
        raise DomainError(_("This import is already done."))
    if run.status not in (ImportStatus.PREVIEWED, ImportStatus.FAILED) or not run.previewed_at:
        raise DomainError(_("Check the rows (preview) before importing."))
    if run.rows_refused and not valid_rows_only:
        raise ImportRefused(refusal_message(run.rows_refused))
    options = dict(run.options or {})
    options.update(update_existing=bool(update_existing), valid_rows_only=bool(valid_rows_only))
    run.options = options
    job = create_job(run.cooperative_id, COMMIT_JOB, user_id, {"run_id": run.id})
    run.job_id = job.id
    db.session.flush()
    return job.id


def launch(job_id: int) -> None:
    start_job(job_id)


@contextmanager
def _recording_failure(run_id: int):
    """Whatever stops the job, the run says so (in its own small transaction, after the
    job's work was rolled back: nothing of the import stays)."""
    try:
        yield
    except Exception as error:
        discard()
        if isinstance(error, DomainError):
            message = kept_error(error)
        else:
            log.exception("import run %s failed", run_id)
            message = kept(UNEXPECTED_STOP, kind=type(error).__name__)
        run = db.session.get(ImportRun, run_id, execution_options=unscoped(
            "the worker records the failure of the run its job was launched for"))
        if run is not None and IMPORT_LIFECYCLE.can(run.status, ImportStatus.FAILED):
            IMPORT_LIFECYCLE.move(run, ImportStatus.FAILED)
            run.message = message
            checkpoint()
        raise


def _run_of(job) -> ImportRun:
    run = get_scoped(ImportRun, job.params.get("run_id"), job.cooperative_id)
    if run is None:
        raise DomainError(_("The import is gone."))
    return run


UNEXPECTED_STOP = sentence("imports.unexpected_stop", lambda p: _(
    "The import stopped on an unexpected error (%(kind)s); nothing was written. Try again; if "
    "it happens again, tell your admin.", **p))
ROWS_CHECKED = sentence("imports.rows_checked", lambda p: _(
    "%(read)d rows checked: %(refused)d with problems.", **p))
MEMBERS_IMPORTED = sentence("imports.members_imported", lambda p: _(
    "%(created)d members created, %(updated)d updated.", **p))


def _run_step(job, progress, step, summary, *figures: str) -> dict:
    """A job's step of an import (preview or commit): its failure recorded on the run, its
    summary kept with the counts it names."""
    run = _run_of(job)
    with _recording_failure(run.id):
        counts = step(run, progress).counts
    return {"summary": kept(summary, **{name: counts[name] for name in figures}),
            "run_id": run.id}


@job_handler(PREVIEW_JOB)
def _preview_job(job, progress) -> dict:
    return _run_step(job, progress, preview_run, ROWS_CHECKED, "read", "refused")


@job_handler(COMMIT_JOB)
def _commit_job(job, progress) -> dict:
    return _run_step(job, progress, commit_run, MEMBERS_IMPORTED, "created", "updated")
