"""Failed-login limits, in one place.

Policy (see docs/security.md): failed logins are counted in three windows, each over
`LOGIN_WINDOW` (15 minutes by default):

- per account **and** address (`LOGIN_FAILURES_ALLOWED`, 10): the ordinary lock-out. Someone
  guessing from one computer is stopped after 10 tries, and only there: the owner of the
  account, from another address, is not locked out by them;
- per account, from any address (`LOGIN_FAILURES_PER_ACCOUNT`, 50): guessing spread over many
  addresses; higher, so locking someone else out takes many addresses;
- per address, for any account (`LOGIN_FAILURES_PER_ADDRESS`, 30): one computer trying many
  accounts.

A try is **taken before the password is checked**, with the storage's atomic increment (Redis
`INCRBY` in production, a locked counter in memory): of 40 tries at the same moment, at most 10
get their password checked; the others answer 429 at once. A refused try, and a successful
login, give back what they took, so only failures count and a refused try never adds to the
account's wider window. The counters live in the rate limiter's storage (`limiter.limiter`,
which is flask-limiter's in-memory fallback when it has marked the configured storage dead);
when the storage fails during a try (Redis down), this process counts in its own memory
instead (logged), so a login never fails because of the limiter: the limits then hold per
process until the storage answers again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from flask import current_app
from flask_limiter.util import get_remote_address
from limits import RateLimitItem, parse
from limits.storage import MemoryStorage
from limits.strategies import FixedWindowRateLimiter, RateLimiter

from coopreg.core import ratelimits
from coopreg.extensions import limiter

log = logging.getLogger(__name__)
NAMESPACE = "coopreg-login"
_local = FixedWindowRateLimiter(MemoryStorage())  # when the shared storage is down
# (name of the window, setting that holds its limit), checked in this order
WINDOWS = (
    ("account-address", "LOGIN_FAILURES_ALLOWED"),
    ("account", "LOGIN_FAILURES_PER_ACCOUNT"),
    ("address", "LOGIN_FAILURES_PER_ADDRESS"),
)


def check_settings(config) -> None:
    """At start: each window's setting reads as a limit ("10 per 15 minutes"), or the app
    stops with a message naming it (not a 500 at the first login)."""
    for _window, setting in WINDOWS:
        try:
            parse(str(config[setting]))
        except ValueError:
            raise RuntimeError(f"{setting} must read like '10 per 15 minutes'; it is "
                               f"{config[setting]!r}") from None


@dataclass
class LoginTry:
    """The counters one login try took; `succeeded()` gives them back."""

    taken: list[tuple[RateLimitItem, tuple[str, ...]]] = field(default_factory=list)
    allowed: bool = True
    strategy: RateLimiter | None = None

    def give_back(self) -> None:
        strategy = self.strategy or _primary()
        for item, identifiers in self.taken:
            try:
                strategy.storage.incr(item.key_for(*identifiers), item.get_expiry(),
                                      amount=-1)
            except Exception:  # noqa: BLE001 - a try not given back only counts one too many
                log.warning("login limits: could not give a try back", exc_info=True)
        self.taken.clear()

    def succeeded(self) -> None:
        """A successful login does not count towards any limit."""
        self.give_back()


def _identifiers(window: str, account: str, address: str) -> tuple[str, ...]:
    # RATELIMIT_KEY_PREFIX keeps installations (or test runs) sharing one Redis apart
    prefix = (current_app.config.get("RATELIMIT_KEY_PREFIX") or "", NAMESPACE, window)
    if window == "account-address":
        return (*prefix, account, address)
    if window == "account":
        return (*prefix, account)
    return (*prefix, address)


def take_try(email: str | None, address: str | None = None) -> LoginTry:
    """Take one try for this email (as typed, lower-cased) from this address (the request's
    by default). `allowed` is False when any window is full: then nothing is counted and the
    password must not be checked."""
    account = (email or "").strip().lower()
    address = address if address is not None else (get_remote_address() or "")
    try:
        taken = _take(_primary(), account, address)
    except Exception:  # noqa: BLE001 - any storage failure (Redis down, timeout)
        log.info("login limits: the shared storage failed; counting in this process",
                 exc_info=True)
        ratelimits.note_shared_storage(False)  # logged once and shown on /health there
        return _take(_local, account, address)
    ratelimits.note_shared_storage(True)
    return taken


def _primary() -> RateLimiter:
    return limiter.limiter


def _take(strategy: RateLimiter, account: str, address: str) -> LoginTry:
    attempt = LoginTry(strategy=strategy)
    try:
        for window, setting in WINDOWS:
            item = parse(current_app.config[setting])
            identifiers = _identifiers(window, account, address)
            if not strategy.hit(item, *identifiers):
                attempt.taken.append((item, identifiers))
                attempt.give_back()
                attempt.allowed = False
                break
            attempt.taken.append((item, identifiers))
    except Exception:
        attempt.give_back()
        raise
    return attempt


def reset_local() -> None:
    """Forget the counts kept in this process while the shared storage was down (tests)."""
    _local.storage.reset()
