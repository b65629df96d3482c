"""The batches area's rules: file layouts, building a batch's lines, sealing its file (once,
for good), giving the file out only while it matches its checksum, sending and superseding.
The institution's answers are in `coopreg.batches.acks`.

Services add and flush; the view, CLI command or job commits once. Sealing writes a file: when
the transaction does not commit, the caller removes it with `remove_file` (the views and the
CLI do, through `commit_sealing`).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import Text, cast, delete, func, insert, select
from sqlalchemy.orm import selectinload

from coopreg.agreements import services as agreement_services
from coopreg.agreements.models import Agreement, Registration, RegistrationStatus
from coopreg.auth.models import Role
from coopreg.batches import dependants
from coopreg.batches import layouts as L
from coopreg.batches.models import (
    BATCH_LIFECYCLE,
    SEALED_STATUSES,
    Acknowledgement,
    AcknowledgementLine,
    AckStatus,
    Batch,
    BatchKind,
    BatchLine,
    BatchStatus,
    ColumnType,
    FileFormat,
    FileLayout,
    LayoutColumn,
)
from coopreg.batches.writers import Summary, write_batch_file
from coopreg.cooperatives.models import Cooperative
from coopreg.core.errors import DomainError
from coopreg.core.labels import display, label
from coopreg.core.languages import speak_in, speaking
from coopreg.core.models import utcnow
from coopreg.core.money import currency_exponent, format_minor, format_money, from_minor, to_minor
from coopreg.core.sentences import kept, sentence
from coopreg.core.sequences import next_number
from coopreg.core.sorting import Sorted, Sorts, count_rows
from coopreg.core.templating import show_month
from coopreg.core.tenancy import get_scoped, unscoped
from coopreg.core.text import read_month
from coopreg.core.unit_of_work import checkpoint, discard
from coopreg.core.validation import clean_text
from coopreg.extensions import db
from coopreg.members.models import Member

S = RegistrationStatus
B = BatchStatus
CHUNK = 1000
# `progress(done, total, message)`: long work reports as it goes (the job's progress bar)
Progress = Callable[[int, int, str], None]


# ---- who prepares which kind -------------------------------------------------------------------

def preparers(kind: BatchKind | str) -> tuple[Role, ...]:
    """Remittance files are the treasurer's; enrolment, update and exit files the
    secretary's; an admin prepares any."""
    if BatchKind(kind) == BatchKind.REMITTANCE:
        return (Role.ADMIN, Role.TREASURER)
    return (Role.ADMIN, Role.SECRETARY)


def may_prepare(role: str | None, kind: BatchKind | str) -> bool:
    return role in preparers(kind)


# ---- remittance lines (from the contributions area) ---------------------------------------

# Where the lines of a kind come from when another area provides them, and the ledger's total a
# sealed file must match (batch total = sum of its lines = ledger). The contributions area sits
# beside this one, not below it: the app factory connects its providers here
# (`coopreg._connect_areas`), and tests may replace them.
BATCH_SOURCES: dict[str, Callable[[Agreement, date], list[dict]]] = {}
BATCH_TOTALS: dict[str, Callable[[Agreement, date], Decimal | None]] = {}
# The payment a remittance was made with (reference, date), for the footer of the forms that
# ask for it (PhilHealth's RF-1: receipt reference and transaction date).
BATCH_PAYMENT: dict[str, Callable[[Agreement, date], tuple[str | None, date | None]]] = {}


def sealed_batches_carrying(cooperative_id: int, registration_ids: list[int]
                            ) -> dict[int, list[Batch]]:
    """The sealed batches (never drafts: they went nowhere) that carried each of these
    registrations, by number: what a member's registration summary lists."""
    found: dict[int, list[Batch]] = {}
    pairs = db.session.execute(
        select(BatchLine.registration_id, BatchLine.batch_id)
        .join(Batch, Batch.id == BatchLine.batch_id)
        .where(BatchLine.registration_id.in_(registration_ids),
               BatchLine.cooperative_id == cooperative_id,
               Batch.status.in_(SEALED_STATUSES))
        .distinct()).all()
    loaded = {b.id: b for b in db.session.scalars(
        select(Batch).where(Batch.cooperative_id == cooperative_id,
                            Batch.id.in_({batch_id for _r, batch_id in pairs})))}
    for registration_id, batch_id in pairs:
        found.setdefault(registration_id, []).append(loaded[batch_id])
    for batches in found.values():
        batches.sort(key=lambda b: b.number)
    return found


# ---- layouts ---------------------------------------------------------------------------------

# layout texts keep their inner spaces (fixed-width files count them); only line breaks and
# tabs are folded. Required unless a call says otherwise.
_clean_text = partial(clean_text, required=True, whitespace=r"[\r\n\t]+")


def _one_of(data: dict, key: str, allowed, default: str, refusal: str) -> str:
    """A choice of a layout's form: `default` when left empty, refused (on its field) when it
    is none of `allowed`."""
    value = data.get(key) or default
    if value not in allowed:
        raise DomainError(refusal, field=key)
    return value


def _layout_values(data: dict) -> dict:
    fmt = data.get("format")
    try:
        fmt = FileFormat(getattr(fmt, "value", fmt))
    except ValueError:
        raise DomainError(_("Choose the file format."), field="format") from None
    encoding = _one_of(data, "encoding", L.ENCODINGS, "utf-8-sig", _("Choose an encoding."))
    delimiter = _one_of(data, "delimiter", (",", ";"), ",",
                        _("The delimiter is a comma or a semicolon."))
    decimal_mark = _one_of(data, "decimal_mark", (".", ","), ".",
                           _("The decimal mark is a dot or a comma."))
    values = {"name": _clean_text(data.get("name"), 120, "name", _("The name")),
              "format": fmt, "encoding": encoding, "delimiter": delimiter,
              "decimal_mark": decimal_mark,
              "include_header": bool(data.get("include_header", True)),
              "header_line": _clean_text(data.get("header_line"), 500, "header_line", "",
                                         required=False),
              "footer_line": _clean_text(data.get("footer_line"), 500, "footer_line", "",
                                         required=False),
              "dependants_mode": data.get("dependants_mode") or "none"}
    if values["dependants_mode"] not in dependants.MODES:
        raise DomainError(_("Choose how the file carries dependants."), field="dependants_mode")
    sample = {"reference": "B-000001", "agreement": "REF", "period": date(2025, 1, 1),
              "date": date(2025, 1, 31), "count": 1, "total_minor": 100,
              "member_share_minor": 50, "cooperative_share_minor": 50, "checksum": "0" * 64,
              "total": Decimal("1.00"), "member_share": Decimal("0.50"),
              "cooperative_share": Decimal("0.50"), "employer_name": "Coop",
              "employer_tin": "000000000", "employer_address": "Address",
              "report_type": "R", "payment_reference": "OR-1",
              "payment_date": date(2025, 2, 10)}
    for key in ("header_line", "footer_line"):
        if values[key]:
            try:
                L.fill_template(values[key], sample)
            except DomainError as error:
                raise DomainError(error.message, field=key) from None
    return values


