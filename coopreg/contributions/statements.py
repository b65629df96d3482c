"""Bank and mobile-money statements: import (CSV or xlsx, read with the safe spreadsheet
helpers), the column mapping saved per source, matching lines to receipts, and the queue of
unmatched lines.

Rules:
- A statement line is a credit (money in); debits and zero lines are skipped and counted.
- Each line gets a key unique per source: the bank's reference when the file has one, else a
  hash of its date, amount, payer and text and of its occurrence in the file (two identical
  payments on one day stay two lines). Importing the same statement twice adds nothing.
- Matching, in order: (1) a receipt with the line's reference and amount; (2) the one
  receipt of the member named on the line (member number, phone or national ID) with the
  same amount, received within three days of the booking date. Anything else waits in the
  queue, where the treasurer links it to a receipt or records a receipt from it. A line and
  a receipt are matched at most once; a reversed receipt is never matched.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, or_, select

from coopreg.contributions.models import (
    PaymentMethod,
    Receipt,
    ReceiptReversal,
    Statement,
    StatementLine,
    StatementMatch,
    StatementSource,
)
from coopreg.contributions.services import ReceiptInput, record_receipt
from coopreg.cooperatives.models import Cooperative
from coopreg.core.errors import DomainError
from coopreg.core.money import currency_exponent, to_minor
from coopreg.core.spreadsheets import ReadLimits, Table, cell_text, read_table
from coopreg.core.text import ascii_int, digits_only
from coopreg.core.validation import clean_text
from coopreg.extensions import db
from coopreg.members.models import Member

DATE_WINDOW_DAYS = 3
DATE_ORDERS = ("ymd", "dmy", "mdy")
STATEMENT_METHODS = (PaymentMethod.BANK_TRANSFER, PaymentMethod.MOBILE_MONEY)


# ---- sources and mapping --------------------------------------------------------------------

def find_or_create_source(cooperative: Cooperative, name: str, method: str) -> StatementSource:
    """The statement source of that name (created with its method when new)."""
    name = clean_text(name, 80, "source_name", _("The source's name"), required=True)
    source = db.session.scalar(select(StatementSource).where(
        StatementSource.cooperative_id == cooperative.id,
        func.lower(StatementSource.name) == name.lower()))
    if source is not None:
        return source
    try:
        method_value = PaymentMethod(method)
    except ValueError:
        raise DomainError(_("Choose how the money arrives."), field="method") from None
    source = StatementSource(cooperative_id=cooperative.id, name=name, method=method_value)
    db.session.add(source)
    db.session.flush()
    return source


def read_statement_file(data: bytes, filename: str) -> Table:
    limits = ReadLimits.from_config(current_app.config) if current_app else ReadLimits()
    return read_table(data, filename=filename, limits=limits)


def header_of(table: Table) -> tuple[int, list[str]]:
    """(index of the header row, its texts): the first row with at least two filled cells."""
    for index, row in enumerate(table.rows[:30]):
        texts = [cell_text(v) for v in row]
        if sum(1 for t in texts if t) >= 2:
            return index, texts
    raise DomainError(_("The file has no header row (column names)."), field="file")


def save_mapping(source: StatementSource, headers: list[str], mapping: dict[str, str | None],
                 date_order: str) -> StatementSource:
    """Keep the column mapping for the source's next files. Date and amount are required;
    every mapped column must be one of the file's headers."""
    known = {h for h in headers if h}
    for name in ("date_column", "amount_column"):
        if not mapping.get(name):
            raise DomainError(_("Choose the column."), field=name)
    for name in ("date_column", "amount_column", "reference_column", "member_column",
                 "description_column"):
        value = (mapping.get(name) or "").strip() or None
        if value is not None and value not in known:
            raise DomainError(_("The file has no column %(name)s.", name=value), field=name)
        setattr(source, name, value)
    if date_order not in DATE_ORDERS:
        raise DomainError(_("Choose how dates are written."), field="date_order")
    source.date_order = date_order
    db.session.flush()
    return source


def mapping_fits(source: StatementSource, headers: list[str]) -> bool:
    known = set(headers)
    return source.mapped and all(
        column in known for column in (source.date_column, source.amount_column,
                                       source.reference_column, source.member_column,
                                       source.description_column) if column)


