"""Invitations: how a person gets a role in a cooperative.

An admin cannot attach an existing account to their cooperative: they invite an email, and
the person accepts or declines after logging in (or through the invitation's link, which also
lets a newcomer make their own account with their own password). The admin's page answers the
same whether the email has an account or not, and shows only what the admin typed, so it is
no oracle of who has an account elsewhere. Every step is audited in the inviting cooperative.
Removing a person's role (`services.revoke_role`) ends their access to that cooperative at
their next request, and nothing else: their sessions in other cooperatives go on.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from coopreg.auth.models import (
    INVITATION_LIFECYCLE,
    Invitation,
    InvitationStatus,
    Membership,
    Role,
    User,
)
from coopreg.auth.passwords import check_password_policy, hash_password
from coopreg.auth.services import (
    _password_inputs,
    create_user,
    find_user_by_email,
    grant_role,
    normalise_email,
)
from coopreg.cooperatives.models import Cooperative
from coopreg.core.errors import DomainError
from coopreg.core.labels import labels_for
from coopreg.core.models import utcnow
from coopreg.core.tenancy import unscoped
from coopreg.extensions import db

# what the audit log and the Users page call an invitation's status
INVITATION_STATUS_LABELS = labels_for(InvitationStatus, {
    InvitationStatus.PENDING: _l("Pending"), InvitationStatus.ACCEPTED: _l("Accepted"),
    InvitationStatus.DECLINED: _l("Declined"), InvitationStatus.CANCELLED: _l("Cancelled")})


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # SQLite: naive UTC


def is_open(invitation: Invitation, now: datetime | None = None) -> bool:
    return (invitation.status == InvitationStatus.PENDING
            and _aware(invitation.expires_at) > (now or utcnow()))


def _set_status(invitation: Invitation, status: InvitationStatus) -> None:
    INVITATION_LIFECYCLE.move(invitation, status)
    invitation.decided_at = utcnow()


def invite(cooperative: Cooperative, email: str, name: str, role: Role | str,
           invited_by: User | None) -> tuple[Invitation, str]:
    """Offer `role` in `cooperative` to `email`. Returns the invitation and the token of its
    link (shown once to the admin; only its hash is kept). The answer is the same whether an
    account has this email or not; refused only for what the admin can already see on their
    own page: a person who holds a role here, or an open invitation to the same email."""
    email = normalise_email(email)
    try:
        role = Role(role)
    except ValueError:
        raise DomainError(_("Choose one of the roles."), field="role") from None
    name = (name or "").strip()[:200] or email.split("@")[0]
    if db.session.scalar(select(Membership.id).join(User).where(
            Membership.cooperative_id == cooperative.id,
            func.lower(User.email) == email)) is not None:
        raise DomainError(_("This person already has a role here; change it below."),
                          field="email")
    for pending in db.session.scalars(select(Invitation).where(
            Invitation.cooperative_id == cooperative.id, Invitation.email == email,
            Invitation.status == InvitationStatus.PENDING)):
        if is_open(pending):
            raise DomainError(_("This email already has an invitation waiting; cancel it "
                                "below to send a new one."), field="email")
    token = secrets.token_urlsafe(32)
    days = current_app.config.get("INVITATION_DAYS", 7)
    invitation = Invitation(cooperative_id=cooperative.id, email=email, name=name, role=role,
                            token_hash=_hash(token), invited_by_id=invited_by.id if invited_by
                            else None, expires_at=utcnow() + timedelta(days=days))
    db.session.add(invitation)
    db.session.flush()
    return invitation, token


def cancel(invitation: Invitation) -> None:
    """The admin takes back an invitation not yet answered."""
    _set_status(invitation, InvitationStatus.CANCELLED)
    db.session.flush()


def open_invitations_of(cooperative_id: int) -> list[Invitation]:
    """The invitations a cooperative sent that still wait for an answer (pending, not
    expired), oldest first: what its Users page lists."""
    now = utcnow()
    found = db.session.scalars(select(Invitation).where(
        Invitation.cooperative_id == cooperative_id,
        Invitation.status == InvitationStatus.PENDING).order_by(Invitation.id)).all()
    return [i for i in found if is_open(i, now)]


def open_invitations_for(user: User) -> list[Invitation]:
    """The invitations waiting for this user's email, in every cooperative that sent one."""
    now = utcnow()
    found = db.session.scalars(select(Invitation).where(
        Invitation.email == user.email.lower(), Invitation.status == InvitationStatus.PENDING)
        .order_by(Invitation.id).execution_options(**unscoped(
            "a person's invitations come from every cooperative that sent one"))).all()
    return [i for i in found if is_open(i, now)]


def invitation_for(user: User, invitation_id: int) -> Invitation | None:
    """An open invitation addressed to this user, or None (another person's, answered or
    expired: the same None)."""
    invitation = db.session.get(Invitation, invitation_id, execution_options=unscoped(
        "an invitation is its addressee's, whichever cooperative sent it (checked below)"))
    if invitation is None or invitation.email != user.email.lower() or not is_open(invitation):
        return None
    return invitation


def by_token(token: str) -> Invitation | None:
    """The open invitation of a link's token, or None."""
    if not token or len(token) > 100:
        return None
    invitation = db.session.scalar(select(Invitation).where(
        Invitation.token_hash == _hash(token)).execution_options(**unscoped(
            "a link's token names its invitation, whichever cooperative sent it")))
    return invitation if invitation is not None and is_open(invitation) else None


def accept(invitation: Invitation, user: User) -> Membership:
    """The person says yes: they get the role (a person who already has a role there keeps
    theirs: an invitation never demotes anyone)."""
    if invitation.email != user.email.lower() or not is_open(invitation):
        raise DomainError(_("This invitation is no longer open."))
    cooperative = db.session.get(Cooperative, invitation.cooperative_id)
    if user.role_in(cooperative.id) is not None:
        raise DomainError(_("You already have a role in this cooperative."))
    _set_status(invitation, InvitationStatus.ACCEPTED)
    return grant_role(user, cooperative, invitation.role)


def decline(invitation: Invitation, user: User) -> None:
    if invitation.email != user.email.lower() or not is_open(invitation):
        raise DomainError(_("This invitation is no longer open."))
    _set_status(invitation, InvitationStatus.DECLINED)
    db.session.flush()


def join(invitation: Invitation, name: str, password: str) -> User | None:
    """Through the link, without logging in: a newcomer makes their account (with their own
    password) and the invitation is accepted. When the email already has an account, nothing
    changes (its password stays; the invitation waits for its owner to log in) and the
    caller answers exactly as for a newcomer, so whoever holds the link learns nothing.
    The password is checked and hashed in both cases (same answer, same time)."""
    cooperative = db.session.get(Cooperative, invitation.cooperative_id)
    name = (name or "").strip()[:200] or invitation.name
    check_password_policy(password, _password_inputs(invitation.email, name, [cooperative]))
    if find_user_by_email(invitation.email) is not None:
        hash_password(password)
        return None
    user = create_user(invitation.email, name, password, (cooperative,))
    accept(invitation, user)
    return user