def _column_values(layout: FileLayout, data: dict) -> dict:
    source = data.get("source") or ""
    if source not in L.SOURCES:
        raise DomainError(_("Choose where the column's value comes from."), field="source")
    if layout.kind not in L.SOURCES[source].kinds:
        if L.SOURCES[source].kinds == L.ENR:
            raise DomainError(_("Dependants are carried only in enrolment files."),
                              field="source")
        raise DomainError(_("Contribution amounts exist only in remittance files."),
                          field="source")
    col_type = data.get("col_type") or L.SOURCES[source].col_type.value
    try:
        col_type = ColumnType(getattr(col_type, "value", col_type))
    except ValueError:
        raise DomainError(_("Choose the column's type."), field="col_type") from None
    fixed_value = _clean_text(data.get("fixed_value"), 200, "fixed_value", _("The value"),
                              required=source == "fixed")
    pattern = _clean_text(data.get("date_pattern"), 40, "date_pattern", "", required=False)
    if pattern:
        if "%" not in pattern:
            raise DomainError(_("Write the date pattern with codes such as %d/%m/%Y."),
                              field="date_pattern")
        try:
            date(2000, 12, 31).strftime(pattern)
        except ValueError:
            raise DomainError(_("The date pattern is not valid."),
                              field="date_pattern") from None
    id_format = _one_of(data, "id_format", ("compact", "formatted"),
                        "compact" if source == "member.id_number" else "formatted",
                        _("Choose how the ID is written."))
    try:
        decimals = int(data.get("decimals") if data.get("decimals") not in (None, "") else 2)
    except (TypeError, ValueError):
        decimals = -1
    if not 0 <= decimals <= 6:
        raise DomainError(_("Decimals: 0 to 6."), field="decimals")
    transform = _one_of(data, "transform", L.TRANSFORMS, "none",
                        _("Choose how the text is written."))
    width = data.get("width")
    width = int(width) if width not in (None, "") else None
    if width is not None and not 1 <= width <= 500:
        raise DomainError(_("The width is 1 to 500 characters."), field="width")
    if layout.format == FileFormat.FIXED and width is None:
        raise DomainError(_("A fixed-width file needs each column's width."), field="width")
    align = _one_of(data, "align", ("left", "right"), "left", _("Align left or right."))
    pad = _one_of(data, "pad", (" ", "0"), " ", _("Pad with spaces or zeros."))
    return {"header": _clean_text(data.get("header"), 120, "header", _("The header")),
            "source": source, "fixed_value": fixed_value, "col_type": col_type,
            "date_pattern": pattern, "id_format": id_format, "decimals": decimals,
            "implied_decimals": bool(data.get("implied_decimals")), "transform": transform,
            "width": width, "align": align, "pad": pad, "required": bool(data.get("required"))}


def _ensure_no_layout(agreement: Agreement, kind: BatchKind) -> None:
    if db.session.scalar(select(FileLayout.id).where(
            FileLayout.cooperative_id == agreement.cooperative_id,
            FileLayout.agreement_id == agreement.id, FileLayout.kind == kind)):
        raise DomainError(_("Agreement %(ref)s already has a %(kind)s layout: edit it, or "
                            "delete it first.", ref=agreement.reference,
                            kind=L.KIND_LABELS[kind]), field="kind")


def create_layout(agreement: Agreement, kind: BatchKind | str, built_in: str | None = None,
                  name: str | None = None) -> FileLayout:
    """A layout for an agreement and kind, started from a built-in layout (a starting point,
    not an official format) or empty (xlsx)."""
    kind = BatchKind(kind)
    _ensure_no_layout(agreement, kind)
    built_in = L.RENAMED.get(built_in, built_in) if built_in else built_in
    spec = L.BUILT_INS.get(built_in) if built_in else None
    if built_in and (spec is None or spec["kind"] != kind):
        raise DomainError(_("Choose a starting layout of this kind."), field="built_in")
    spec = spec or {"name": L.KIND_LABELS[kind], "format": FileFormat.XLSX, "columns": []}
    # the built-in layouts' names and column titles start in the cooperative's language (they
    # are the cooperative's data from then on: it may rename them as the institution asks)
    with speaking(agreement.cooperative.locale):
        layout = FileLayout(cooperative_id=agreement.cooperative_id, agreement_id=agreement.id,
                            kind=kind, built_in_origin=built_in,
                            **_layout_values({**spec, "name": str(name or spec["name"])}))
        for position, column in enumerate(spec["columns"], start=1):
            column = {**column, "header": str(column["header"])}
            layout.columns.append(LayoutColumn(cooperative_id=agreement.cooperative_id,
                                               position=position,
                                               **_column_values(layout, column)))
    db.session.add(layout)
    db.session.flush()
    return layout


def layout_for(agreement: Agreement, kind: BatchKind | str, create: bool = True
               ) -> FileLayout | None:
    """The agreement's layout of a kind; the generic built-in one is set up when missing."""
    kind = BatchKind(kind)
    layout = db.session.scalar(select(FileLayout).where(
        FileLayout.cooperative_id == agreement.cooperative_id,
        FileLayout.agreement_id == agreement.id, FileLayout.kind == kind))
    if layout is None and create:
        layout = create_layout(agreement, kind, L.GENERIC[kind])
    return layout


def update_layout(layout: FileLayout, data: dict) -> FileLayout:
    """Change a layout's name, format and text settings (batches already made keep the
    layout they were made with)."""
    values = _layout_values(data)
    if values["format"] == FileFormat.FIXED:
        missing = [c.header for c in layout.columns if not c.width]
        if missing:
            raise DomainError(_("Give these columns a width first: %(names)s.",
                                names=", ".join(missing)), field="format")
    for key, value in values.items():
        setattr(layout, key, value)
    db.session.flush()
    return layout


def _renumber(layout: FileLayout) -> None:
    for position, column in enumerate(layout.columns, start=1):
        column.position = position


def add_column(layout: FileLayout, data: dict) -> LayoutColumn:
    column = LayoutColumn(cooperative_id=layout.cooperative_id,
                          position=len(layout.columns) + 1, **_column_values(layout, data))
    layout.columns.append(column)
    db.session.flush()
    return column


def update_column(column: LayoutColumn, data: dict) -> LayoutColumn:
    for key, value in _column_values(column.layout, data).items():
        setattr(column, key, value)
    db.session.flush()
    return column


def move_column(column: LayoutColumn, direction: str) -> None:
    """Move a column one place left ("up") or right ("down")."""
    columns = list(column.layout.columns)
    index = columns.index(column)
    other = index - 1 if direction == "up" else index + 1
    if 0 <= other < len(columns):
        columns[index], columns[other] = columns[other], columns[index]
        for position, item in enumerate(columns, start=1):
            item.position = position
    db.session.flush()
    db.session.expire(column.layout, ["columns"])


def remove_column(column: LayoutColumn) -> None:
    layout = column.layout
    layout.columns.remove(column)
    db.session.flush()
    _renumber(layout)
    db.session.flush()


