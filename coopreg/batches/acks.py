"""The institution's answers to a sealed batch: read the file (with the safe spreadsheet
reader), map its columns once per agreement, match each row to a line of the batch — by
national ID, member number or institution number, never by guessing — preview, and apply all
or nothing. A batch can be answered in several parts; it is acknowledged once every line it
sent has an answer."""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, insert, select

from coopreg.agreements import services as agreement_services
from coopreg.agreements.models import Agreement, Registration, RegistrationStatus
from coopreg.batches import dependants
from coopreg.batches.answer_reading import (
    KEYS,
    ROLE_LABELS,
    AnswerResult,
    AnswerRole,
    find_header_row,
    is_complete,
    meaning,
    propose_columns,
    propose_meanings,
    words,
)
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
    ProblemKind,
)
from coopreg.batches.services import lock_batch
from coopreg.cooperatives.models import Cooperative
from coopreg.core.dates import ORDERS, MixedOrders, NotADate, column_order, read_date
from coopreg.core.errors import DomainError
from coopreg.core.labels import display, label
from coopreg.core.models import utcnow
from coopreg.core.sentences import kept, sentence
from coopreg.core.spreadsheets import ReadLimits, cell_text, read_table
from coopreg.core.text import fold
from coopreg.extensions import db
from coopreg.members.models import Member

S = RegistrationStatus
B = BatchStatus
R = AnswerRole
ROLES = ROLE_LABELS
ANSWERABLE = (B.SEALED, B.SENT, B.PARTIALLY_ACKNOWLEDGED)
DEFAULT_ACCEPTED = "accepted, aceptado, accepte, aceito"
DEFAULT_REJECTED = "rejected, rechazado, rejete, rejeitado"


ACCEPTED_IN_ANSWER = sentence("registrations.accepted_in_answer", lambda p: _(
    "Accepted in the answer to %(ref)s", **p))
# What keeps a row from being applied, said in the reader's language when shown.
NO_MATCH = sentence("answers.no_match", lambda p: _(
    "No line of batch %(ref)s matches “%(key)s”.", **p))
NO_KEY = sentence("answers.no_key", lambda p: _(
    "The row does not say which member it is about."))
ANSWERED_BEFORE = sentence("answers.answered_before", lambda p: _(
    "%(name)s was already answered (%(result)s).", name=p["name"],
    result=display(AnswerResult(p["result"])) if p.get("result") in set(AnswerResult)
    else p.get("result")))
TWICE_IN_FILE = sentence("answers.twice_in_file", lambda p: _(
    "Row %(row)d already answers for %(name)s.", **p))
UNKNOWN_RESULT = sentence("answers.unknown_result", lambda p: _(
    "The result “%(value)s” is neither an accepted value nor a rejected value of the "
    "mapping.", **p))
NOT_WAITING = sentence("answers.not_waiting", lambda p: _(
    "%(name)s's registration is now %(status)s: it is not waiting for an answer.",
    name=p["name"], status=label(RegistrationStatus(p["status"]))))
NUMBER_MISSING = sentence("answers.number_missing", lambda p: _(
    "An accepted line needs the institution's member number."))
NUMBER_FORM = sentence("answers.number_form", lambda p: _(
    "“%(number)s” is not in the form of the institution's member numbers (%(pattern)s).",
    **p))
NUMBER_TWICE = sentence("answers.number_twice", lambda p: _(
    "Number %(number)s is also given on row %(row)d.", **p))
NUMBER_TAKEN = sentence("answers.number_taken", lambda p: _(
    "Number %(number)s already belongs to another member of this agreement.", **p))
DATE_NOT_READ = sentence("answers.date_not_read", lambda p: _(
    "An accepted line needs the date coverage starts (“%(value)s” is not a date).", **p))
DATE_MISSING = sentence("answers.date_missing", lambda p: _(
    "An accepted line needs the date coverage starts."))
DATES_MIXED = sentence("answers.dates_mixed", lambda p: _(
    "The file writes some dates day first and others month first: say which in the "
    "mapping.", **p))


def _plain(value) -> str:
    return cell_text(value).strip()


