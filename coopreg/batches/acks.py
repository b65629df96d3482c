"""The institution's answers to a sealed batch: read the file (with the safe spreadsheet
reader), map its columns once per agreement, match each row to a line of the batch — by
national ID, member number or institution number, never by guessing — preview, and apply all
or nothing. A batch can be answered in several parts; it is acknowledged once every line it
sent has an answer."""

from __future__ import annotations

import hashlib
import re
from datetime import date, datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import insert, select

from coopreg.agreements import services as agreement_services
from coopreg.agreements.models import Agreement, Registration, RegistrationStatus
from coopreg.batches import dependants
from coopreg.batches.models import (
    ACK_LIFECYCLE,
    BATCH_LIFECYCLE,
    AckMapping,
    Acknowledgement,
    AcknowledgementLine,
    AckStatus,
    Batch,
    BatchKind,
    BatchLine,
    BatchStatus,
)
from coopreg.batches.services import lock_batch
from coopreg.core.errors import DomainError
from coopreg.core.labels import label
from coopreg.core.models import utcnow
from coopreg.core.sentences import kept, sentence
from coopreg.core.spreadsheets import ReadLimits, cell_text, read_table
from coopreg.core.text import fold
from coopreg.extensions import db
from coopreg.members.models import Member

S = RegistrationStatus
B = BatchStatus
ROLES = {
    "id_number": _l("National ID"),
    "member_number": _l("Member number (the cooperative's)"),
    "institution_number": _l("Institution's member number"),
    "result": _l("Result (accepted or rejected)"),
    "reason": _l("Reason for a rejection"),
    "effective_date": _l("Effective date (coverage start)"),
}
KEYS = ("id_number", "member_number", "institution_number")
ANSWERABLE = (B.SEALED, B.SENT, B.PARTIALLY_ACKNOWLEDGED)
DEFAULT_ACCEPTED = "A, OK, accepted, aceptado, accepte, aceito, registered, 1"
DEFAULT_REJECTED = "R, ERROR, rejected, rechazado, rejete, rejeitado, 0"


ACCEPTED_IN_ANSWER = sentence("registrations.accepted_in_answer", lambda p: _(
    "Accepted in the answer to %(ref)s", **p))


def _words(text: str) -> set[str]:
    return {fold(w) for w in re.split(r"[,;/\n]+", text or "") if w.strip()}


def _id_key(text: str | None) -> str:
    return re.sub(r"[^0-9A-Za-z]", "", text or "").upper().lstrip("0")


def _plain(value) -> str:
    if isinstance(value, datetime | date):
        return cell_text(value)
    return cell_text(value)


def upload_acknowledgement(batch: Batch, data: bytes, filename: str, actor_id: int | None,
                           limits: ReadLimits | None = None) -> Acknowledgement:
    """Read an answer file for a sealed batch (xlsx, ods, xls or CSV; checked before it is
    parsed) and keep its rows; the first non-empty row holds the headers."""
    if batch.status not in ANSWERABLE:
        if batch.status == B.ACKNOWLEDGED:
            raise DomainError(_("Every line of %(ref)s already has an answer.",
                                ref=batch.reference), field="file")
        raise DomainError(_("Only a sealed batch can be answered (%(ref)s is %(status)s).",
                            ref=batch.reference, status=label(batch.status)), field="file")
    table = read_table(data, filename=filename, limits=limits)
    rows = [[_plain(c) for c in row] for row in table.rows]
    rows = [(index + 1, row) for index, row in enumerate(rows) if any(row)]
    if len(rows) < 2:
        raise DomainError(_("The file has no lines under its header row."), field="file")
    (_header_no, headers), body = rows[0], rows[1:]
    digest = hashlib.sha256(data).hexdigest()
    applied = db.session.scalar(select(Acknowledgement).where(
        Acknowledgement.cooperative_id == batch.cooperative_id,
        Acknowledgement.batch_id == batch.id, Acknowledgement.sha256 == digest,
        Acknowledgement.status == AckStatus.APPLIED))
    if applied is not None:
        raise DomainError(_("This file was already applied to %(ref)s on %(date)s.",
                            ref=batch.reference, date=applied.applied_at.date().isoformat()),
                          field="file")
    name = re.sub(r"[^\w.\- ]", "_", filename or "answer")[-200:]
    ack = Acknowledgement(cooperative_id=batch.cooperative_id, batch_id=batch.id,
                          file_name=name, sha256=digest, status=AckStatus.UPLOADED,
                          headers=[h.strip() for h in headers], row_count=len(body),
                          uploaded_by_id=actor_id)
    db.session.add(ack)
    db.session.flush()
    db.session.execute(insert(AcknowledgementLine.__table__), [
        {"cooperative_id": batch.cooperative_id, "acknowledgement_id": ack.id,
         "row_no": row_no, "raw": row, "applied": False} for row_no, row in body])
    db.session.expire(ack, ["lines"])
    mapping = mapping_for(batch.agreement)
    if mapping is not None and not missing_headers(ack, mapping):
        interpret(ack)
    return ack