def copy_layout(layout: FileLayout, target: Agreement) -> FileLayout:
    """Copy a layout, columns and all, to another agreement of the cooperative."""
    if target.cooperative_id != layout.cooperative_id:
        raise DomainError(_("Choose an agreement of this cooperative."), field="agreement_id")
    if target.id == layout.agreement_id:
        raise DomainError(_("Choose another agreement."), field="agreement_id")
    _ensure_no_layout(target, layout.kind)
    copy = FileLayout(cooperative_id=target.cooperative_id, agreement_id=target.id,
                      kind=layout.kind, built_in_origin=layout.built_in_origin,
                      **{k: getattr(layout, k) for k in ("name", "format", "encoding",
                                                         "delimiter", "decimal_mark",
                                                         "include_header", "header_line",
                                                         "footer_line", "dependants_mode")})
    for column in layout.columns:
        copy.columns.append(LayoutColumn(cooperative_id=target.cooperative_id,
                                         **{k: getattr(column, k) for k in L.COLUMN_FIELDS}))
    db.session.add(copy)
    db.session.flush()
    return copy


def delete_layout(layout: FileLayout) -> None:
    """Delete a layout (batches made with it keep their own copy of it)."""
    db.session.delete(layout)
    db.session.flush()


def layout_problems(layout: FileLayout | dict) -> list[str]:
    """What stops a layout from writing a file."""
    data = layout if isinstance(layout, dict) else L.snapshot(layout)
    problems = []
    if not data["columns"]:
        problems.append(_("The layout has no columns."))
    if data["format"] == FileFormat.FIXED:
        for column in data["columns"]:
            if not column.get("width"):
                problems.append(_("Column “%(name)s” has no width.", name=column["header"]))
    problems += dependants.layout_problems(data)
    return problems


# ---- building a batch -------------------------------------------------------------------------

@dataclass
class Candidate:
    registration: Registration | None
    member: Member | None
    contribution: dict


def parse_period(text: str | date | None) -> date:
    """"2025-03" → date(2025, 3, 1)."""
    if isinstance(text, date):
        return text.replace(day=1)
    month = read_month(text)
    if month is None:
        raise DomainError(_("Give the period as a month, for example 2025-03."), field="period")
    return date(month[0], month[1], 1)


def _registration_ids(agreement: Agreement, statuses, flagged: bool = False,
                      only: Iterable[int] | None = None) -> list[int]:
    stmt = (select(Registration.id).join(Member, Registration.member_id == Member.id)
            .where(Registration.cooperative_id == agreement.cooperative_id,
                   Registration.agreement_id == agreement.id,
                   Registration.status.in_(list(statuses)))
            .order_by(Member.search_name, Member.id))
    if flagged:
        stmt = stmt.where(Registration.exit_flagged.is_(True))
    if only is not None:
        stmt = stmt.where(Registration.id.in_(list(only)))
    return list(db.session.scalars(stmt))


class _Row:
    """A row read as plain values: building a line needs only the columns, and an ORM
    instance per member and per registration is most of the time of a large batch."""

    def __init__(self, values: dict):
        self.__dict__.update(values)


class _MemberRow(_Row):
    full_name = Member.full_name


class _RegistrationRow(_Row):
    member: _MemberRow


def _column_keys(model) -> list[str]:
    return [attr.key for attr in model.__mapper__.column_attrs]


def _load(ids: list[int], cooperative_id: int) -> list[_RegistrationRow]:
    """The registrations, in the order of `ids`, each with its `member` (plain rows)."""
    registration_keys, member_keys = _column_keys(Registration), _column_keys(Member)
    columns = ([getattr(Registration, k).label(f"r_{k}") for k in registration_keys]
               + [getattr(Member, k).label(f"m_{k}") for k in member_keys])
    by_id = {}
    for row in db.session.execute(select(*columns)
                                  .join(Member, Member.id == Registration.member_id)
                                  .where(Registration.cooperative_id == cooperative_id,
                                         Registration.id.in_(ids))):
        values = row._mapping
        registration = _RegistrationRow({k: values[f"r_{k}"] for k in registration_keys})
        registration.member = _MemberRow({k: values[f"m_{k}"] for k in member_keys})
        by_id[registration.id] = registration
    return [by_id[i] for i in ids if i in by_id]


def _last_sent_values(agreement: Agreement, registration_ids: list[int]) -> dict[int, dict]:
    rows = db.session.execute(
        select(BatchLine.registration_id, BatchLine.source_values)
        .join(Batch, Batch.id == BatchLine.batch_id)
        .where(Batch.cooperative_id == agreement.cooperative_id,
               Batch.agreement_id == agreement.id,
               Batch.status.in_(list(SEALED_STATUSES)),
               Batch.kind.in_([BatchKind.ENROLMENT, BatchKind.UPDATE]),
               BatchLine.included.is_(True),
               BatchLine.registration_id.in_(registration_ids))
        .order_by(Batch.number, BatchLine.id))
    return {registration_id: values for registration_id, values in rows}


def _candidates(agreement: Agreement, kind: BatchKind, period: date | None,
                only: Iterable[int] | None, layout: dict,
                supersedes: Batch | None) -> Iterator[Any]:
    """How many candidates there are (first), then (how many were looked at so far, the lines
    proposed among them), chunk by chunk."""
    if kind == BatchKind.REMITTANCE:
        lines = BATCH_SOURCES["remittance"](agreement, period)
        yield len(lines)
        for start in range(0, len(lines), CHUNK):
            chunk = lines[start:start + CHUNK]
            yield start + len(chunk), [Candidate(line.get("registration"), line.get("member"),
                                                 line) for line in chunk]
        return
    if supersedes is not None:
        answered = select(AcknowledgementLine.batch_line_id).join(Acknowledgement).where(
            Acknowledgement.cooperative_id == supersedes.cooperative_id,
            Acknowledgement.batch_id == supersedes.id, AcknowledgementLine.applied.is_(True),
            AcknowledgementLine.batch_line_id.is_not(None))
        ids = list(db.session.scalars(
            select(BatchLine.registration_id).where(
                BatchLine.cooperative_id == supersedes.cooperative_id,
                BatchLine.batch_id == supersedes.id, BatchLine.included.is_(True),
                BatchLine.registration_id.is_not(None), BatchLine.id.not_in(answered))
            .order_by(BatchLine.line_no)))
    elif kind == BatchKind.ENROLMENT:
        ids = _registration_ids(agreement, [S.READY], only=only)
    elif kind == BatchKind.EXIT:
        ids = _registration_ids(agreement, [S.REGISTERED, S.SUSPENDED, S.SUBMITTED],
                                flagged=True, only=only)
    else:
        ids = _registration_ids(agreement, [S.REGISTERED], only=only)
    watched = [c["source"] for c in layout["columns"] if c["source"] in L.WATCHED]
    yield len(ids)
    for start in range(0, len(ids), CHUNK):
        chunk_ids = ids[start:start + CHUNK]
        registrations = _load(chunk_ids, agreement.cooperative_id)
        if kind == BatchKind.UPDATE and supersedes is None:
            sent = _last_sent_values(agreement, [r.id for r in registrations])
            changed = []
            for registration in registrations:
                before = sent.get(registration.id)
                if before is None:
                    continue  # never sent in a sealed batch: nothing to compare with
                now = L.source_values(L.LineData(registration.member, registration, agreement))
                if any(before.get(key) != now.get(key) for key in watched):
                    changed.append(registration)
            registrations = changed
        yield start + len(chunk_ids), [Candidate(r, r.member, {}) for r in registrations]


