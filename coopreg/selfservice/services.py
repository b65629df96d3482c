"""Signing a member in with a one-time code, and what they may read.

A member is not a user with roles: the code is sent by the outbox to their phone or email and
kept only as an HMAC in their (signed) session cookie, with its expiry; attempts are counted by
the login limits (per member and per address), so clearing cookies gains nothing. The member's
session lasts SELFSERVICE_SESSION_MINUTES at most and names only their member id: every page
reads that member's own rows and nothing else."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload
from werkzeug.security import check_password_hash, generate_password_hash

from coopreg.agreements import families
from coopreg.agreements.documents import awareness_sheet
from coopreg.agreements.models import DependantRegistration, Registration
from coopreg.auth.login_limits import take_try
from coopreg.contributions import services as contribution_services
from coopreg.contributions.models import Receipt
from coopreg.contributions.reports import MemberStatement, member_statement
from coopreg.cooperatives.models import Cooperative
from coopreg.cooperatives.services import find_cooperative
from coopreg.core.errors import DomainError
from coopreg.core.models import utcnow
from coopreg.core.money import from_minor
from coopreg.core.tenancy import get_scoped
from coopreg.core.text import ascii_digits
from coopreg.extensions import db
from coopreg.members.forms import MemberForm
from coopreg.members.models import Dependant, Member, MemberStatus
from coopreg.members.services import member_number_key, update_member
from coopreg.messaging.models import MessageEvent
from coopreg.messaging.services import opt_out, queue_message
from coopreg.selfservice.models import CardCode, CorrectionRequest, CorrectionStatus  # noqa: F401

CODE_MINUTES = 10


@dataclass
class CodeSent:
    """What the session keeps of a code sent: whose, its HMAC, until when."""

    member_id: int | None
    digest: str
    expires: float


def _digest(member_id: int | None, code: str) -> str:
    key = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(key, f"selfservice:{member_id}:{code}".encode(), hashlib.sha256).hexdigest()


def find_member(cooperative_code: str, member_number: str) -> Member | None:
    cooperative = find_cooperative(cooperative_code)
    if cooperative is None or not (member_number or "").strip():
        return None
    return db.session.scalar(select(Member).where(
        Member.cooperative_id == cooperative.id,
        Member.number_key == member_number_key(member_number),
        Member.status.in_((MemberStatus.ACTIVE, MemberStatus.SUSPENDED))))


def send_code(cooperative_code: str, member_number: str) -> CodeSent:
    """Queue a one-time code to the member (when the number names one with a phone or email).
    The answer is the same whether or not it does, so the form tells nobody who is a member."""
    member = find_member(cooperative_code, member_number)
    code = f"{secrets.randbelow(10**6):06d}"
    expires = time.time() + CODE_MINUTES * 60
    if member is None:
        return CodeSent(None, _digest(None, code), expires)
    queue_message(member, MessageEvent.ONE_TIME_CODE,
                  {"code": code, "minutes": str(CODE_MINUTES)})
    return CodeSent(member.id, _digest(member.id, code), expires)


def check_code(sent: CodeSent | None, typed: str, account: str) -> int:
    """The member id the typed code signs in, or a DomainError (wrong, expired, too many)."""
    attempt = take_try(f"member:{account}")
    if not attempt.allowed:
        raise DomainError(_("Too many attempts. Wait a few minutes and ask for a new code."),
                          field="code")
    typed = "".join(ch for ch in (typed or "") if ascii_digits(ch))
    if sent is None or sent.member_id is None or time.time() > sent.expires or not \
            hmac.compare_digest(_digest(sent.member_id, typed), sent.digest):
        raise DomainError(_("This code is not right or has expired."), field="code")
    attempt.succeeded()
    return sent.member_id


@dataclass
class MemberRecord:
    member: Member
    cooperative: Cooperative
    registrations: list[Registration]
    statement: MemberStatement


def record_of(member_id: int, cooperative_id: int) -> MemberRecord | None:
    member = get_scoped(Member, member_id, cooperative_id)
    if member is None:
        return None
    registrations = list(db.session.scalars(select(Registration).where(
        Registration.cooperative_id == cooperative_id, Registration.member_id == member.id)
        .order_by(Registration.id)))
    return MemberRecord(member, db.session.get(Cooperative, cooperative_id), registrations,
                        member_statement(member))


def own_receipt(member_id: int, cooperative_id: int, receipt_id: int) -> Receipt | None:
    """The member's own receipt, or None (another member's is as absent as a missing one)."""
    receipt = get_scoped(Receipt, receipt_id, cooperative_id)
    return receipt if receipt is not None and receipt.member_id == member_id else None


def stop_messages(member_id: int, cooperative_id: int) -> None:
    member = get_scoped(Member, member_id, cooperative_id)
    opt_out(member)


# ---- what the record page shows beyond the statement ----------------------------------------

@dataclass
class DependantCover:
    """One dependant and their registration under each of the member's registrations (none:
    not enrolled through any)."""

    dependant: Dependant
    registrations: list[tuple[Registration, DependantRegistration]]


def dependants_cover(record: MemberRecord) -> list[DependantCover]:
    """Each of the member's dependants with their status under the member's registrations."""
    cover = families.dependants_cover(record.cooperative.id,
                                      [r.id for r in record.registrations])
    by_registration = {r.id: r for r in record.registrations}
    found: dict[int, DependantCover] = {
        d.id: DependantCover(d, []) for d in sorted(record.member.dependants, key=lambda d: d.id)}
    for registration_id, rows in cover.items():
        for enrolled, dependant in rows:
            if dependant.id in found:
                found[dependant.id].registrations.append(
                    (by_registration[registration_id], enrolled))
    return list(found.values())


def months_per_scheme(record: MemberRecord) -> list[tuple[str, list[date]]]:
    """The months covered (their due paid in full) under each scheme of the member's
    agreements, by scheme name; a scheme with no month paid yet is listed with none."""
    months: dict[str, set[date]] = {}
    for registration in record.registrations:
        for scheme in registration.agreement.schemes:
            months.setdefault(scheme.name, set())
    for line in record.statement.dues:
        if line.paid_minor >= line.due.member_share_minor:
            for scheme in line.due.agreement.schemes:
                months.setdefault(scheme.name, set()).add(line.due.period)
    return [(name, sorted(found)) for name, found in sorted(months.items())]


def own_awareness_sheet(record: MemberRecord, agreement_id: int):
    """The awareness sheet of an agreement the member is registered under (None for any
    other agreement: the member reads only the schemes they are in)."""
    for registration in record.registrations:
        if registration.agreement_id == agreement_id:
            return awareness_sheet(registration.agreement, record.member)
    return None


def receipt_slip(receipt: Receipt, language: str):
    """The printed receipt's figures (the office's slip, `contributions.receipt_slip`)."""
    return contribution_services.receipt_slip(receipt, language)


# ---- the code printed on the member's card or receipt ---------------------------------------

CARD_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: read off paper
CARD_CODE_LENGTH = 10


def _clean_card_code(typed: str) -> str:
    return "".join(ch for ch in (typed or "").upper() if ch in CARD_ALPHABET)


def show_card_code(code: str) -> str:
    """As printed: two groups of five."""
    return f"{code[:5]}-{code[5:]}"


def issue_card_code(member: Member, user_id: int | None) -> str:
    """A new sign-in code for the member's card or receipt: returned once (to print), kept
    only hashed; the member's earlier code stops working. Audited (who issued it, when)."""
    code = "".join(secrets.choice(CARD_ALPHABET) for _ in range(CARD_CODE_LENGTH))
    row = db.session.scalar(select(CardCode).where(
        CardCode.cooperative_id == member.cooperative_id, CardCode.member_id == member.id))
    if row is None:
        row = CardCode(cooperative_id=member.cooperative_id, member_id=member.id)
        db.session.add(row)
    row.code_hash = generate_password_hash(code)
    row.issued_by_id = user_id
    row.updated_at = utcnow()  # a change the audit records even when only the hash moved
    db.session.flush()
    return code


