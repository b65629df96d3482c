"""API tokens: a secret a script presents as `Authorization: Bearer <token>`.

A token belongs to one user in one cooperative and acts with the role that user holds there
*when it is used* (never more: a demoted user's tokens are demoted with them, a removed one's
stop working). `read` tokens only read. The secret is shown once; only its SHA-256 is kept
(a token is 256 random bits, so a fast hash is enough to make a leaked table useless).
Tokens expire, can be revoked, and every change made with one names it in the audit log.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import DateTime, ForeignKey, String, and_, select
from sqlalchemy.orm import Mapped, contains_eager, joinedload, mapped_column, relationship

from coopreg.auth.models import Membership, Role, User
from coopreg.cooperatives.models import Cooperative
from coopreg.core.errors import DomainError
from coopreg.core.labels import labels_for
from coopreg.core.models import CooperativeOwned, TimestampMixin, enum_column, utcnow
from coopreg.core.tenancy import unscoped
from coopreg.extensions import db

PREFIX = "coopreg_"
MAX_DAYS = 366


class TokenScope(enum.StrEnum):
    READ = "read"
    WRITE = "write"


SCOPE_LABELS = labels_for(TokenScope, {TokenScope.READ: _l("read only"),
                                       TokenScope.WRITE: _l("read and write")})


class TokenColumns:
    """What every kind of token keeps: its name, a hint, the SHA-256 of its secret, its
    scope, when it expires, when it was revoked and last used."""

    name: Mapped[str] = mapped_column(String(100))
    # the first characters, shown in lists so a person can tell their tokens apart
    hint: Mapped[str] = mapped_column(String(16))
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scope: Mapped[TokenScope] = mapped_column(enum_column(TokenScope, length=10))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    @property
    def active(self) -> bool:
        return self.revoked_at is None and _aware(self.expires_at) > utcnow()


class ApiToken(CooperativeOwned, TokenColumns, TimestampMixin, db.Model):
    __tablename__ = "api_tokens"
    __audited__ = True
    __audit_exclude__ = ("secret_hash",)

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)

    user: Mapped[User] = relationship()
    cooperative: Mapped[Cooperative] = relationship()

    @property
    def label(self) -> str:
        """How the audit log names changes made with this token."""
        return f"{self.user.email} (token {self.hint}…)"

    def __repr__(self) -> str:
        return f"<ApiToken {self.hint}… of user {self.user_id}>"


def _aware(moment: datetime) -> datetime:
    from datetime import UTC
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def new_secret() -> tuple[str, str, str]:
    """A new token secret: (secret, its hint, its SHA-256), for every kind of token."""
    secret = PREFIX + secrets.token_urlsafe(32)
    return secret, secret[: len(PREFIX) + 6], _digest(secret)


def secret_digest(secret: str) -> str | None:
    """The SHA-256 a presented secret is looked up by (None: not a token's shape)."""
    if not secret.startswith(PREFIX) or len(secret) > 200:
        return None
    return _digest(secret)


def checked_days(days: int) -> int:
    if not 1 <= days <= MAX_DAYS:
        raise DomainError(_("A token lasts from 1 to %(max)d days.", max=MAX_DAYS),
                          field="days")
    return days


def create_token(user: User, cooperative: Cooperative, name: str, scope: str = "read",
                 days: int = 90) -> tuple[ApiToken, str]:
    """A new token for `user` in `cooperative`; returns it and its secret (shown once)."""
    if user.role_in(cooperative.id) is None:
        raise DomainError(_("%(email)s has no role in %(code)s.", email=user.email,
                            code=cooperative.code), field="user")
    if not user.active:
        raise DomainError(_("%(email)s is disabled.", email=user.email), field="user")
    try:
        scope = TokenScope(scope)
    except ValueError:
        raise DomainError(_("The scope is read or write."), field="scope") from None
    checked_days(days)
    name = (name or "").strip()[:100] or _("API token")
    secret, hint, digest = new_secret()
    token = ApiToken(cooperative_id=cooperative.id, user_id=user.id, name=name,
                     hint=hint, secret_hash=digest, scope=scope,
                     expires_at=utcnow() + timedelta(days=days))
    db.session.add(token)
    db.session.flush()
    return token, secret


def revoke_token(token: ApiToken) -> None:
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        db.session.flush()


def tokens_of(user_id: int, cooperative_id: int) -> list[ApiToken]:
    return list(db.session.scalars(select(ApiToken).where(
        ApiToken.cooperative_id == cooperative_id, ApiToken.user_id == user_id)
        .order_by(ApiToken.id.desc())))


def authenticate(secret: str) -> tuple[ApiToken, Role] | None:
    """The token a secret is, with the role its user holds now; None when the secret is
    unknown, revoked, expired, or its user was disabled or lost the role."""
    digest = secret_digest(secret)
    if digest is None:
        return None
    # one query for the token, its user, its cooperative and the role held there now (every
    # API request asks: three lazy loads were a third of a members page's time)
    found = db.session.execute(
        select(ApiToken, Membership.role).join(ApiToken.user)
        .outerjoin(Membership, and_(Membership.user_id == ApiToken.user_id,
                                    Membership.cooperative_id == ApiToken.cooperative_id))
        .options(contains_eager(ApiToken.user), joinedload(ApiToken.cooperative))
        .where(ApiToken.secret_hash == digest)
        .execution_options(**unscoped("a token is found by its secret before its cooperative "
                                      "is known"))).first()
    if found is None or not hmac.compare_digest(found[0].secret_hash, digest):
        return None
    token, role = found
    if not token.active or not token.user.active or role is None:
        return None
    return token, role