def _minor(value: Any, currency: str) -> int | None:
    if value is None:
        return None
    return to_minor(Decimal(value), currency)


def _compiled(batch_layout: dict, cooperative: Cooperative) -> L.CompiledLayout:
    return L.CompiledLayout(batch_layout, country=cooperative.country,
                            id_pattern=cooperative.id_pattern, id_label=cooperative.id_label)


def _build_lines(batch: Batch, agreement: Agreement, cooperative: Cooperative,
                 only: Iterable[int] | None = None, progress: Progress | None = None) -> int:
    """Render the proposed lines into the draft; returns how many. `progress` hears after
    each chunk of lines."""
    layout = batch.layout_snapshot
    compiled = _compiled(layout, cooperative)
    info = L.BatchInfo(batch.reference, batch.period, cooperative.country, cooperative.currency)
    widths = [len(c["header"]) for c in layout["columns"]]
    supersedes = batch.supersedes
    line_no = 0
    table = BatchLine.__table__
    chunks = _candidates(agreement, batch.kind, batch.period, only, layout, supersedes)
    total = next(chunks)
    if progress:
        progress(0, total, _("Checking the lines…"))
    for examined, chunk in chunks:
        rows = []
        carried = dependants.carried(
            batch.kind, layout, batch.cooperative_id,
            [c.registration.id for c in chunk if c.registration is not None])
        for candidate in chunk:
            line = L.LineData(candidate.member, candidate.registration, agreement, info,
                              candidate.contribution)
            with_member = (carried.get(candidate.registration.id, [])
                           if candidate.registration is not None else [])
            if dependants.mode_of(layout) == "columns":
                line.dependants = [person for _enrolled, person in with_member]
            values, problems = compiled.render(line)
            for index, value in enumerate(values):
                if value is not None and len(value) > widths[index]:
                    widths[index] = len(value)
            contribution = candidate.contribution
            if batch.kind == BatchKind.REMITTANCE and contribution.get("total") is None:
                problems.append(_("No contribution amount."))
            line_no += 1
            rows.append({
                "cooperative_id": batch.cooperative_id, "batch_id": batch.id,
                "line_no": line_no,
                "member_id": candidate.member.id if candidate.member is not None else None,
                "registration_id": (candidate.registration.id
                                    if candidate.registration is not None else None),
                "dependant_id": None,
                "values": values,
                "source_values": (L.source_values(line) if candidate.registration is not None
                                  and batch.kind != BatchKind.REMITTANCE else None),
                "amount_minor": _minor(contribution.get("total"), cooperative.currency),
                "member_share_minor": _minor(contribution.get("member_share"),
                                             cooperative.currency),
                "cooperative_share_minor": _minor(contribution.get("cooperative_share"),
                                                  cooperative.currency),
                "problem": "\n".join(problems) or None,
                "included": not problems,
            })
            if dependants.mode_of(layout) == "lines":
                for _enrolled, person in with_member:
                    line_no += 1
                    rows.append(_dependant_line(batch, compiled, line, person, line_no, widths,
                                                carrier_included=not problems))
        if rows:
            db.session.execute(insert(table), rows)
        if progress:
            progress(examined, total, _("%(done)d of %(total)d lines checked", done=examined,
                                        total=total))
    batch.col_widths = widths
    db.session.flush()
    return line_no


def _dependant_line(batch: Batch, compiled: L.CompiledLayout, member_line: L.LineData,
                    person, line_no: int, widths: list[int], carrier_included: bool) -> dict:
    """A dependant's own line (layouts with a line per dependant): the carrier's columns
    repeated, the dependant's filled; left out with its member."""
    line = L.LineData(member_line.member, member_line.registration, member_line.agreement,
                      member_line.batch, dependant=person)
    values, problems = compiled.render(line)
    if not carrier_included:
        problems.append(_("The member's line is left out."))
    for index, value in enumerate(values):
        if value is not None and len(value) > widths[index]:
            widths[index] = len(value)
    return {"cooperative_id": batch.cooperative_id, "batch_id": batch.id, "line_no": line_no,
            "member_id": member_line.member.id, "registration_id": None,
            "dependant_id": person.id, "values": values, "source_values": None,
            "amount_minor": None, "member_share_minor": None, "cooperative_share_minor": None,
            "problem": "\n".join(problems) or None, "included": not problems}


def _nothing_to_send(kind: BatchKind, agreement: Agreement, period: date | None) -> DomainError:
    messages = {
        BatchKind.ENROLMENT: _("Nothing to send: no registration of %(ref)s is ready.",
                               ref=agreement.reference),
        BatchKind.EXIT: _("Nothing to send: no registration of %(ref)s is flagged for exit.",
                          ref=agreement.reference),
        BatchKind.UPDATE: _("Nothing to send: no registered member of %(ref)s has changed "
                            "since the last sealed batch.", ref=agreement.reference),
        BatchKind.REMITTANCE: _("Nothing to send: no paid contribution of %(ref)s for "
                                "%(month)s.", ref=agreement.reference,
                                month=show_month(period) if period else "?"),
    }
    return DomainError(messages[kind], field="kind")


class RemittanceFileExists(DomainError):
    """A remittance batch for this agreement and period already holds its lines: `batch` is
    it (the view links to it; superseding it is the way to correct its file)."""

    def __init__(self, batch: Batch):
        super().__init__(_("Batch %(ref)s (%(status)s) already holds the remittance lines of "
                           "%(month)s: a due goes into one remittance file only. Open it; to "
                           "correct its file, make a batch that supersedes it.",
                           ref=batch.reference, status=label(batch.status),
                           month=show_month(batch.period)), field="period")
        self.batch = batch


# A remittance batch in one of these statuses holds its period's lines: no other batch may
# (a discarded draft holds nothing, a superseded file was replaced by the batch superseding it).
HOLDING_STATUSES = frozenset({B.DRAFT, B.SEALED, B.SENT, B.PARTIALLY_ACKNOWLEDGED,
                              B.ACKNOWLEDGED})


def remittance_batches(agreement_id: int, period: date) -> list[Batch]:
    """Every remittance batch of an agreement and period, oldest first (the remittance page
    links to their files)."""
    return list(db.session.scalars(select(Batch).where(
        Batch.cooperative_id == select(Agreement.cooperative_id).where(
            Agreement.id == agreement_id).scalar_subquery(),
        Batch.agreement_id == agreement_id, Batch.kind == BatchKind.REMITTANCE,
        Batch.period == period.replace(day=1)).order_by(Batch.number)))


def remittance_files(agreement_id: int, period: date) -> list[tuple[Batch, bool]]:
    """The remittance batches of an agreement and month, each with whether it holds the
    period's lines (what the remittance page lists)."""
    return [(b, b.status in HOLDING_STATUSES) for b in remittance_batches(agreement_id, period)]


