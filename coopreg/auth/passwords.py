"""Password hashing with argon2id (argon2-cffi) and the password policy.

Policy (OWASP ASVS 5 level 2): at least 12 characters, up to 128, no composition rules, and
guessable passwords refused: a zxcvbn score below 2 (common words, keyboard runs, repeats),
scored against the person's own words (name, email, their cooperatives' names and codes) and
the words an office's password is made of in its four languages (`COMMON_WORDS`); and a
password that is only those words, digits and separators ("CR Admin CR Admin",
"SoniaSecretaria", "Contraseña123") is refused whatever its score.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

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


# Words an office's passwords are made of, in the four languages of the app (accents folded,
# lower case): the app's roles and places, greetings, "password" itself. zxcvbn's own lists are
# English; these are what a Costa Rican, Brazilian or Senegalese office reaches for first.
COMMON_WORDS = (
    # English
    "password", "passw0rd", "admin", "administrator", "secretary", "treasurer", "viewer",
    "cooperative", "coop", "member", "members", "welcome", "office", "login", "user",
    "qwerty", "letmein", "summer", "winter", "spring", "autumn",
    # Spanish
    "contrasena", "clave", "secreto", "administrador", "administradora", "secretaria",
    "secretario", "tesorero", "tesorera", "tesoreria", "cooperativa", "cooperativas", "socio",
    "socia", "socios", "asociado", "asociada", "usuario", "usuaria", "bienvenido",
    "bienvenida", "hola", "oficina", "caja", "verano", "invierno", "cafe",
    # French
    "motdepasse", "passe", "secret", "administrateur", "administratrice", "secretaire",
    "tresorier", "tresoriere", "cooperative", "adherent", "adherente", "membre", "utilisateur",
    "bienvenue", "bonjour", "salut", "bureau", "soleil", "hiver",
    # Portuguese
    "senha", "segredo", "administrador", "secretario", "tesoureiro", "tesoureira",
    "cooperativa", "cooperado", "cooperada", "associado", "associada", "usuario", "bemvindo",
    "bemvinda", "escritorio", "verao", "inverno",
)
# What must be left of a password once the person's own words, the common words, digits and
# separators are taken out.
MIN_OWN_CHARACTERS = 6


def fold(text: str) -> str:
    """Lower case without accents: "Contraseña" and "contrasena" are the same word here."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def personal_words(values: Iterable[str | None]) -> list[str]:
    """The words a guesser tries first for this person: each value (a name, an email, a
    cooperative's name or code) whole, without its spaces, and word by word."""
    words: set[str] = set()
    for value in values:
        if not value:
            continue
        value = fold(value)
        words.add(value)
        words.add(re.sub(r"\W|_", "", value))
        words.update(w for w in re.split(r"\W|_", value) if len(w) >= 3)
    return sorted(w for w in words if w)


def _own_part(password: str, words: list[str]) -> str:
    """The password without the given words (longest first), digits and separators."""
    rest = re.sub(r"[\W\d_]", "", fold(password))
    for word in sorted({re.sub(r"[\W\d_]", "", w) for w in words}, key=len, reverse=True):
        if len(word) >= 3:
            rest = rest.replace(word, "")
    return rest


def check_password_policy(password: str, user_inputs: Iterable[str | None] | None = None) -> None:
    """Refuse a password outside the policy (see the module's docstring) with a message for
    the form. `user_inputs`: the person's name, email, cooperatives' names and codes."""
    if len(password) < MIN_LENGTH:
        raise DomainError(_("The password needs at least %(n)d characters.", n=MIN_LENGTH),
                          field="password")
    if len(password) > MAX_LENGTH:
        raise DomainError(_("The password can have at most %(n)d characters.", n=MAX_LENGTH),
                          field="password")
    own = personal_words(user_inputs or [])
    if zxcvbn(fold(password[:100]), user_inputs=own + list(COMMON_WORDS))["score"] < 2:
        raise DomainError(_("This password is too easy to guess (a common word, a sequence or "
                            "your own name). Try a few unrelated words."), field="password")
    if len(_own_part(password, own + list(COMMON_WORDS))) < MIN_OWN_CHARACTERS:
        raise DomainError(_("This password is made only of your name, your email, the "
                            "cooperative's name or code, or common words such as “password” "
                            "or “secretary”. Add a few words of your own."), field="password")


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