def upload_acknowledgement(batch: Batch, data: bytes, filename: str, actor_id: int | None,
                           limits: ReadLimits | None = None) -> Acknowledgement:
    """Read an answer file for a sealed batch (xlsx, ods, xls or CSV; checked before it is
    parsed) and keep its rows under the header row, found below any title rows. The file is
    read at once when the columns are known (this agreement's last mapping, or what the
    headers and result words plainly say); else it waits for the secretary's mapping."""
    if batch.status not in ANSWERABLE:
        if batch.status == B.ACKNOWLEDGED:
            raise DomainError(_("Every line of %(ref)s already has an answer.",
                                ref=batch.reference), field="file")
        raise DomainError(_("Only a sealed batch can be answered (%(ref)s is %(status)s).",
                            ref=batch.reference, status=label(batch.status)), field="file")
    table = read_table(data, filename=filename, limits=limits)
    rows = [(index + 1, [_plain(c) for c in row]) for index, row in enumerate(table.rows)]
    rows = [(row_no, row) for row_no, row in rows if any(row)]
    at = find_header_row([row for _no, row in rows])
    (header_no, headers), body = rows[at] if rows else (1, []), rows[at + 1:]
    if not body:
        raise DomainError(_("The file has no lines under its header row."), field="file")
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
                          headers=[h.strip() for h in headers], header_row=header_no,
                          row_count=len(body), uploaded_by_id=actor_id)
    db.session.add(ack)
    db.session.flush()
    db.session.execute(insert(AcknowledgementLine.__table__), [
        {"cooperative_id": batch.cooperative_id, "acknowledgement_id": ack.id,
         "row_no": row_no, "raw": row, "applied": False} for row_no, row in body])
    db.session.expire(ack, ["lines"])
    proposal = propose(ack)
    if proposal.ready:
        if proposal.changes_mapping:
            save_mapping(batch.agreement, proposal.columns, proposal.accepted_text,
                         proposal.rejected_text, proposal.date_order)
        interpret(ack)
    return ack


def mapping_for(agreement: Agreement) -> AckMapping | None:
    return db.session.scalar(select(AckMapping).where(
        AckMapping.cooperative_id == agreement.cooperative_id,
        AckMapping.agreement_id == agreement.id))


def missing_headers(ack: Acknowledgement, mapping: AckMapping) -> list[str]:
    present = {fold(h) for h in ack.headers}
    return [h for h in mapping.columns.values() if h and fold(h) not in present]


@dataclass
class Proposal:
    """How a file would be read: the columns, the meaning of each result word found in it
    (None: unknown), and the date order (None: read from the file)."""

    columns: dict[AnswerRole, str | None]
    meanings: dict[str, AnswerResult | None]
    accepted: list[str]
    rejected: list[str]
    date_order: str | None
    changes_mapping: bool

    @property
    def unknown_words(self) -> list[str]:
        return [word for word, said in self.meanings.items() if said is None]

    needs: tuple[AnswerRole, ...] = ()  # what this batch's kind needs besides key and result

    @property
    def ready(self) -> bool:
        return (is_complete(self.columns) and not self.unknown_words
                and all(self.columns.get(role) for role in self.needs))

    @property
    def accepted_text(self) -> str:
        return ", ".join(self.accepted)

    @property
    def rejected_text(self) -> str:
        return ", ".join(self.rejected)


def propose(ack: Acknowledgement) -> Proposal:
    """This agreement's mapping where the file has its headers, else what the headers say;
    each result word of the file with the meaning the mapping or common usage gives it."""
    mapping = mapping_for(ack.batch.agreement)
    remembered = dict(mapping.columns) if mapping is not None else {}
    columns = propose_columns(ack.headers, remembered)
    # a first mapping starts from the plain word in each language, then the file's own words
    accepted = words(mapping.accepted_values if mapping is not None else DEFAULT_ACCEPTED)
    rejected = words(mapping.rejected_values if mapping is not None else DEFAULT_REJECTED)
    result_at = _positions(ack.headers, columns).get(R.RESULT)
    found = [row.raw[result_at] for row in ack.lines
             if result_at is not None and result_at < len(row.raw)]
    meanings = propose_meanings(found, accepted, rejected)
    for word, said in meanings.items():
        if said == AnswerResult.ACCEPTED and word not in accepted:
            accepted.append(word)
        elif said == AnswerResult.REJECTED and word not in rejected:
            rejected.append(word)
    wanted = {role.value: header for role, header in columns.items()}
    changes = (mapping is None or wanted != {r.value: mapping.columns.get(r.value)
                                             for r in AnswerRole}
               or accepted != words(mapping.accepted_values)
               or rejected != words(mapping.rejected_values))
    # an accepted enrolment needs the institution's number and the date coverage starts
    needs = ((R.INSTITUTION_NUMBER, R.EFFECTIVE_DATE)
             if ack.batch.kind == BatchKind.ENROLMENT else ())
    return Proposal(columns, meanings, accepted, rejected,
                    mapping.date_order if mapping is not None else None, changes, needs)