def holding_remittance_batch(agreement_id: int, period: date,
                             besides: Iterable[int] = ()) -> Batch | None:
    """The remittance batch (draft or sealed, not superseded nor discarded) that holds the
    lines of an agreement's period, other than the batches `besides`; None when there is
    none."""
    besides = set(besides)
    return next((b for b in remittance_batches(agreement_id, period)
                 if b.status in HOLDING_STATUSES and b.id not in besides), None)


def _refuse_second_remittance(agreement: Agreement, period: date,
                              supersedes: Batch | None, besides: Iterable[int] = ()) -> None:
    """A due in a remittance file never goes into another one: a second batch for the same
    agreement and period is refused unless it supersedes the one holding the lines."""
    ignore = set(besides) | ({supersedes.id} if supersedes is not None else set())
    holder = holding_remittance_batch(agreement.id, period, ignore)
    if holder is not None:
        raise RemittanceFileExists(holder)


def check_new_batch(cooperative: Cooperative, agreement: Agreement, kind: BatchKind | str,
                    *, period: date | str | None = None, policy: str = "exclude",
                    supersedes: Batch | None = None
                    ) -> tuple[BatchKind, date | None, FileLayout, dict]:
    """The quick checks of `create_batch` (kind, agreement, policy, period, layout), before
    any line is built: a form can answer at once and hand the long part to a job. Returns
    (kind, period, layout, its snapshot); the generic layout is set up when missing. A
    remittance for a period another batch already holds is refused (`RemittanceFileExists`)
    unless it supersedes that batch."""
    try:
        kind = BatchKind(getattr(kind, "value", kind))
    except ValueError:
        raise DomainError(_("Choose the kind of batch."), field="kind") from None
    if agreement.cooperative_id != cooperative.id:
        raise DomainError(_("Choose an agreement of this cooperative."), field="agreement_id")
    if policy not in ("exclude", "block"):
        raise DomainError(_("Choose what to do with lines that have problems."),
                          field="policy")
    period = parse_period(period) if kind == BatchKind.REMITTANCE else None
    if kind == BatchKind.REMITTANCE:
        _refuse_second_remittance(agreement, period, supersedes)
    layout = layout_for(agreement, kind)
    snapshot = L.snapshot(layout)
    problems = layout_problems(snapshot)
    if problems:
        raise DomainError(_("The %(kind)s layout cannot write a file yet: %(problems)s",
                            kind=L.KIND_LABELS[kind], problems=" ".join(problems)),
                          field="kind")
    return kind, period, layout, snapshot


def create_batch(cooperative: Cooperative, agreement: Agreement, kind: BatchKind | str,
                 actor_id: int | None, *, period: date | str | None = None,
                 policy: str = "exclude", registration_ids: Iterable[int] | None = None,
                 supersedes: Batch | None = None, progress: Progress | None = None) -> Batch:
    """A draft batch for an agreement, with a gap-free reference: enrolment proposes every
    `ready` registration, exit every one flagged for exit, update every registered member
    whose exported fields changed since the last sealed batch, remittance a period's paid
    contributions. Each line is checked against the layout; `policy` says whether lines with
    problems are left out ("exclude") or block sealing ("block")."""
    if getattr(kind, "value", kind) == BatchKind.REMITTANCE.value:
        # two people making the same remittance file at once: the second waits, then is
        # refused by the check below
        _lock_agreement(agreement.id)
    kind, period, layout, snapshot = check_new_batch(cooperative, agreement, kind,
                                                     period=period, policy=policy,
                                                     supersedes=supersedes)
    number = next_number(cooperative.id, "batch")
    batch = Batch(cooperative_id=cooperative.id, agreement_id=agreement.id, kind=kind,
                  number=number, reference=f"B-{number:06d}", period=period,
                  status=B.DRAFT, problem_policy=policy, layout_id=layout.id,
                  supersedes_id=supersedes.id if supersedes else None,
                  file_format=layout.format, layout_snapshot=snapshot,
                  created_by_id=actor_id)
    db.session.add(batch)
    db.session.flush()
    count = _build_lines(batch, agreement, cooperative, registration_ids, progress)
    if count == 0:
        raise _nothing_to_send(kind, agreement, period)
    return batch