_DUMMY: list[str] = []


def _dummy_hash() -> str:
    if not _DUMMY:
        _DUMMY.append(generate_password_hash(secrets.token_hex(8)))
    return _DUMMY[0]


def sign_in_with_card(cooperative_code: str, member_number: str, typed: str,
                      account: str) -> tuple[int, int]:
    """(member id, cooperative id) the printed code signs in, or a DomainError; attempts
    counted by the login limits like the one-time code's."""
    attempt = take_try(f"member:{account}")
    if not attempt.allowed:
        raise DomainError(_("Too many attempts. Wait a few minutes and ask for a new code."),
                          field="card_code")
    member = find_member(cooperative_code, member_number)
    row = None if member is None else db.session.scalar(select(CardCode).where(
        CardCode.cooperative_id == member.cooperative_id, CardCode.member_id == member.id))
    code = _clean_card_code(typed)
    # a hash is checked either way, so the time taken tells nobody who has a card code
    right = check_password_hash(row.code_hash if row is not None else _dummy_hash(), code)
    if row is None or len(code) != CARD_CODE_LENGTH or not right:
        raise DomainError(_("This code is not right or has expired."), field="card_code")
    attempt.succeeded()
    return member.id, member.cooperative_id


# ---- requests to correct one's details --------------------------------------------------------

