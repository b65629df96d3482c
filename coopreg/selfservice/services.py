"""Signing a member in with a one-time code, and what they may read.

A member is not a user with roles: the code is sent by the outbox to their phone or email and
kept only as an HMAC in their (signed) session cookie, with its expiry; attempts are counted by
the login limits (per member and per address), so clearing cookies gains nothing. The member's
session lasts SELFSERVICE_SESSION_MINUTES at most and names only their member id: every page
reads that member's own rows and nothing else."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from coopreg.agreements.models import Registration
from coopreg.auth.login_limits import take_try
from coopreg.contributions.models import Receipt
from coopreg.contributions.reports import MemberStatement, member_statement
from coopreg.cooperatives.models import Cooperative
from coopreg.cooperatives.services import find_cooperative
from coopreg.core.errors import DomainError
from coopreg.core.tenancy import get_scoped
from coopreg.core.text import ascii_digits
from coopreg.extensions import db
from coopreg.members.models import Member, MemberStatus
from coopreg.members.services import member_number_key
from coopreg.messaging.models import MessageEvent
from coopreg.messaging.services import opt_out, queue_message

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
