"""Payments a provider tells the cooperative about (a mobile-money operator, a bank): each one
lands as a statement line of the provider's source, once per transaction id, and is matched
like a line of an imported statement; when nothing matches but the payer names exactly one
member, the receipt is recorded from the line (numbered as every receipt) and matched."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from coopreg.contributions.models import Statement, StatementLine, StatementMatch
from coopreg.contributions.statements import (
    auto_match,
    find_or_create_source,
    member_named_on,
    record_receipt_from_line,
)
from coopreg.cooperatives.models import Cooperative
from coopreg.extensions import db


@dataclass
class Notified:
    line: StatementLine
    created: bool
    match: StatementMatch | None


def _line(cooperative_id: int, source_id: int, key: str) -> StatementLine | None:
    return db.session.scalar(select(StatementLine).where(
        StatementLine.cooperative_id == cooperative_id, StatementLine.source_id == source_id,
        StatementLine.dedup_key == key))


def record_notified_payment(cooperative: Cooperative, provider: str, method: str,
                            transaction_id: str, booked_on: date, amount_minor: int,
                            payer: str | None, description: str | None,
                            body: bytes) -> Notified:
    """The provider's payment as a statement line (idempotent on its transaction id), matched
    to a receipt, or made one when the payer names one member; else it waits in the
    treasurer's queue of unmatched lines."""
    source = find_or_create_source(cooperative, provider, method)
    key = f"tx:{transaction_id}"[:90]
    known = _line(cooperative.id, source.id, key)
    if known is not None:
        return Notified(known, False, known.match)
    try:
        with db.session.begin_nested():
            statement = Statement(cooperative_id=cooperative.id, source_id=source.id,
                                  filename=f"{provider} notification {transaction_id}"[-200:],
                                  sha256=hashlib.sha256(body).hexdigest(), lines_added=1,
                                  lines_known=0, lines_skipped=0, imported_by_id=None)
            db.session.add(statement)
            db.session.flush()
            line = StatementLine(cooperative_id=cooperative.id, source_id=source.id,
                                 statement_id=statement.id, row_number=1, booked_on=booked_on,
                                 amount_minor=amount_minor, reference=transaction_id[:80],
                                 member_text=(payer or None) and payer[:120],
                                 description=(description or None) and description[:300],
                                 dedup_key=key)
            db.session.add(line)
            db.session.flush()
    except IntegrityError:  # the same notification, sent twice at once: the other one won
        known = _line(cooperative.id, source.id, key)
        if known is None:
            raise
        return Notified(known, False, known.match)
    match = auto_match(line, None)
    if match is None:
        member = member_named_on(line)
        if member is not None:
            _receipt, match = record_receipt_from_line(
                cooperative, line, member.id, f"notify:{source.id}:{transaction_id}"[:80],
                None, collector=provider)
    return Notified(line, True, match)