def save_mapping(agreement: Agreement, columns: dict[str, str | None], accepted: str,
                 rejected: str, date_order: str | None = None) -> AckMapping:
    """Which header holds what, for this agreement's answer files (kept for the next
    files). One of ID, member number or institution number, and the result, are needed."""
    columns = {role.value: (columns.get(role) or columns.get(role.value) or "").strip() or None
               for role in AnswerRole}
    if not any(columns[k] for k in KEYS):
        raise DomainError(_("Choose the column that identifies the member (national ID, "
                            "member number or institution number)."), field="id_number")
    if not columns["result"]:
        raise DomainError(_("Choose the column holding the result."), field="result")
    chosen = [h for h in columns.values() if h]
    if len({fold(h) for h in chosen}) != len(chosen):
        raise DomainError(_("A column can play only one part."), field="result")
    accepted_words, rejected_words = words(accepted), words(rejected)
    if not accepted_words or not rejected_words:
        raise DomainError(_("Give the values that mean accepted and rejected."),
                          field="accepted_values")
    if set(accepted_words) & set(rejected_words):
        raise DomainError(_("A value cannot mean both accepted and rejected."),
                          field="rejected_values")
    if date_order not in (None, *ORDERS):
        raise DomainError(_("Choose how the file writes its dates."), field="date_order")
    accepted_text, rejected_text = ", ".join(accepted_words), ", ".join(rejected_words)
    if len(accepted_text) > 200 or len(rejected_text) > 200:
        raise DomainError(_("Too many values: keep each list under 200 characters."),
                          field="accepted_values")
    mapping = mapping_for(agreement)
    if mapping is None:
        mapping = AckMapping(cooperative_id=agreement.cooperative_id, agreement_id=agreement.id)
        db.session.add(mapping)
    mapping.columns = columns
    mapping.accepted_values = accepted_text
    mapping.rejected_values = rejected_text
    mapping.date_order = date_order
    db.session.flush()
    return mapping


def _positions(headers: list[str], columns) -> dict[AnswerRole, int]:
    index = {fold(h): i for i, h in reversed(list(enumerate(headers)))}
    return {AnswerRole(role): index[fold(h)] for role, h in columns.items()
            if h and fold(h) in index}


@dataclass
class _Reading:
    """What reading the rows of one file needs: where each role's column is, what the result
    words mean, and the order of the dates (None when the file mixes both)."""

    position: dict[AnswerRole, int]
    accepted: list[str]
    rejected: list[str]
    date_order: str | None

    def cell(self, raw: list, role: AnswerRole) -> str:
        i = self.position.get(role)
        return (raw[i] if i is not None and i < len(raw) else "").strip()


def _reading_of(ack: Acknowledgement) -> _Reading:
    mapping = mapping_for(ack.batch.agreement)
    if mapping is None:
        raise DomainError(_("Map the file's columns first."))
    missing = missing_headers(ack, mapping)
    if missing:
        raise DomainError(_("The file has no column %(names)s. Check the mapping.",
                            names=", ".join(f"“{m}”" for m in missing)))
    position = _positions(ack.headers, mapping.columns)
    reading = _Reading(position, words(mapping.accepted_values),
                       words(mapping.rejected_values), mapping.date_order)
    if reading.date_order is None:
        dates = [reading.cell(row.raw, R.EFFECTIVE_DATE) for row in ack.lines]
        try:
            reading.date_order = column_order(dates, ack.batch.agreement.cooperative.country)
        except MixedOrders:
            reading.date_order = None
    return reading