def _lock_agreement(agreement_id: int) -> None:
    """Serialise the making of an agreement's remittance files (PostgreSQL row lock; SQLite
    already serialises writers)."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(select(Agreement.id).where(Agreement.id == agreement_id)
                           .with_for_update(key_share=True)
                           .execution_options(**unscoped("a row lock by id; nothing is read")))


def _drafts_of(agreement_id: int, period: date) -> list[int]:
    return [b.id for b in remittance_batches(agreement_id, period) if b.status == B.DRAFT]


def require_draft(batch: Batch) -> None:
    """Refuse (a `DomainError`) unless the batch is still a draft."""
    if batch.status != B.DRAFT:
        raise DomainError(_("Batch %(ref)s is %(status)s: it can no longer change. Make a new "
                            "batch that supersedes it.", ref=batch.reference,
                            status=label(batch.status)))


def refresh_batch(batch: Batch, progress: Progress | None = None) -> int:
    """Rebuild a draft's lines from today's data and layout (after fixing members' data)."""
    batch = lock_batch(batch)
    require_draft(batch)
    agreement = batch.agreement
    cooperative = db.session.get(Cooperative, batch.cooperative_id)
    layout = layout_for(agreement, batch.kind)
    snapshot = L.snapshot(layout)
    problems = layout_problems(snapshot)
    if problems:
        raise DomainError(" ".join(problems))
    db.session.execute(delete(BatchLine).where(BatchLine.batch_id == batch.id))
    batch.layout_snapshot = snapshot
    batch.layout_id = layout.id
    batch.file_format = layout.format
    count = _build_lines(batch, agreement, cooperative, progress=progress)
    if count == 0:
        raise _nothing_to_send(batch.kind, agreement, batch.period)
    return count


def set_policy(batch: Batch, policy: str) -> None:
    require_draft(batch)
    if policy not in ("exclude", "block"):
        raise DomainError(_("Choose what to do with lines that have problems."),
                          field="policy")
    batch.problem_policy = policy
    db.session.flush()


def discard_batch(batch: Batch) -> None:
    """Give up a draft: its number stays taken (references have no gaps), nothing is written."""
    require_draft(batch)
    BATCH_LIFECYCLE.move(batch, B.DISCARDED)
    db.session.flush()


@dataclass
class LineCounts:
    total: int
    included: int
    with_problems: int


def line_counts(batch: Batch) -> LineCounts:
    total, included, problems = db.session.execute(
        select(func.count(), func.count().filter(BatchLine.included.is_(True)),
               func.count().filter(BatchLine.problem.is_not(None)))
        .where(BatchLine.cooperative_id == batch.cooperative_id,
               BatchLine.batch_id == batch.id)).one()
    return LineCounts(total or 0, included or 0, problems or 0)


def batch_totals(batch: Batch) -> dict[str, int]:
    """Sums of the included lines, in minor units."""
    total, member, cooperative = db.session.execute(
        select(func.sum(BatchLine.amount_minor), func.sum(BatchLine.member_share_minor),
               func.sum(BatchLine.cooperative_share_minor))
        .where(BatchLine.cooperative_id == batch.cooperative_id,
               BatchLine.batch_id == batch.id, BatchLine.included.is_(True))).one()
    return {"total": int(total or 0), "member_share": int(member or 0),
            "cooperative_share": int(cooperative or 0)}


# ---- sealing ------------------------------------------------------------------------------------

def lock_batch(batch: Batch) -> Batch:
    """Re-read the batch under a row lock held until the transaction ends (PostgreSQL
    `FOR UPDATE`; SQLite's writers are serialised by `BEGIN IMMEDIATE`)."""
    return db.session.execute(select(Batch).where(Batch.cooperative_id == batch.cooperative_id,
                                                  Batch.id == batch.id).with_for_update()
                              .execution_options(populate_existing=True)).scalar_one()


def _expected_statuses(batch: Batch) -> tuple[set[RegistrationStatus], RegistrationStatus | None]:
    """(statuses the included registrations must be in, status sealing moves them to)."""
    superseding = batch.supersedes_id is not None
    if batch.kind == BatchKind.ENROLMENT:
        return ({S.SUBMITTED}, None) if superseding else ({S.READY}, S.SUBMITTED)
    if batch.kind == BatchKind.EXIT:
        return (({S.TERMINATED}, None) if superseding
                else ({S.REGISTERED, S.SUSPENDED, S.SUBMITTED}, S.TERMINATED))
    if batch.kind == BatchKind.UPDATE:
        return {S.REGISTERED}, None
    return set(RegistrationStatus), None


def _check_registrations(batch: Batch) -> None:
    expected, _target = _expected_statuses(batch)
    rows = db.session.execute(
        select(Member.first_name, Member.last_name, Registration.status)
        .select_from(BatchLine)
        .join(Registration, Registration.id == BatchLine.registration_id)
        .join(Member, Member.id == Registration.member_id)
        .where(BatchLine.cooperative_id == batch.cooperative_id,
               BatchLine.batch_id == batch.id, BatchLine.included.is_(True),
               Registration.status.not_in(list(expected)))
        .order_by(BatchLine.line_no).limit(6)).all()
    if rows:
        names = "; ".join(f"{first} {last} ({label(status)})" for first, last, status in rows[:5])
        raise DomainError(_("Some registrations changed since the draft was made: %(names)s. "
                            "Refresh the draft, then seal it.", names=names))


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass
class PendingFile:
    """A sealed batch's file written under its temporary name, to take the batch's name when
    the sealing commits (`commit_sealing`)."""

    temporary: Path
    final: Path
    export_dir: Path
    batch_id: int

    def __fspath__(self) -> str:
        return str(self.final)

    @property
    def name(self) -> str:
        return self.final.name


def _place(pending: PendingFile) -> Path:
    """Give the written file its batch's name, the same on every attempt: a leftover there
    of a sealing that did not commit is moved aside first (never another batch's file)."""
    from coopreg.batches.files import free_the_name

    free_the_name(pending.export_dir, pending.final, pending.batch_id)
    os.replace(pending.temporary, pending.final)
    _fsync_directory(pending.final.parent)
    return pending.final


def _fsync_directory(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def remove_file(path: Path | str | None) -> None:
    """Remove a file written by a sealing whose transaction did not commit."""
    if path is None:
        return
    try:
        os.chmod(path, 0o600)
        os.unlink(path)
    except FileNotFoundError:
        pass


def _counted(values: Iterable[list], total: int, progress: Progress | None) -> Iterator[list]:
    """The values, telling `progress` every CHUNK lines written."""
    if progress is None:
        yield from values
        return
    for done, row in enumerate(values, start=1):
        yield row
        if done % CHUNK == 0:
            progress(done, total, _("%(done)d of %(total)d lines written", done=done,
                                    total=total))


def check_sealable(batch: Batch) -> LineCounts:
    """Why the batch cannot be sealed (a `DomainError`), checked from its status and line
    counts; returns the counts. `seal_batch` checks again under the lock."""
    if batch.status != B.DRAFT:
        raise DomainError(_("Batch %(ref)s is already %(status)s.", ref=batch.reference,
                            status=label(batch.status)))
    counts = line_counts(batch)
    if counts.included == 0:
        raise DomainError(_("Nothing to send: every line of %(ref)s has a problem.",
                            ref=batch.reference))
    if batch.problem_policy == "block" and counts.with_problems:
        raise DomainError(_("%(n)d line(s) have problems and this batch is set to block "
                            "sealing while any has one. Fix them and refresh the draft, or "
                            "choose to leave them out.", n=counts.with_problems))
    return counts


def _included_values(batch: Batch) -> Iterator[list]:
    """The values of the batch's included lines, in order, streamed (a server-side cursor on
    PostgreSQL: memory stays flat however many lines). Read as JSON text through Core and
    decoded here: the ORM's row handling, or psycopg's own JSON decoding, cost as much again
    as writing a sealed file's cells."""
    lines = BatchLine.__table__
    # the options on the statement: `Connection.execution_options` would keep them on the
    # session's connection for every statement after this one
    stmt = (select(cast(lines.c["values"], Text))
            .where(lines.c.cooperative_id == batch.cooperative_id,
                   lines.c.batch_id == batch.id, lines.c.included.is_(True))
            .order_by(lines.c.line_no).execution_options(stream_results=True, yield_per=5000))
    result = db.session.connection().execute(stmt)
    loads = json.loads
    for (values,) in result:
        yield loads(values)


def seal_batch(batch: Batch, actor_id: int | None, export_dir: str | Path,
               today: date | None = None, progress: Progress | None = None,
               place: bool = True) -> Path | PendingFile:
    """Write the batch's file under `<export_dir>/<cooperative code>/`, record its SHA-256,
    row count, totals and data checksum, move the included registrations on (enrolment:
    ready → submitted; exit: → terminated), and freeze the batch. Two people sealing at once
    get one file: the batch row is locked and its status checked again. The file is written
    to a temporary name (`.sealing-<batch id>-…`), synced, read-only, and takes the batch's
    own name (`<reference>-<kind>.<ext>`, the same on a retry): at once (`place=True`;
    returns the path: the caller commits, or removes it), or when `commit_sealing` commits
    (`place=False`, the background job: a worker killed before the commit leaves no file
    under a batch's name; returns a `PendingFile`)."""
    today = today or date.today()
    batch = lock_batch(batch)
    counts = check_sealable(batch)
    if progress:
        progress(0, counts.included, _("Checking the registrations…"))
    _check_registrations(batch)
    cooperative = db.session.get(Cooperative, batch.cooperative_id)
    agreement = batch.agreement
    currency = cooperative.currency
    totals = batch_totals(batch)
    # the file is the cooperative's: its summary sheet speaks the cooperative's language
    language = cooperative.locale
    amounts = {}
    if batch.kind == BatchKind.REMITTANCE:
        with speaking(language):
            amounts = {_("Member share"): from_minor(totals["member_share"], currency),
                       _("Cooperative share"): from_minor(totals["cooperative_share"],
                                                          currency),
                       _("Total"): from_minor(totals["total"], currency)}
    if batch.kind == BatchKind.REMITTANCE:
        # a draft made before this rule, or beside another one: the first sealed file wins
        _lock_agreement(agreement.id)
        _refuse_second_remittance(agreement, batch.period,
                                  db.session.get(Batch, batch.supersedes_id)
                                  if batch.supersedes_id else None, besides=[batch.id]
                                  + _drafts_of(agreement.id, batch.period))
        ledger = BATCH_TOTALS["remittance"](agreement, batch.period)
        if ledger is not None and to_minor(Decimal(ledger), currency) != totals["total"]:
            raise DomainError(_("The file's total (%(file)s) differs from the remittance "
                                "recorded for %(month)s (%(ledger)s): every remitted line "
                                "must be in the file.",
                                file=format_minor(totals["total"], currency),
                                month=show_month(batch.period),
                                ledger=format_money(Decimal(ledger), currency)))
    supersedes = (get_scoped(Batch, batch.supersedes_id, batch.cooperative_id)
                  if batch.supersedes_id else None)
    summary = Summary(reference=batch.reference, agreement=agreement.reference,
                      institution=agreement.institution.name,
                      kind=speak_in(language, display, batch.kind),
                      period=batch.period, made_on=today, count=counts.included,
                      totals=amounts, total_minor=totals["total"],
                      member_share_minor=totals["member_share"],
                      cooperative_share_minor=totals["cooperative_share"],
                      supersedes=supersedes.reference if supersedes else None,
                      decimals=currency_exponent(currency),
                      employer_name=cooperative.name,
                      employer_tin=cooperative.tax_number or "",
                      employer_address=cooperative.contact or "")
    if batch.kind == BatchKind.REMITTANCE and "remittance" in BATCH_PAYMENT:
        reference, paid_on = BATCH_PAYMENT["remittance"](agreement, batch.period)
        summary.payment_reference, summary.payment_date = reference or "", paid_on
    directory = Path(export_dir) / cooperative.code
    directory.mkdir(parents=True, exist_ok=True)
    extension = L.EXTENSIONS[FileFormat(batch.layout_snapshot["format"])]
    from coopreg.batches.files import temporary_prefix

    fd, temporary_name = tempfile.mkstemp(dir=directory, prefix=temporary_prefix(batch.id),
                                          suffix="." + extension)
    temporary = Path(temporary_name)
    pending = PendingFile(temporary, directory / f"{batch.reference}-{batch.kind.value}."
                                                 f"{extension}", Path(export_dir), batch.id)
    final: Path | None = None
    try:
        with os.fdopen(fd, "wb") as stream, speaking(language):
            data_checksum = write_batch_file(
                stream, batch.layout_snapshot,
                _counted(_included_values(batch), counts.included, progress), summary,
                batch.col_widths)
            stream.flush()
            os.fsync(stream.fileno())
        sha256 = sha256_file(temporary)
        os.chmod(temporary, 0o400)  # never changed again; the app's account only
        if place:
            final = _place(pending)
    except UnicodeEncodeError as error:
        # the codec's own words are English: say it in the user's language
        raise DomainError(_("The file could not be written: %(reason)s", reason=_(
            "“%(text)s” cannot be written in the layout's encoding (%(encoding)s).",
            text=error.object[error.start:error.end], encoding=error.encoding))) from None
    except ValueError as error:  # the writers' reasons are translated
        raise DomainError(_("The file could not be written: %(reason)s", reason=str(error))
                          ) from None
    finally:
        if place and temporary.exists():
            remove_file(temporary)
    if not place:
        final = pending.final
    if progress:
        progress(counts.included, counts.included, _("Recording the sealing…"))
    try:
        _move_registrations(batch, actor_id)
        BATCH_LIFECYCLE.move(batch, B.SEALED)
        batch.file_path = f"{cooperative.code}/{final.name}"
        batch.sha256 = sha256
        batch.data_checksum = data_checksum
        batch.row_count = counts.included
        batch.totals = totals
        batch.total_minor = totals["total"]
        batch.sealed_at = utcnow()
        batch.sealed_by_id = actor_id
        if supersedes is not None and BATCH_LIFECYCLE.can(supersedes.status, B.SUPERSEDED):
            BATCH_LIFECYCLE.move(supersedes, B.SUPERSEDED)
        db.session.flush()
    except BaseException:
        remove_file(final if place else temporary)
        raise
    return final if place else pending


SENT_IN_BATCH = sentence("registrations.sent_in_batch", lambda p: _(
    "Sent in batch %(ref)s", **p))
EXIT_SENT_IN_BATCH = sentence("registrations.exit_sent_in_batch", lambda p: _(
    "Exit sent in batch %(ref)s", **p))


def _move_registrations(batch: Batch, actor_id: int | None) -> None:
    _expected, target = _expected_statuses(batch)
    if target is None:
        return
    ids = list(db.session.scalars(select(BatchLine.registration_id).where(
        BatchLine.cooperative_id == batch.cooperative_id,
        BatchLine.batch_id == batch.id, BatchLine.included.is_(True),
        BatchLine.registration_id.is_not(None)).order_by(BatchLine.line_no)))
    reason = kept(SENT_IN_BATCH if target == S.SUBMITTED else EXIT_SENT_IN_BATCH,
                  ref=batch.reference)
    agreement_services.transition_many(ids, target, actor_id, reason,
                                       cooperative_id=batch.cooperative_id)
    if target == S.SUBMITTED:
        dependants.send(batch, ids)


def commit_sealing(path: Path | PendingFile | None) -> None:
    """Commit the sealing; when the commit fails, the file it wrote goes too. A file still
    under its temporary name takes the batch's name once the commit is done."""
    try:
        checkpoint()
    except BaseException:
        discard()
        remove_file(path.temporary if isinstance(path, PendingFile) else path)
        raise
    if isinstance(path, PendingFile):
        _place(path)


class FileRefused(DomainError):
    """A sealed batch's file that is missing or no longer matches its checksum."""


def verified_file(batch: Batch, export_dir: str | Path) -> tuple[bytes, str]:
    """The sealed file's bytes and its download name, after checking they still match the
    SHA-256 recorded at sealing; `FileRefused` when missing or changed."""
    if not batch.is_sealed or not batch.file_path:
        raise DomainError(_("Batch %(ref)s is a draft: seal it first.", ref=batch.reference))
    root = Path(export_dir).resolve()
    path = (root / batch.file_path).resolve()
    if root not in path.parents:
        raise FileRefused(_("The file of batch %(ref)s is not in the exports folder.",
                            ref=batch.reference))
    try:
        data = path.read_bytes()
    except (FileNotFoundError, IsADirectoryError, PermissionError):
        raise FileRefused(_("The file of batch %(ref)s (%(name)s) is missing from the exports "
                            "folder. It is not made again: make a new batch that supersedes "
                            "this one.", ref=batch.reference, name=batch.file_path)) from None
    if hashlib.sha256(data).hexdigest() != batch.sha256:
        raise FileRefused(_("The file of batch %(ref)s (%(name)s) no longer matches the "
                            "checksum recorded when it was sealed: it was changed on disk. "
                            "It is not given out. Restore it from a backup, or make a new "
                            "batch that supersedes this one.", ref=batch.reference,
                            name=batch.file_path))
    return data, path.name


SEND_CHANNELS = ("portal", "email", "in_person", "post", "other")


def mark_sent(batch: Batch, sent_on: date | None, channel: str, note: str | None,
              today: date | None = None) -> None:
    """Record when and how the file went to the institution."""
    today = today or date.today()
    batch = lock_batch(batch)
    if not batch.is_sealed or batch.status == B.SUPERSEDED:
        raise DomainError(_("Only a sealed batch can be sent."))
    if batch.sent_on is not None:
        raise DomainError(_("Batch %(ref)s was already marked sent on %(date)s.",
                            ref=batch.reference, date=batch.sent_on.isoformat()))
    if sent_on is None:
        raise DomainError(_("Give the date it was sent."), field="sent_on")
    if sent_on > today:
        raise DomainError(_("The date is in the future."), field="sent_on")
    if batch.sealed_at is not None and sent_on < batch.sealed_at.date():
        raise DomainError(_("The batch was sealed on %(date)s: it cannot have been sent "
                            "before.", date=batch.sealed_at.date().isoformat()),
                          field="sent_on")
    if channel not in SEND_CHANNELS:
        raise DomainError(_("Choose how it was sent."), field="channel")
    batch.sent_on = sent_on
    batch.sent_channel = channel
    batch.sent_note = _clean_text(note, 300, "note", _("The note"), required=False)
    if batch.status == B.SEALED:
        BATCH_LIFECYCLE.move(batch, B.SENT)
    db.session.flush()


def check_supersedable(batch: Batch) -> None:
    """Why the batch cannot be superseded (a `DomainError`)."""
    if not batch.is_sealed or batch.status in (B.SUPERSEDED, B.ACKNOWLEDGED):
        raise DomainError(_("Only a sealed batch that is not fully answered can be "
                            "superseded."))
    pending = db.session.scalar(select(Batch.reference).where(
        Batch.cooperative_id == batch.cooperative_id,
        Batch.supersedes_id == batch.id, Batch.status == B.DRAFT))
    if pending:
        raise DomainError(_("Draft %(ref)s already supersedes this batch.", ref=pending))


def supersede_batch(batch: Batch, actor_id: int | None,
                    progress: Progress | None = None) -> Batch:
    """A new draft that replaces a sealed batch (its file stays as it was): the same kind,
    agreement and period, with the lines the institution has not answered yet, made from
    today's data and layout. When the new batch is sealed, the old one becomes superseded."""
    batch = lock_batch(batch)
    check_supersedable(batch)
    cooperative = db.session.get(Cooperative, batch.cooperative_id)
    agreement = batch.agreement
    if batch.kind == BatchKind.REMITTANCE:
        return create_batch(cooperative, agreement, batch.kind, actor_id, period=batch.period,
                            policy=batch.problem_policy, supersedes=batch, progress=progress)
    return create_batch(cooperative, agreement, batch.kind, actor_id,
                        policy=batch.problem_policy, supersedes=batch, progress=progress)


# ---- lists ----------------------------------------------------------------------------------

# reference: the (cooperative_id, number) unique index; kind and status: a sort of the rows
# the filters kept (a cooperative seals a few batches a month)
BATCH_SORTS = Sorts({"reference": Batch.number, "kind": Batch.kind, "status": Batch.status},
                    default="reference", default_descending=True, tiebreak=Batch.id,
                    descending_first=("reference",))


def list_batches(cooperative_id: int, filters: dict, order: Sorted | None = None,
                 after: str | None = None, per_page: int = 100):
    """One page of the batches the filters keep, in the order chosen; with the next page's
    cursor and how many batches the filters keep (every page)."""
    stmt = select(Batch).where(Batch.cooperative_id == cooperative_id)
    if filters.get("agreement_id"):
        stmt = stmt.where(Batch.agreement_id == filters["agreement_id"])
    if filters.get("kind") in BatchKind._value2member_map_:
        stmt = stmt.where(Batch.kind == BatchKind(filters["kind"]))
    if filters.get("status") in BatchStatus._value2member_map_:
        stmt = stmt.where(Batch.status == BatchStatus(filters["status"]))
    rows, next_cursor = BATCH_SORTS.page(stmt.options(selectinload(Batch.agreement)),
                                         order or BATCH_SORTS.default, after, per_page)
    return rows, next_cursor, count_rows(stmt)


def batch_lines(batch: Batch, which: str = "all", limit: int = 500) -> list[BatchLine]:
    stmt = (select(BatchLine).where(BatchLine.cooperative_id == batch.cooperative_id,
                                    BatchLine.batch_id == batch.id)
            .options(selectinload(BatchLine.member)).order_by(BatchLine.line_no).limit(limit))
    if which == "problems":
        stmt = stmt.where(BatchLine.problem.is_not(None))
    return list(db.session.scalars(stmt))


def answered_line_ids(batch: Batch) -> dict[int, AcknowledgementLine]:
    """The batch's lines the institution answered (applied acknowledgement lines)."""
    rows = db.session.scalars(
        select(AcknowledgementLine).join(Acknowledgement)
        .where(Acknowledgement.cooperative_id == batch.cooperative_id,
               Acknowledgement.batch_id == batch.id, AcknowledgementLine.applied.is_(True)))
    return {line.batch_line_id: line for line in rows}


def acknowledgements_of(batch: Batch) -> list[Acknowledgement]:
    return list(db.session.scalars(select(Acknowledgement).where(
        Acknowledgement.cooperative_id == batch.cooperative_id,
        Acknowledgement.batch_id == batch.id, Acknowledgement.status != AckStatus.DISCARDED)
        .order_by(Acknowledgement.id)))


def superseded_by(batch: Batch) -> Batch | None:
    return db.session.scalar(select(Batch).where(Batch.cooperative_id == batch.cooperative_id,
                                                 Batch.supersedes_id == batch.id,
                                                 Batch.status != B.DISCARDED)
                             .order_by(Batch.id.desc()))


def agreement_by_reference(cooperative_id: int, reference: str) -> Agreement | None:
    return db.session.scalar(select(Agreement).where(
        Agreement.cooperative_id == cooperative_id,
        func.upper(Agreement.reference) == (reference or "").strip().upper()))


# a cooperative's few layouts (one per agreement and kind of batch): a sort of those rows
LAYOUT_SORTS = Sorts({"agreement": Agreement.reference, "kind": FileLayout.kind,
                      "name": FileLayout.name}, default="agreement", tiebreak=FileLayout.id)


def layouts_of(cooperative_id: int, order: Sorted | None = None) -> list[FileLayout]:
    """A cooperative's file layouts, by agreement (then kind) or in the order chosen."""
    stmt = (select(FileLayout).where(FileLayout.cooperative_id == cooperative_id)
            .options(selectinload(FileLayout.agreement), selectinload(FileLayout.columns))
            .join(Agreement, Agreement.id == FileLayout.agreement_id))
    if order is None:
        return list(db.session.scalars(stmt.order_by(Agreement.reference, FileLayout.kind)))
    return list(db.session.scalars(LAYOUT_SORTS.apply(stmt, order)))


def amount_text(minor: int | None, currency: str) -> str:
    return "" if minor is None else str(from_minor(minor, currency))