def mapping_for(agreement: Agreement) -> AckMapping | None:
    return db.session.scalar(select(AckMapping).where(
        AckMapping.cooperative_id == agreement.cooperative_id,
        AckMapping.agreement_id == agreement.id))


def missing_headers(ack: Acknowledgement, mapping: AckMapping) -> list[str]:
    present = {fold(h) for h in ack.headers}
    return [h for h in mapping.columns.values() if h and fold(h) not in present]


def save_mapping(agreement: Agreement, columns: dict[str, str | None], accepted: str,
                 rejected: str, date_pattern: str) -> AckMapping:
    """Which header holds what, for this agreement's answer files (kept for the next
    files). One of ID, member number or institution number, and the result, are needed."""
    columns = {role: (columns.get(role) or "").strip() or None for role in ROLES}
    if not any(columns[k] for k in KEYS):
        raise DomainError(_("Choose the column that identifies the member (national ID, "
                            "member number or institution number)."), field="id_number")
    if not columns["result"]:
        raise DomainError(_("Choose the column holding the result."), field="result")
    chosen = [h for h in columns.values() if h]
    if len({fold(h) for h in chosen}) != len(chosen):
        raise DomainError(_("A column can play only one part."), field="result")
    accepted_words, rejected_words = _words(accepted), _words(rejected)
    if not accepted_words or not rejected_words:
        raise DomainError(_("Give the values that mean accepted and rejected."),
                          field="accepted_values")
    if accepted_words & rejected_words:
        raise DomainError(_("A value cannot mean both accepted and rejected."),
                          field="rejected_values")
    date_pattern = (date_pattern or "%d/%m/%Y").strip()
    try:
        date(2000, 12, 31).strftime(date_pattern)
    except ValueError:
        raise DomainError(_("The date pattern is not valid."), field="date_pattern") from None
    mapping = mapping_for(agreement)
    if mapping is None:
        mapping = AckMapping(cooperative_id=agreement.cooperative_id, agreement_id=agreement.id)
        db.session.add(mapping)
    mapping.columns = columns
    mapping.accepted_values = accepted.strip()[:200]
    mapping.rejected_values = rejected.strip()[:200]
    mapping.date_pattern = date_pattern[:20]
    db.session.flush()
    return mapping


def _parse_date(text: str, pattern: str) -> date | None:
    text = (text or "").strip()
    if not text:
        return None
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}( .*)?", text):
        return date.fromisoformat(text[:10])
    try:
        return datetime.strptime(text, pattern).date()
    except ValueError:
        return None