class _BatchIndex:
    """The batch's included lines by each key a row may give, and the lines answered before."""

    def __init__(self, batch: Batch):
        self.by_key: dict[AnswerRole, dict[str, tuple]] = {k: {} for k in KEYS}
        # members' lines only: a dependant's line is answered with its member (or by its own
        # ID, batches/dependants.py), never matched as a member
        for line, member, registration in db.session.execute(dependants.member_lines_only(
                select(BatchLine, Member, Registration)
                .join(Member, Member.id == BatchLine.member_id)
                .outerjoin(Registration, Registration.id == BatchLine.registration_id)
                .where(BatchLine.cooperative_id == batch.cooperative_id,
                       BatchLine.batch_id == batch.id, BatchLine.included.is_(True)))):
            item = (line, member, registration)
            if member.id_number:
                self.by_key[R.ID_NUMBER][id_key(member.id_number)] = item
            self.by_key[R.MEMBER_NUMBER][(member.member_number or "").strip().upper()] = item
            if registration is not None and registration.institution_member_number:
                self.by_key[R.INSTITUTION_NUMBER][
                    registration.institution_member_number.strip().upper()] = item
        self.answered = {row.batch_line_id: row for row in db.session.scalars(
            select(AcknowledgementLine).join(Acknowledgement).where(
                Acknowledgement.cooperative_id == batch.cooperative_id,
                Acknowledgement.batch_id == batch.id, AcknowledgementLine.applied.is_(True)))}

    def find(self, row: AcknowledgementLine, reading: _Reading) -> tuple[tuple | None, str]:
        """The (line, member, registration) a row is about — by national ID, member number
        or institution number, in that order, never guessed — and the key it gave."""
        shown = ""
        for key in KEYS:
            text = reading.cell(row.raw, key)
            if not text:
                continue
            shown = shown or text
            match = self.by_key[key].get(id_key(text) if key == R.ID_NUMBER else text.upper())
            if match is not None:
                return match, shown
        return None, shown


def id_key(text: str | None) -> str:
    return re.sub(r"[^0-9A-Za-z]", "", text or "").upper().lstrip("0")


@dataclass
class _SeenInFile:
    lines: dict[int, int] = field(default_factory=dict)  # batch line → first row answering it
    numbers: dict[str, int] = field(default_factory=dict)  # institution number → first row


def _read_values(row: AcknowledgementLine, reading: _Reading) -> str:
    """Put the row's result, number, reason and date on it; returns the date's text."""
    row.batch_line_id = None
    row.problems = None
    row.problem_kind = None
    row.result = meaning(reading.cell(row.raw, R.RESULT), reading.accepted, reading.rejected)
    row.institution_number = reading.cell(row.raw, R.INSTITUTION_NUMBER)[:40] or None
    row.reason = reading.cell(row.raw, R.REASON)[:300] or None
    text = reading.cell(row.raw, R.EFFECTIVE_DATE)
    try:
        row.effective_date = (read_date(text, reading.date_order)
                              if reading.date_order else None)
    except NotADate:
        row.effective_date = None
    return text


def _check_row(row: AcknowledgementLine, reading: _Reading, batch: Batch, index: _BatchIndex,
               seen: _SeenInFile, date_text: str) -> tuple[list[dict], ProblemKind | None]:
    """What keeps the row from being applied ("blocking") or sets it aside ("skipped")."""
    match, shown = index.find(row, reading)
    if match is None:
        return [kept(NO_MATCH, ref=batch.reference, key=shown) if shown else kept(NO_KEY)], \
            ProblemKind.SKIPPED
    line, member, registration = match
    row.batch_line_id = line.id
    problems: list[dict] = []
    kind = None
    earlier = index.answered.get(line.id)
    if earlier is not None:
        kind = ProblemKind.SKIPPED
        problems.append(kept(ANSWERED_BEFORE, name=member.full_name,
                             result=earlier.result.value if earlier.result else ""))
    elif line.id in seen.lines:
        kind = ProblemKind.BLOCKING
        problems.append(kept(TWICE_IN_FILE, row=seen.lines[line.id], name=member.full_name))
    else:
        seen.lines[line.id] = row.row_no
    if row.result is None:
        return problems + [kept(UNKNOWN_RESULT, value=reading.cell(row.raw, R.RESULT))], \
            ProblemKind.BLOCKING
    if kind is None and batch.kind == BatchKind.ENROLMENT and registration is not None:
        if registration.status != S.SUBMITTED:
            return problems + [kept(NOT_WAITING, name=member.full_name,
                                    status=registration.status.value)], ProblemKind.SKIPPED
        if row.result == AnswerResult.ACCEPTED:
            problems += _accepted_problems(row, batch.agreement, registration, seen,
                                           date_text, reading)
            if problems:
                kind = ProblemKind.BLOCKING
    return problems, kind