# ---- reading cells --------------------------------------------------------------------------

def parse_statement_date(value: Any, order: str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = cell_text(value)
    match = re.fullmatch(r"(\d{1,4})[-/.](\d{1,2})[-/.](\d{1,4})(?:[ T].*)?", text)
    if not match:
        raise ValueError(text)
    a, b, c = (int(g) for g in match.groups())
    if len(match.group(1)) == 4 or order == "ymd":
        year, month, day = a, b, c
    elif order == "dmy":
        day, month, year = a, b, c
    else:
        month, day, year = a, b, c
    if year < 100:
        year += 2000
    return date(year, month, day)


def parse_statement_amount(value: Any, currency: str) -> Decimal:
    """Amounts as banks write them: "1,500.00", "1.500,00", "1500", "-25.00", "CRC 1 500".
    The last mark followed by at most the currency's decimals is the decimal mark; other
    marks are thousands separators. Floats from a workbook cell are read through their text
    (no binary drift)."""
    if isinstance(value, int | Decimal) and not isinstance(value, bool):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))
    text = re.sub(r"[^\d,.\-]", "", cell_text(value))
    negative = text.startswith("-") or (cell_text(value).startswith("(")
                                        and cell_text(value).endswith(")"))
    text = text.replace("-", "")
    if not text or not re.search(r"\d", text):
        raise ValueError(value)
    exponent = currency_exponent(currency)
    last = max(text.rfind(","), text.rfind("."))
    if last >= 0 and 0 < len(text) - last - 1 <= exponent and text.count(text[last]) == 1:
        whole, fraction = text[:last], text[last + 1:]
    else:
        whole, fraction = text, ""
    whole = whole.replace(",", "").replace(".", "")
    try:
        amount = Decimal(f"{whole or 0}.{fraction or 0}")
    except InvalidOperation:
        raise ValueError(value) from None
    return -amount if negative else amount


# ---- import ---------------------------------------------------------------------------------

@dataclass
class ParsedLine:
    row_number: int
    booked_on: date
    amount_minor: int
    reference: str | None
    member_text: str | None
    description: str | None
    dedup_key: str


def parse_lines(table: Table, source: StatementSource, currency: str
                ) -> tuple[list[ParsedLine], int, list[str]]:
    """(credit lines, lines skipped (debits, zero, blank), problems)."""
    header_index, headers = header_of(table)
    position = {h: i for i, h in enumerate(headers) if h}

    def cell(row: list, column: str | None) -> Any:
        if not column or position[column] >= len(row):
            return ""
        return row[position[column]]

    lines: list[ParsedLine] = []
    problems: list[str] = []
    skipped = 0
    seen: dict[str, int] = {}
    for index in range(header_index + 1, len(table.rows)):
        row = table.rows[index]
        if not any(cell_text(v) for v in row):
            continue
        number = index + 1
        try:
            booked = parse_statement_date(cell(row, source.date_column), source.date_order)
        except (ValueError, TypeError):
            problems.append(_("Row %(n)d: “%(text)s” is not a date.", n=number,
                              text=cell_text(cell(row, source.date_column))[:40]))
            continue
        try:
            amount = parse_statement_amount(cell(row, source.amount_column), currency)
            minor = to_minor(amount, currency)
        except (ValueError, DomainError):
            problems.append(_("Row %(n)d: “%(text)s” is not an amount.", n=number,
                              text=cell_text(cell(row, source.amount_column))[:40]))
            continue
        if minor <= 0:
            skipped += 1
            continue
        reference = cell_text(cell(row, source.reference_column))[:80] or None
        member_text = cell_text(cell(row, source.member_column))[:120] or None
        description = cell_text(cell(row, source.description_column))[:300] or None
        if reference:
            key = "ref:" + reference
        else:
            content = f"{booked.isoformat()}|{minor}|{member_text or ''}|{description or ''}"
            seen[content] = seen.get(content, 0) + 1
            key = "hash:" + hashlib.sha256(f"{content}|{seen[content]}".encode()).hexdigest()
        lines.append(ParsedLine(number, booked, minor, reference, member_text, description,
                                key))
    return lines, skipped, problems