def interpret(ack: Acknowledgement) -> Acknowledgement:
    """Read every row with the agreement's mapping: its result, numbers and date, the batch
    line it answers (or none: listed, never guessed), and what stops it from being applied
    ("blocking": wrong or missing data) or keeps it aside ("skipped": no match, already
    answered)."""
    batch = ack.batch
    agreement = batch.agreement
    mapping = mapping_for(agreement)
    if mapping is None:
        raise DomainError(_("Map the file's columns first."))
    missing = missing_headers(ack, mapping)
    if missing:
        raise DomainError(_("The file has no column %(names)s. Check the mapping.",
                            names=", ".join(f"“{m}”" for m in missing)))
    index = {fold(h): i for i, h in reversed(list(enumerate(ack.headers)))}
    position = {role: index[fold(h)] for role, h in mapping.columns.items() if h}
    accepted, rejected = _words(mapping.accepted_values), _words(mapping.rejected_values)

    lines = db.session.execute(dependants.member_lines_only(
        select(BatchLine, Member, Registration)
        .join(Member, Member.id == BatchLine.member_id)
        .outerjoin(Registration, Registration.id == BatchLine.registration_id)
        .where(BatchLine.cooperative_id == batch.cooperative_id,
               BatchLine.batch_id == batch.id, BatchLine.included.is_(True)))).all()
    by_key: dict[str, dict[str, tuple]] = {k: {} for k in KEYS}
    for line, member, registration in lines:
        item = (line, member, registration)
        if member.id_number:
            by_key["id_number"][_id_key(member.id_number)] = item
        by_key["member_number"][(member.member_number or "").strip().upper()] = item
        if registration is not None and registration.institution_member_number:
            by_key["institution_number"][
                registration.institution_member_number.strip().upper()] = item
    answered = {row.batch_line_id: row for row in db.session.scalars(
        select(AcknowledgementLine).join(Acknowledgement).where(
            Acknowledgement.cooperative_id == batch.cooperative_id,
            Acknowledgement.batch_id == batch.id, AcknowledgementLine.applied.is_(True)))}
    numbers_in_file: dict[str, int] = {}
    lines_in_file: dict[int, int] = {}
    counts = {"accepted": 0, "rejected": 0, "unmatched": 0, "problems": 0}

    for row in ack.lines:
        def cell(role: str, raw=row.raw) -> str:
            i = position.get(role)
            return (raw[i] if i is not None and i < len(raw) else "").strip()

        row.batch_line_id = None
        row.problem = None
        row.problem_kind = None
        value = fold(cell("result"))
        row.result = ("accepted" if value in accepted else "rejected" if value in rejected
                      else None)
        row.institution_number = cell("institution_number")[:40] or None
        row.reason = cell("reason")[:300] or None
        effective_text = cell("effective_date")
        row.effective_date = _parse_date(effective_text, mapping.date_pattern)
        match = None
        shown = ""
        for key in KEYS:
            text = cell(key)
            if not text:
                continue
            shown = shown or text
            lookup = _id_key(text) if key == "id_number" else text.upper()
            match = by_key[key].get(lookup)
            if match is not None:
                break
        problems: list[str] = []
        kind = None
        if match is None:
            kind = "skipped"
            problems.append(_("No line of batch %(ref)s matches “%(key)s”.", ref=batch.reference,
                              key=shown) if shown else _("The row does not say which member "
                                                         "it is about."))
            counts["unmatched"] += 1
        else:
            line, member, registration = match
            row.batch_line_id = line.id
            earlier = answered.get(line.id)
            if earlier is not None:
                kind = "skipped"
                problems.append(_("%(name)s was already answered (%(result)s).",
                                  name=member.full_name, result=earlier.result))
            elif line.id in lines_in_file:
                kind = "blocking"
                problems.append(_("Row %(row)d already answers for %(name)s.",
                                  row=lines_in_file[line.id], name=member.full_name))
            else:
                lines_in_file[line.id] = row.row_no
            if row.result is None:
                kind = "blocking"
                problems.append(_("The result “%(value)s” is neither an accepted value nor a "
                                  "rejected value of the mapping.", value=cell("result")))
            elif (kind is None and batch.kind == BatchKind.ENROLMENT
                  and registration is not None):
                if registration.status != S.SUBMITTED:
                    kind = "skipped"
                    problems.append(_("%(name)s's registration is now %(status)s: it is not "
                                      "waiting for an answer.", name=member.full_name,
                                      status=label(registration.status)))
                elif row.result == "accepted":
                    problems += _accepted_problems(row, agreement, registration,
                                                   numbers_in_file, effective_text)
                    if problems:
                        kind = "blocking"
        if problems:
            row.problem = "\n".join(problems)
            row.problem_kind = kind
            if kind == "blocking":
                counts["problems"] += 1
        elif row.result:
            counts[row.result] += 1
    ack.accepted_count = counts["accepted"]
    ack.rejected_count = counts["rejected"]
    ack.unmatched_count = counts["unmatched"]
    ack.problem_count = counts["problems"]
    ack.interpreted = True
    db.session.flush()
    return ack


def _accepted_problems(row: AcknowledgementLine, agreement: Agreement,
                       registration: Registration, numbers_in_file: dict[str, int],
                       effective_text: str) -> list[str]:
    problems = []
    number = row.institution_number
    if not number:
        problems.append(_("An accepted line needs the institution's member number."))
    else:
        pattern = agreement.member_number_pattern
        if pattern and not re.fullmatch(pattern, number):
            problems.append(_("“%(number)s” is not in the form of the institution's member "
                              "numbers (%(pattern)s).", number=number, pattern=pattern))
        if number in numbers_in_file:
            problems.append(_("Number %(number)s is also given on row %(row)d.",
                              number=number, row=numbers_in_file[number]))
        numbers_in_file.setdefault(number, row.row_no)
        taken = db.session.scalar(select(Registration.id).where(
            Registration.cooperative_id == agreement.cooperative_id,
            Registration.agreement_id == agreement.id,
            Registration.institution_member_number == number,
            Registration.id != registration.id))
        if taken is not None:
            problems.append(_("Number %(number)s already belongs to another member of this "
                              "agreement.", number=number))
    if row.effective_date is None:
        problems.append(_("An accepted line needs the date coverage starts (“%(value)s” is "
                          "not a date).", value=effective_text) if effective_text else
                        _("An accepted line needs the date coverage starts."))
    return problems