def interpret(ack: Acknowledgement) -> Acknowledgement:
    """Read every row with the agreement's mapping: its result, numbers and date, the batch
    line it answers (or none: listed, never guessed), and what stops it from being applied
    ("blocking": wrong or missing data) or keeps it aside ("skipped": no match, already
    answered)."""
    batch = ack.batch
    reading = _reading_of(ack)
    index = _BatchIndex(batch)
    seen = _SeenInFile()
    counts = Counter()
    for row in ack.lines:
        date_text = _read_values(row, reading)
        problems, kind = _check_row(row, reading, batch, index, seen, date_text)
        if problems:
            row.problems = problems
            row.problem_kind = kind
            counts["problems" if kind == ProblemKind.BLOCKING else "unmatched"
                   if row.batch_line_id is None else "skipped"] += 1
        elif row.result:
            counts[row.result.value] += 1
    ack.accepted_count = counts["accepted"]
    ack.rejected_count = counts["rejected"]
    ack.unmatched_count = counts["unmatched"]
    ack.problem_count = counts["problems"]
    ack.interpreted = True
    db.session.flush()
    return ack


def _accepted_problems(row: AcknowledgementLine, agreement: Agreement,
                       registration: Registration, seen: _SeenInFile, date_text: str,
                       reading: _Reading) -> list[dict]:
    problems = []
    number = row.institution_number
    if not number:
        problems.append(kept(NUMBER_MISSING))
    else:
        pattern = agreement.member_number_pattern
        if pattern and not re.fullmatch(pattern, number):
            problems.append(kept(NUMBER_FORM, number=number, pattern=pattern))
        if number in seen.numbers:
            problems.append(kept(NUMBER_TWICE, number=number, row=seen.numbers[number]))
        seen.numbers.setdefault(number, row.row_no)
        taken = db.session.scalar(select(Registration.id).where(
            Registration.cooperative_id == agreement.cooperative_id,
            Registration.agreement_id == agreement.id,
            Registration.institution_member_number == number,
            Registration.id != registration.id))
        if taken is not None:
            problems.append(kept(NUMBER_TAKEN, number=number))
    if row.effective_date is None:
        if date_text and reading.date_order is None:
            problems.append(kept(DATES_MIXED))
        elif date_text:
            problems.append(kept(DATE_NOT_READ, value=date_text))
        else:
            problems.append(kept(DATE_MISSING))
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
    to_apply = [row for row in ack.lines if row.batch_line_id is not None and not row.problems
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
            if row.result == AnswerResult.ACCEPTED:
                accepted[registration.id] = row.effective_date
            else:
                rejected.append(registration.id)
            if row.result == AnswerResult.ACCEPTED:
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


def answer_expires_at(ack: Acknowledgement) -> datetime | None:
    """When an answer file that is still waiting to be applied is removed (its rows hold
    members' data); None once it was applied, discarded or expired."""
    if ack.status != AckStatus.UPLOADED or ack.created_at is None:
        return None
    created = ack.created_at
    if created.tzinfo is None:  # SQLite hands back naive UTC
        created = created.replace(tzinfo=UTC)
    return created + timedelta(hours=current_app.config["IMPORT_UPLOAD_RETENTION_HOURS"])


def expire_answers(now: datetime | None = None) -> int:
    """Answer files uploaded and never applied nor discarded, older than
    IMPORT_UPLOAD_RETENTION_HOURS (the same as member imports), cooperative by cooperative:
    the file's record (name, SHA-256, counts) stays and says it expired; its rows go.
    Returns how many files expired."""
    now = now or utcnow()
    cutoff = now - timedelta(hours=current_app.config["IMPORT_UPLOAD_RETENTION_HOURS"])
    expired = 0
    for cooperative_id in db.session.scalars(select(Cooperative.id).order_by(Cooperative.id)):
        stale = db.session.scalars(select(Acknowledgement).where(
            Acknowledgement.cooperative_id == cooperative_id,
            Acknowledgement.status == AckStatus.UPLOADED,
            Acknowledgement.created_at < cutoff)).all()
        for ack in stale:
            ACK_LIFECYCLE.move(ack, AckStatus.EXPIRED)
        if stale:
            db.session.execute(delete(AcknowledgementLine).where(
                AcknowledgementLine.cooperative_id == cooperative_id,
                AcknowledgementLine.acknowledgement_id.in_([ack.id for ack in stale])))
            db.session.flush()
            for ack in stale:
                db.session.expire(ack, ["lines"])
        expired += len(stale)
    return expired


def discard_acknowledgement(ack: Acknowledgement) -> None:
    ACK_LIFECYCLE.move(ack, AckStatus.DISCARDED)
    db.session.flush()