def import_statement(cooperative: Cooperative, source: StatementSource, data: bytes,
                     filename: str, actor_id: int | None) -> Statement:
    """Import a statement with the source's mapping; add only lines not seen before; match
    the new lines to receipts. A file with unreadable rows is refused whole."""
    if not source.mapped:
        raise DomainError(_("Map the file's columns first."), field="file")
    table = read_statement_file(data, filename)
    lines, skipped, problems = parse_lines(table, source, cooperative.currency)
    if problems:
        shown = " ".join(problems[:10])
        more = len(problems) - 10
        raise DomainError(shown + (" " + _("… and %(n)d more.", n=more) if more > 0 else ""),
                          field="file")
    known = set()
    keys = [line.dedup_key for line in lines]
    for start in range(0, len(keys), 900):
        known.update(db.session.scalars(select(StatementLine.dedup_key).where(
            StatementLine.cooperative_id == cooperative.id,
            StatementLine.source_id == source.id,
            StatementLine.dedup_key.in_(keys[start:start + 900]))))
    new = [line for line in lines if line.dedup_key not in known]
    statement = Statement(cooperative_id=cooperative.id, source_id=source.id,
                          filename=(filename or "statement")[-200:],
                          sha256=hashlib.sha256(data).hexdigest(), lines_added=len(new),
                          lines_known=len(lines) - len(new), lines_skipped=skipped,
                          imported_by_id=actor_id)
    db.session.add(statement)
    db.session.flush()
    added = []
    for line in new:
        row = StatementLine(cooperative_id=cooperative.id, source_id=source.id,
                            statement_id=statement.id, row_number=line.row_number,
                            booked_on=line.booked_on, amount_minor=line.amount_minor,
                            reference=line.reference, member_text=line.member_text,
                            description=line.description, dedup_key=line.dedup_key)
        db.session.add(row)
        added.append(row)
    db.session.flush()
    for row in added:
        auto_match(row, actor_id)
    return statement


# ---- matching -------------------------------------------------------------------------------

def _matchable_receipts(cooperative_id: int):
    matched = select(StatementMatch.id).where(StatementMatch.receipt_id == Receipt.id).exists()
    reversed_ = select(ReceiptReversal.id).where(ReceiptReversal.receipt_id == Receipt.id
                                                 ).exists()
    return select(Receipt).where(Receipt.cooperative_id == cooperative_id, ~matched,
                                 ~reversed_)


def member_named_on(line: StatementLine) -> Member | None:
    """The one member a line's payer text names (member number, national ID or phone)."""
    text = (line.member_text or "").strip()
    if not text:
        return None
    conditions = [Member.member_number == text, Member.id_number == text.upper()]
    digits = digits_only(text)
    if len(digits) >= 7:
        conditions.append(Member.phone.like("%" + digits[-8:]))
    found = db.session.scalars(select(Member).where(
        Member.cooperative_id == line.cooperative_id, or_(*conditions)).limit(2)).all()
    return found[0] if len(found) == 1 else None


def candidates(line: StatementLine, limit: int = 20) -> list[Receipt]:
    """Receipts the line could be: same amount, not matched nor reversed, received within a
    week of the booking date (the member named on the line first)."""
    stmt = _matchable_receipts(line.cooperative_id).where(
        Receipt.amount_minor == line.amount_minor,
        Receipt.received_on >= line.booked_on - timedelta(days=7),
        Receipt.received_on <= line.booked_on + timedelta(days=7))
    receipts = list(db.session.scalars(stmt.order_by(Receipt.received_on, Receipt.number)
                                       .limit(limit)))
    member = member_named_on(line)
    if member is not None:
        receipts.sort(key=lambda r: r.member_id != member.id)
    return receipts


def auto_match(line: StatementLine, actor_id: int | None) -> StatementMatch | None:
    base = _matchable_receipts(line.cooperative_id).where(
        Receipt.amount_minor == line.amount_minor)
    if line.reference:
        found = db.session.scalars(base.where(Receipt.external_reference == line.reference)
                                   .limit(2)).all()
        if len(found) == 1:
            return _match(line, found[0], "reference", actor_id)
    member = member_named_on(line)
    if member is not None:
        found = db.session.scalars(base.where(
            Receipt.member_id == member.id,
            Receipt.received_on >= line.booked_on - timedelta(days=DATE_WINDOW_DAYS),
            Receipt.received_on <= line.booked_on + timedelta(days=DATE_WINDOW_DAYS))
            .limit(2)).all()
        if len(found) == 1:
            return _match(line, found[0], "amount_date_member", actor_id)
    return None