def apply_acknowledgement(ack: Acknowledgement, actor_id: int | None) -> Acknowledgement:
    """Apply every answer of the file, or nothing: enrolment registrations become
    `registered` (with the institution's number and the coverage start) or `rejected` (with
    the reason); the answers of other kinds are recorded. Rows that match nothing or were
    answered before are left aside (they are listed); any blocking problem refuses the whole
    file. The batch becomes acknowledged when every line it sent has an answer."""
    batch = lock_batch(ack.batch)
    ack = db.session.execute(select(Acknowledgement).where(
        Acknowledgement.cooperative_id == batch.cooperative_id, Acknowledgement.id == ack.id)
                             .with_for_update()
                             .execution_options(populate_existing=True)).scalar_one()
    if ack.status != AckStatus.UPLOADED:
        raise DomainError(_("This file was already %(status)s.", status=label(ack.status)))
    if batch.status not in ANSWERABLE:
        raise DomainError(_("Batch %(ref)s is %(status)s: it takes no more answers.",
                            ref=batch.reference, status=label(batch.status)))
    interpret(ack)  # again: the registrations may have changed since the preview
    if ack.problem_count:
        raise DomainError(_("%(n)d row(s) have problems: nothing was applied. Correct the "
                            "file and upload it again.", n=ack.problem_count))
    to_apply = [row for row in ack.lines if row.batch_line_id is not None and not row.problem
                and row.result]
    if not to_apply:
        raise DomainError(_("No row of the file answers a line of %(ref)s that is waiting "
                            "for an answer: nothing to apply.", ref=batch.reference))
    if batch.kind == BatchKind.ENROLMENT:
        line_ids = [row.batch_line_id for row in to_apply]
        registrations = {line_id: registration for line_id, registration in db.session.execute(
            select(BatchLine.id, Registration)
            .join(Registration, Registration.id == BatchLine.registration_id)
            .where(BatchLine.cooperative_id == batch.cooperative_id,
                   BatchLine.id.in_(line_ids)))}
        accepted: dict[int, date] = {}
        rejected: list[int] = []
        for row in to_apply:
            registration = registrations[row.batch_line_id]
            if row.result == "accepted":
                accepted[registration.id] = row.effective_date
            else:
                rejected.append(registration.id)
            if row.result == "accepted":
                agreement_services.transition_registration(
                    registration, S.REGISTERED, actor_id,
                    institution_number=row.institution_number,
                    coverage_start=row.effective_date,
                    reason=kept(ACCEPTED_IN_ANSWER, ref=batch.reference))
            else:
                agreement_services.transition_registration(
                    registration, S.REJECTED, actor_id,
                    rejection_reason=row.reason or _("Rejected by the institution (no reason "
                                                     "given)"))
        dependants.answer_dependants(ack, mapping_for(batch.agreement), accepted, rejected)
    for row in to_apply:
        row.applied = True
    ACK_LIFECYCLE.move(ack, AckStatus.APPLIED)
    ack.applied_at = utcnow()
    ack.applied_by_id = actor_id
    db.session.flush()
    included = db.session.scalar(dependants.member_lines_only(
        select(db.func.count()).select_from(BatchLine).where(
            BatchLine.cooperative_id == batch.cooperative_id,
            BatchLine.batch_id == batch.id, BatchLine.included.is_(True))))
    answered = db.session.scalar(
        select(db.func.count(db.distinct(AcknowledgementLine.batch_line_id)))
        .join(Acknowledgement)
        .where(Acknowledgement.cooperative_id == batch.cooperative_id,
               Acknowledgement.batch_id == batch.id, AcknowledgementLine.applied.is_(True)))
    answered_status = B.ACKNOWLEDGED if answered >= included else B.PARTIALLY_ACKNOWLEDGED
    if batch.status != answered_status:
        BATCH_LIFECYCLE.move(batch, answered_status)
    db.session.flush()
    return ack


def discard_acknowledgement(ack: Acknowledgement) -> None:
    ACK_LIFECYCLE.move(ack, AckStatus.DISCARDED)
    db.session.flush()
