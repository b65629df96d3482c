"""Accounts and roles: the rules for users, passwords and memberships."""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email
from flask_babel import gettext as _
from sqlalchemy import func, select

from coopreg.auth.models import Membership, Role, User, new_session_token
from coopreg.auth.passwords import (
    DUMMY_HASH,
    check_password_policy,
    hash_password,
    needs_rehash,
    verify_password,
)
from coopreg.cooperatives.models import Cooperative
from coopreg.core.errors import DomainError
from coopreg.core.languages import LANGUAGES
from coopreg.core.models import utcnow
from coopreg.extensions import db


def normalise_email(email: str) -> str:
    try:
        return validate_email((email or "").strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        raise DomainError(_("“%(email)s” is not an email address.", email=email),
                          field="email") from None


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))


def authenticate(email: str, password: str) -> User | None:
    """The active user with this email and password, or None. Rehashes an old hash."""
    user = find_user_by_email(email or "")
    if user is None or not user.active:
        verify_password(DUMMY_HASH, password or "")
        return None
    if not verify_password(user.password_hash, password or ""):
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = utcnow()
    return user


def _password_inputs(email: str, name: str, cooperatives) -> list[str]:
    """What a guesser of this person's password tries first: their name, their email's
    local part (not the domain: a whole mail provider's name is no personal word), and the
    names and codes of their cooperatives."""
    inputs = [email.split("@")[0], name]
    for cooperative in cooperatives:
        inputs += [cooperative.name, cooperative.code]
    return inputs


def create_user(email: str, name: str, password: str,
                cooperatives: tuple[Cooperative, ...] = ()) -> User:
    """A new account. Emails are unique (case-insensitive); the password meets the policy,
    scored against the person's name and email and the `cooperatives` they join."""
    email = normalise_email(email)
    if find_user_by_email(email) is not None:
        raise DomainError(_("An account with this email already exists."), field="email")
    name = (name or "").strip() or email.split("@")[0]
    check_password_policy(password, _password_inputs(email, name, cooperatives))
    user = User(email=email, name=name, password_hash=hash_password(password))
    db.session.add(user)
    db.session.flush()
    return user


def set_password(user: User, password: str) -> None:
    """Change a password; every other session of the user ends (token rotated)."""
    check_password_policy(password, _password_inputs(
        user.email, user.name, [m.cooperative for m in user.memberships]))
    user.password_hash = hash_password(password)
    user.session_token = new_session_token()


def rotate_session_token(user: User) -> None:
    user.session_token = new_session_token()


def grant_role(user: User, cooperative: Cooperative, role: Role | str) -> Membership:
    """Give a user a role in a cooperative, replacing any role they held there."""
    try:
        role = Role(role)
    except ValueError:
        raise DomainError(_("“%(role)s” is not a role. Roles: %(roles)s.", role=role,
                            roles=", ".join(r.value for r in Role)), field="role") from None
    membership = db.session.scalar(select(Membership).where(
        Membership.user_id == user.id, Membership.cooperative_id == cooperative.id))
    if membership is None:
        membership = Membership(user=user, cooperative_id=cooperative.id, role=role)
        db.session.add(membership)
    else:
        _keep_one_admin(cooperative, membership, role)
        membership.role = role
    db.session.flush()
    return membership


def revoke_role(membership: Membership) -> None:
    """Remove a user from a cooperative; the last admin cannot be removed. Their access there
    ends at their next request (roles are re-read on every request, auth/access.py); their
    sessions are not ended, because they may be working in another cooperative, which an
    admin of this one has no say over."""
    _keep_one_admin(membership.cooperative, membership, None)
    user = membership.user
    db.session.delete(membership)
    user.memberships = [m for m in user.memberships if m is not membership]
    db.session.flush()


def _lock_cooperative(cooperative_id: int) -> None:
    """Hold the cooperative's row until commit (PostgreSQL `FOR UPDATE`; SQLite already holds
    the write lock from `BEGIN IMMEDIATE`): every change that can take an admin away takes it
    first, so two admins demoting each other at the same moment are served one after the
    other, and the second sees the first's change."""
    db.session.execute(select(Cooperative.id).where(Cooperative.id == cooperative_id)
                       .with_for_update())


def _keep_one_admin(cooperative: Cooperative, membership: Membership, new_role: Role | None):
    """A cooperative keeps at least one admin whose account is active. Checked under the
    cooperative's row lock, on the roles as committed (not as this session last saw them)."""
    if new_role == Role.ADMIN:
        return
    _lock_cooperative(cooperative.id)
    current = db.session.scalar(select(Membership.role).where(
        Membership.cooperative_id == cooperative.id, Membership.id == membership.id)
        .execution_options(populate_existing=True))
    if current is None:  # removed by someone else meanwhile
        raise DomainError(_("This person's access was changed meanwhile; look again."),
                          field="role")
    if current != Role.ADMIN:
        return
    admins = db.session.scalar(select(func.count()).select_from(Membership).join(User).where(
        Membership.cooperative_id == cooperative.id, Membership.role == Role.ADMIN,
        Membership.id != membership.id, User.active.is_(True)))
    if admins < 1:
        raise DomainError(_("A cooperative needs at least one admin."), field="role")


def set_active(user: User, active: bool) -> None:
    """Disable or re-enable an account; disabling ends its sessions, and is refused while the
    account is the last active admin of a cooperative."""
    if not active:
        for membership in list(user.memberships):
            if membership.role == Role.ADMIN:
                _keep_one_admin(membership.cooperative, membership, None)
    user.active = active
    rotate_session_token(user)
    db.session.flush()


def set_platform_admin(user: User, platform_admin: bool) -> None:
    """Make the user a platform admin (keeps the installation's federations and institution
    desk accounts) or take it back; audited on the user. A disabled account cannot be made
    one."""
    if platform_admin and not user.active:
        raise DomainError(_("%(email)s is disabled: enable the account first.",
                            email=user.email), field="email")
    user.platform_admin = bool(platform_admin)
    db.session.flush()


def set_language(user: User, locale: str | None) -> None:
    """A user's own language (None: the cooperative's)."""
    locale = (locale or "").strip() or None
    if locale is not None and locale not in LANGUAGES:
        raise DomainError(_("Choose one of the languages offered."), field="locale")
    user.locale = locale