def _match(line: StatementLine, receipt: Receipt, how: str,
           actor_id: int | None) -> StatementMatch:
    match = StatementMatch(cooperative_id=line.cooperative_id, line_id=line.id,
                           receipt_id=receipt.id, how=how, matched_by_id=actor_id)
    db.session.add(match)
    db.session.flush()
    db.session.expire(line, ["match"])
    return match


def link_line(line: StatementLine, receipt_number: Any, actor_id: int | None
              ) -> StatementMatch:
    """The treasurer links a waiting line to a receipt (same amount, not reversed, not
    matched to another line)."""
    if line.match is not None:
        raise DomainError(_("This line is already matched."), field="receipt_number")
    try:
        number = int(str(receipt_number).strip().lstrip("#"))
    except (TypeError, ValueError):
        raise DomainError(_("Give a receipt number."), field="receipt_number") from None
    receipt = db.session.scalar(select(Receipt).where(
        Receipt.cooperative_id == line.cooperative_id, Receipt.number == number))
    if receipt is None:
        raise DomainError(_("There is no receipt %(n)d.", n=number), field="receipt_number")
    if receipt.reversal is not None:
        raise DomainError(_("Receipt %(n)d is reversed.", n=number), field="receipt_number")
    if receipt.amount_minor != line.amount_minor:
        raise DomainError(_("Receipt %(n)d is for a different amount.", n=number),
                          field="receipt_number")
    if db.session.scalar(select(StatementMatch.id).where(
            StatementMatch.cooperative_id == line.cooperative_id,
            StatementMatch.receipt_id == receipt.id)) is not None:
        raise DomainError(_("Receipt %(n)d is already matched to another line.", n=number),
                          field="receipt_number")
    return _match(line, receipt, "linked", actor_id)


def record_receipt_from_line(cooperative: Cooperative, line: StatementLine,
                             member_id: Any, idempotency_key: str, actor_id: int | None,
                             collector: str | None = None) -> tuple[Receipt, StatementMatch]:
    """Record the receipt a waiting line stands for (amount, date, reference and method from
    the line; the member chosen by the treasurer) and match them. The form sent twice
    (same key) answers with the first receipt; the key of another receipt is refused
    (`KeyReused`, from `record_receipt`), never matched to this line."""
    if line.match is not None:
        if line.match.receipt.idempotency_key == (idempotency_key or "").strip():
            return line.match.receipt, line.match
        raise DomainError(_("This line is already matched."), field="member_id")
    from coopreg.core.money import from_minor

    receipt, _created = record_receipt(cooperative, ReceiptInput(
        member_id=ascii_int(str(member_id or "")),
        received_on=line.booked_on, amount=from_minor(line.amount_minor, cooperative.currency),
        method=line.source.method, external_reference=line.reference or f"STMT-{line.id}",
        collector=collector or line.source.name, idempotency_key=idempotency_key,
        note=_("From statement line %(n)d", n=line.id)), actor_id)
    existing = db.session.scalar(select(StatementMatch).where(
        StatementMatch.cooperative_id == line.cooperative_id, StatementMatch.line_id == line.id))
    if existing is not None:
        return receipt, existing
    return receipt, _match(line, receipt, "recorded", actor_id)


def unmatched_lines(cooperative_id: int, limit: int = 200, order=None) -> list[StatementLine]:
    """The lines no receipt claims yet, oldest first or in `order` (ORDER BY clauses)."""
    matched = select(StatementMatch.id).where(StatementMatch.line_id == StatementLine.id
                                              ).exists()
    return list(db.session.scalars(select(StatementLine).where(
        StatementLine.cooperative_id == cooperative_id, ~matched)
        .order_by(*(order or (StatementLine.booked_on, StatementLine.id))).limit(limit)))


def unmatched_count(cooperative_id: int) -> int:
    matched = select(StatementMatch.id).where(StatementMatch.line_id == StatementLine.id
                                              ).exists()
    return db.session.scalar(select(func.count()).select_from(StatementLine).where(
        StatementLine.cooperative_id == cooperative_id, ~matched)) or 0