# The details a member may ask to correct, in the form's order (labels in the views).
CORRECTABLE = ("first_name", "middle_name", "last_name", "second_last_name", "date_of_birth",
               "id_number", "phone", "email", "address", "locality", "occupation")
MAX_VALUE = 200


def _member_values(member: Member, currency: str) -> dict[str, Any]:
    """The member as the office's form holds it: what an accepted correction starts from."""
    values: dict[str, Any] = {}
    for name in MemberForm.DATA_FIELDS:
        if name == "declared_income":
            amount = from_minor(member.declared_income_minor, currency)
            values[name] = None if amount is None else str(amount)
        elif name == "phone":
            values[name] = member.phone_shown
        else:
            value = getattr(member, name)
            values[name] = getattr(value, "value", value)
    return values


def request_correction(member_id: int, cooperative_id: int, changes: dict[str, str],
                       note: str | None) -> CorrectionRequest:
    """The member asks for their details to be corrected: kept as a pending request for the
    secretary; nothing of the member changes now. At least one field, or a note."""
    member = get_scoped(Member, member_id, cooperative_id)
    if member is None:
        raise DomainError(_("This member is not in the register any more."))
    wanted = {name: str(value).strip()[:MAX_VALUE] for name, value in changes.items()
              if name in CORRECTABLE and value is not None and str(value).strip()}
    note = (note or "").strip()[:500] or None
    if not wanted and not note:
        raise DomainError(_("Write what should change, or a note for the office."),
                          field="note")
    request = CorrectionRequest(cooperative_id=cooperative_id, member_id=member.id,
                                changes=json.dumps(wanted, ensure_ascii=False), note=note,
                                status=CorrectionStatus.PENDING)
    db.session.add(request)
    db.session.flush()
    return request


def requested_changes(request: CorrectionRequest) -> dict[str, str]:
    return json.loads(request.changes or "{}")


def member_requests(member_id: int, cooperative_id: int) -> list[CorrectionRequest]:
    """The member's own requests, newest first (what they see of their answers)."""
    return list(db.session.scalars(select(CorrectionRequest).where(
        CorrectionRequest.cooperative_id == cooperative_id,
        CorrectionRequest.member_id == member_id).order_by(CorrectionRequest.id.desc())
        .limit(10)))


def pending_count(cooperative_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(CorrectionRequest).where(
        CorrectionRequest.cooperative_id == cooperative_id,
        CorrectionRequest.status == CorrectionStatus.PENDING)) or 0


def correction_requests(cooperative_id: int, status: str = "pending"
                        ) -> list[CorrectionRequest]:
    """The cooperative's requests of one status (oldest pending first; decided newest
    first), at most 200."""
    status = status if status in {s.value for s in CorrectionStatus} else "pending"
    order = (CorrectionRequest.id if status == "pending" else CorrectionRequest.id.desc())
    return list(db.session.scalars(select(CorrectionRequest).where(
        CorrectionRequest.cooperative_id == cooperative_id,
        CorrectionRequest.status == CorrectionStatus(status))
        .options(selectinload(CorrectionRequest.member)).order_by(order).limit(200)))


def _decidable(request: CorrectionRequest) -> None:
    if request.status != CorrectionStatus.PENDING:
        raise DomainError(_("This request was already answered."))


def accept_correction(request: CorrectionRequest, user_id: int | None) -> Member:
    """Apply what the member asked through the members service (its checks: a wrong date or
    ID refuses the whole request, which stays pending) and mark the request accepted."""
    _decidable(request)
    member = request.member
    cooperative = db.session.get(Cooperative, request.cooperative_id)
    data = {**_member_values(member, cooperative.currency), **requested_changes(request)}
    update_member(member, data, confirm_duplicate=True)
    request.status = CorrectionStatus.ACCEPTED
    request.decided_by_id, request.decided_at = user_id, utcnow()
    db.session.flush()
    return member


def reject_correction(request: CorrectionRequest, reason: str, user_id: int | None
                      ) -> CorrectionRequest:
    """Refuse the request with a reason the member reads on their page; nothing changes."""
    _decidable(request)
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("Give the reason, for the member."), field="reason")
    request.status = CorrectionStatus.REJECTED
    request.reason = reason[:300]
    request.decided_by_id, request.decided_at = user_id, utcnow()
    db.session.flush()
    return request
