"""Dependants in enrolment files and in the institution's answers.

A layout says how a file carries the dependants enrolled with a member
(`FileLayout.dependants_mode`): not at all, a line per dependant after the member's line
(`dependant.*` columns; the member's columns repeat the carrier), or columns on the member's
line (`dependants.N.*`). Sealing the batch sends them with their member
(`agreements.families.send_dependants`); the answer registers or rejects them with their
member unless a row of the answer file gives the dependant's own ID (`answer_dependants`)."""

from __future__ import annotations

from datetime import date

from flask_babel import gettext as _
from sqlalchemy import select

from coopreg.agreements import families
from coopreg.agreements.models import DependantStatus
from coopreg.batches import layouts as L
from coopreg.batches.models import (
    AckMapping,
    Acknowledgement,
    Batch,
    BatchKind,
    BatchLine,
)
from coopreg.core.text import fold
from coopreg.extensions import db

MODES = tuple(L.DEPENDANTS_MODES)


def mode_of(layout: dict) -> str:
    """How a layout snapshot carries dependants (older snapshots: not at all)."""
    return layout.get("dependants_mode") or "none"


def layout_problems(data: dict) -> list[str]:
    """A layout's dependants' columns agree with its mode."""
    mode = mode_of(data)
    sources = [c["source"] for c in data["columns"]]
    per_line = any(s.startswith("dependant.") for s in sources)
    in_columns = any(s.startswith("dependants.") for s in sources)
    problems = []
    if mode != "none" and data.get("kind") not in (None, BatchKind.ENROLMENT,
                                                   BatchKind.ENROLMENT.value):
        problems.append(_("Only enrolment files carry dependants."))
    if mode == "lines" and not per_line:
        problems.append(_("A line per dependant needs at least one “Dependant's …” column."))
    if mode == "columns" and not in_columns:
        problems.append(_("Dependants on the member's line need at least one “… (dependant "
                          "1)” column."))
    if mode != "lines" and per_line:
        problems.append(_("“Dependant's …” columns are for a line per dependant: choose that "
                          "in “Dependants in the file”."))
    if mode != "columns" and in_columns:
        problems.append(_("“(dependant N)” columns are for dependants on the member's line: "
                          "choose that in “Dependants in the file”."))
    return problems


def carried(batch_kind, layout: dict, cooperative_id: int, registration_ids: list[int]
            ) -> dict[int, list]:
    """The dependants each registration's line carries (none unless the layout carries them
    in an enrolment file): (dependant registration, dependant) pairs."""
    if batch_kind != BatchKind.ENROLMENT or mode_of(layout) == "none" or not registration_ids:
        return {}
    return families.dependants_to_send(cooperative_id, registration_ids)


def send(batch: Batch, registration_ids: list[int]) -> int:
    """The batch is sealed: the dependants it carried go with their members (set-based)."""
    mode = mode_of(batch.layout_snapshot)
    if batch.kind != BatchKind.ENROLMENT or mode == "none":
        return 0
    only = None
    if mode == "lines":  # a dependant whose own line was left out stays enrolled
        only = list(db.session.scalars(select(BatchLine.dependant_id).where(
            BatchLine.cooperative_id == batch.cooperative_id, BatchLine.batch_id == batch.id,
            BatchLine.included.is_(True), BatchLine.dependant_id.is_not(None))))
    return families.send_dependants(batch.cooperative_id, batch.id, registration_ids, only)


def member_lines_only(stmt):
    """A statement over a batch's lines kept to the members' own lines (a dependant's line
    is answered with its member or by its own ID, never as a member)."""
    return stmt.where(BatchLine.dependant_id.is_(None))


def _id_cell(ack: Acknowledgement, mapping: AckMapping):
    """The position of the answer file's ID column, or None."""
    header = mapping.columns.get("id_number")
    if not header:
        return None
    for index, name in enumerate(ack.headers):
        if fold(name) == fold(header):
            return index
    return None


def answer_dependants(ack: Acknowledgement, mapping: AckMapping,
                      accepted: dict[int, date], rejected: list[int]) -> int:
    """Apply an answer file to the dependants its batch sent: a row that matches no member
    but gives the ID of a dependant sent in the batch answers for that dependant (accepted:
    registered from the row's date, or the member's; rejected: with the row's reason); the
    others follow their member (`accepted`: registration id → coverage start, `rejected`:
    registration ids). Rows used this way are applied and no longer listed as unmatched.
    Returns how many dependants moved."""
    batch = ack.batch
    moved = 0
    position = _id_cell(ack, mapping)
    waiting = (families.submitted_by_id(batch.cooperative_id, batch.id)
               if position is not None else {})
    for row in ack.lines:
        if row.batch_line_id is not None or not row.result or not waiting:
            continue
        text = row.raw[position] if position < len(row.raw) else ""
        enrolled = waiting.pop(families.id_key(str(text or "")), None)
        if enrolled is None:
            continue
        if row.result == "accepted":
            families.transition_dependant(
                enrolled, DependantStatus.REGISTERED,
                institution_number=row.institution_number,
                coverage_start=row.effective_date or accepted.get(enrolled.registration_id))
        else:
            families.transition_dependant(
                enrolled, DependantStatus.REJECTED,
                rejection_reason=row.reason or _("Rejected by the institution (no reason "
                                                 "given)"))
        row.problems = None
        row.problem_kind = None
        row.applied = True
        moved += 1
    moved += families.follow_members(batch.cooperative_id, batch.id, accepted, rejected)
    db.session.flush()
    return moved
