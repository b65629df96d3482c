"""Password hashing with argon2id (argon2-cffi) and the password policy.

Policy (OWASP ASVS 5 level 2): at least 12 characters, up to 128, no composition rules, and
guessable passwords refused (zxcvbn score below 2: common words, keyboard runs, repeats).
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, has_app_context
from flask_babel import gettext as _
from zxcvbn import zxcvbn

from coopreg.core.errors import DomainError

MIN_LENGTH = 12
MAX_LENGTH = 128

_hasher = PasswordHasher()  # argon2id, RFC 9106 low-memory profile
# The suite hashes hundreds of passwords; at test time only, argon2 runs at its lowest cost.
_fast_hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


def _current_hasher() -> PasswordHasher:
    if has_app_context() and current_app.config.get("PASSWORD_HASH_FAST"):
        return _fast_hasher
    return _hasher


def check_password_policy(password: str, user_inputs: list[str] | None = None) -> None:
    if len(password) < MIN_LENGTH:
        raise DomainError(_("The password needs at least %(n)d characters.", n=MIN_LENGTH),
                          field="password")
    if len(password) > MAX_LENGTH:
        raise DomainError(_("The password can have at most %(n)d characters.", n=MAX_LENGTH),
                          field="password")
    if zxcvbn(password[:100], user_inputs=user_inputs or [])["score"] < 2:
        raise DomainError(_("This password is too easy to guess (a common word, a sequence or "
                            "your own name). Try a few unrelated words."), field="password")


def hash_password(password: str) -> str:
    return _current_hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return PasswordHasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _current_hasher().check_needs_rehash(password_hash)


# Verifying against this hash when the email is unknown keeps the timing of a failed login the
# same whether or not the account exists.
DUMMY_HASH = _hasher.hash("not-a-real-password-for-timing")
