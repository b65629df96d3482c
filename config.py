"""Configuration classes, read from the environment.

`COOPREG_CONFIG` picks the class (development, production, test); `DATABASE_URL` the database.
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = Path(os.environ.get("COOPREG_INSTANCE_DIR", BASE_DIR / "instance"))


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _env_number(name: str, default: int, minimum: int = 0, kind: type = int):
    """A numeric setting (whole by default; `kind=float` for fractions); a value that is not
    one, or is below `minimum`, stops the app at start with a message naming the setting
    (not a bare "invalid literal for int()")."""
    value = os.environ.get(name)
    if value is None or not value.strip():
        return default
    try:
        number = kind(value.strip())
    except ValueError:
        number = None
    if number is None or number != number or number < minimum:  # NaN is no number
        what = "a whole number" if kind is int else "a number"
        raise ValueError(f"{name} must be {what} of at least {minimum}; it is {value!r}")
    return number


def _payment_providers() -> dict:
    """COOPREG_PAYMENT_PROVIDERS: the providers allowed to notify payments, as JSON
    `{"name": {"secret": "…", "cooperative": "CODE", "method": "mobile_money"}}`; a value that
    is not such a mapping stops the app at start with a message naming the setting."""
    return _signed_senders("COOPREG_PAYMENT_PROVIDERS", "providers")


def _message_gateways() -> dict:
    """COOPREG_MESSAGE_GATEWAYS: the SMS/WhatsApp gateways allowed to pass on members'
    answers (STOP), as JSON `{"name": {"secret": "…", "cooperative": "CODE"}}`, checked like
    the payment providers (the same signature, docs/messaging.md)."""
    return _signed_senders("COOPREG_MESSAGE_GATEWAYS", "gateways")


def _signed_senders(setting: str, what: str) -> dict:
    """Senders that sign what they post with an HMAC secret of their own, for one
    cooperative: each with a secret of 16 characters or more and a cooperative code."""
    import json

    value = os.environ.get(setting, "").strip()
    if not value:
        return {}
    try:
        senders = json.loads(value)
    except json.JSONDecodeError:
        senders = None
    if not isinstance(senders, dict) or not all(
            isinstance(p, dict) and len(str(p.get("secret", ""))) >= 16 and p.get("cooperative")
            for p in senders.values()):
        raise ValueError(f"{setting} must be a JSON object of {what}, each "
                         "with a secret of 16 characters or more and a cooperative code")
    return senders


def _instance_key(name: str) -> str:
    """A random key kept in the instance folder (made once, owner-only)."""
    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    key_file = INSTANCE_DIR / name
    if not key_file.exists():
        key_file.write_text(secrets.token_hex(32))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


def local_backup_key() -> str:
    """A key for signing backups kept in the instance folder, so an office install can back
    up with no setup. Keep a copy of it away from the computer (a restore on a new one needs
    it); production sets COOPREG_BACKUP_KEY instead."""
    return _instance_key("backup_key")


def local_secret_key() -> str:
    """A secret key kept in the instance folder, so an office install needs no setup and
    sessions survive a restart. Production must set SECRET_KEY instead."""
    return _instance_key("secret_key")


class Config:
    SQLALCHEMY_DATABASE_URI = os.environ.get(
        "DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'coopreg.sqlite'}"
    )
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}
    SECRET_KEY = os.environ.get("SECRET_KEY")
    # Backups carry a manifest signed (HMAC-SHA256) with this key, and a restore refuses a
    # backup whose signature does not match: keep it apart from the backups (a password
    # manager, a sealed envelope), never in the same place as them.
    BACKUP_KEY = os.environ.get("COOPREG_BACKUP_KEY")
    EXPORT_DIR = os.environ.get("COOPREG_EXPORT_DIR", str(BASE_DIR / "exports"))
    # Files of export jobs (EXPORT_DIR/jobs.tmp/<cooperative>/) are removed this long after
    # their job ended (coopreg/jobs/files.py).
    EXPORT_RETENTION_HOURS = _env_number("COOPREG_EXPORT_RETENTION_HOURS", 24.0, 0, float)

    # Sessions: HttpOnly, SameSite=Lax, 30 minutes idle (refreshed on each request).
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    PERMANENT_SESSION_LIFETIME = timedelta(minutes=_env_number("SESSION_IDLE_MINUTES", 30, 1))
    SESSION_ABSOLUTE_HOURS = 12
    SESSION_REFRESH_EACH_REQUEST = True
    REMEMBER_COOKIE_DURATION = timedelta(seconds=0)
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"

    MAX_CONTENT_LENGTH = _env_number("COOPREG_MAX_UPLOAD_MB", 20, 1) * 1024 * 1024
    WTF_CSRF_ENABLED = True
    WTF_CSRF_TIME_LIMIT = None  # the session's own lifetime bounds the token

    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI") or (
        os.environ["REDIS_URL"] if os.environ.get("REDIS_URL") else "memory://"
    )
    RATELIMIT_HEADERS_ENABLED = False
    # When the shared storage (Redis) does not answer, login failures are counted in each
    # process's memory until it answers again (coopreg/auth/login_limits.py): logins keep
    # working, the log and /health say so (coopreg/core/ratelimits.py). Redis is asked with
    # short timeouts, so an outage costs a login a second at most, not a hang.
    RATELIMIT_STORAGE_OPTIONS = {"socket_connect_timeout": 1, "socket_timeout": 1}
    # Failed logins (coopreg/auth/login_limits.py, docs/security.md): per account and address,
    # per account from any address (higher: locking someone out takes many addresses), and per
    # address for any account.
    LOGIN_FAILURES_ALLOWED = os.environ.get("COOPREG_LOGIN_FAILURES", "10 per 15 minutes")
    LOGIN_FAILURES_PER_ACCOUNT = os.environ.get("COOPREG_LOGIN_FAILURES_PER_ACCOUNT",
                                                "50 per 15 minutes")
    LOGIN_FAILURES_PER_ADDRESS = os.environ.get("COOPREG_LOGIN_FAILURES_PER_ADDRESS",
                                                "30 per 15 minutes")
    REDIS_URL = os.environ.get("REDIS_URL")
    # How long an invitation to a cooperative's role (and its link) stays open.
    INVITATION_DAYS = _env_number("COOPREG_INVITATION_DAYS", 7, 1)
    BEHIND_PROXY = _env_bool("COOPREG_BEHIND_PROXY", False)
    HSTS = False

    BABEL_DEFAULT_LOCALE = "en"
    BABEL_DEFAULT_TIMEZONE = "UTC"

    MEMBERS_PER_PAGE = 50
    # members per page of a collection sheet (paged in SQL, like the member list)
    COLLECTION_SHEET_PER_PAGE = 500
    # The list's locality filter is read from the register at most this often per process
    # (a saved member clears it in the process that saved); 0 reads it on every page.
    LOCALITIES_CACHE_SECONDS = _env_number("COOPREG_LOCALITIES_CACHE_SECONDS", 60)
    # Pages of the member list kept rendered per process until the register changes
    # (members/versions.py); 0 renders every page afresh.
    MEMBER_ROWS_CACHE_SIZE = _env_number("COOPREG_MEMBER_ROWS_CACHE_SIZE", 256)
    # The home page's figures over the whole register (coverage, growth, missing documents)
    # are kept per process until the register changes and at most this long; 0 always counts.
    DASHBOARD_CACHE_SECONDS = _env_number("COOPREG_DASHBOARD_CACHE_SECONDS", 300)
    # The largest amount one receipt may be, in the cooperative's currency (major units);
    # above it a receipt is refused as a likely typing slip. 0: no ceiling.
    COOPREG_MAX_RECEIPT_AMOUNT = _env_number("COOPREG_MAX_RECEIPT_AMOUNT", 10_000_000, 0)
    # A member is in arrears when one of their dues is still open more than this many days
    # after its grace period (due date + grace days): the home page's card counts that, and
    # the arrears page opens with it.
    ARREARS_DAYS_PAST_GRACE = _env_number("COOPREG_ARREARS_DAYS_PAST_GRACE", 30)

    # Spreadsheet imports (coopreg/imports): where uploads are kept, and what a file may hold.
    IMPORT_DIR = os.environ.get("COOPREG_IMPORT_DIR", str(INSTANCE_DIR / "imports"))
    COOPREG_IMPORT_MAX_ROWS = _env_number("COOPREG_IMPORT_MAX_ROWS", 200_000, 1)
    COOPREG_IMPORT_MAX_UNCOMPRESSED = (_env_number("COOPREG_IMPORT_MAX_UNCOMPRESSED_MB", 200, 1)
                                       * 1024 * 1024)
    COOPREG_IMPORT_MAX_ZIP_ENTRIES = _env_number("COOPREG_IMPORT_MAX_ZIP_ENTRIES", 10_000, 1)
    COOPREG_IMPORT_MAX_RATIO = _env_number("COOPREG_IMPORT_MAX_RATIO", 100, 1)
    # An upload that never got as far as a preview is removed this long after it was uploaded
    # (`coopreg jobs clean`, docs/security.md); its page says until when it is kept.
    # requests one API token may make (each token its own allowance), read like "600 per minute"
    API_RATE_LIMIT = os.environ.get("COOPREG_API_RATE_LIMIT", "600 per minute")
    PAYMENT_PROVIDERS = _payment_providers()
    MESSAGE_GATEWAYS = _message_gateways()
    # how far a notification's timestamp may be from the server's clock (replays beyond it fail)
    PAYMENT_NOTIFY_WINDOW_SECONDS = _env_number("COOPREG_PAYMENT_NOTIFY_WINDOW_SECONDS", 300, 1)
    # Field mode (coopreg/field, docs/field-mode.md): members downloaded to a phone are wiped
    # from it this many days after the download; photos taken in the field are kept under
    # FIELD_PHOTO_DIR/<cooperative>/<member>/ and may be at most this large once resized.
    FIELD_DATA_DAYS = _env_number("COOPREG_FIELD_DATA_DAYS", 7, 1)
    FIELD_PHOTO_DIR = os.environ.get("COOPREG_FIELD_PHOTO_DIR", str(INSTANCE_DIR / "photos"))
    FIELD_PHOTO_MAX_BYTES = _env_number("COOPREG_FIELD_PHOTO_MAX_KB", 1500, 50) * 1024
    IMPORT_UPLOAD_RETENTION_HOURS = _env_number("COOPREG_IMPORT_UPLOAD_RETENTION_HOURS", 72.0,
                                                0, float)
    # Reminders and confirmations (coopreg/messaging, docs/messaging.md). A channel not set
    # writes its messages to files in MESSAGES_DIR (development).
    MAIL_URL = os.environ.get("COOPREG_MAIL_URL")
    MAIL_FROM = os.environ.get("COOPREG_MAIL_FROM")
    SMS_URL = os.environ.get("COOPREG_SMS_URL")
    SMS_TOKEN = os.environ.get("COOPREG_SMS_TOKEN")
    SMS_PAYLOAD = os.environ.get("COOPREG_SMS_PAYLOAD")
    SMS_ID_FIELD = os.environ.get("COOPREG_SMS_ID_FIELD")
    WHATSAPP_URL = os.environ.get("COOPREG_WHATSAPP_URL")
    WHATSAPP_TOKEN = os.environ.get("COOPREG_WHATSAPP_TOKEN")
    WHATSAPP_PAYLOAD = os.environ.get("COOPREG_WHATSAPP_PAYLOAD")
    WHATSAPP_ID_FIELD = os.environ.get("COOPREG_WHATSAPP_ID_FIELD")
    MESSAGES_DIR = os.environ.get("COOPREG_MESSAGES_DIR", str(INSTANCE_DIR / "outbox"))
    # a failed send is tried again after BACKOFF, 2×, 4×… seconds, up to MAX_ATTEMPTS sends
    MESSAGES_MAX_ATTEMPTS = _env_number("COOPREG_MESSAGES_MAX_ATTEMPTS", 5, 1)
    MESSAGES_BACKOFF_SECONDS = _env_number("COOPREG_MESSAGES_BACKOFF_SECONDS", 60, 1)
    # messages to one member in one day (the one-time codes they ask for not counted)
    MESSAGES_PER_MEMBER_DAY = _env_number("COOPREG_MESSAGES_PER_MEMBER_DAY", 3, 1)
    # no message leaves between these hours (local time of MESSAGES_TIMEZONE), "21-7";
    # one-time codes do: the member is waiting for theirs
    MESSAGES_QUIET_HOURS = os.environ.get("COOPREG_MESSAGES_QUIET_HOURS", "21-7")
    MESSAGES_TIMEZONE = os.environ.get("COOPREG_MESSAGES_TIMEZONE", "UTC")
    # reminders of a due are queued this many days before its due date
    MESSAGES_DUE_REMINDER_DAYS = _env_number("COOPREG_MESSAGES_DUE_REMINDER_DAYS", 3, 0)
    # how often the worker delivers the outbox and queues the day's reminders
    MESSAGES_DELIVER_SECONDS = _env_number("COOPREG_MESSAGES_DELIVER_SECONDS", 30, 1, float)
    JOBS_IMMEDIATE = False
    # A running job's lease: its worker renews it every third of this; when it lapses (the
    # worker died) the job runs again, up to JOBS_MAX_ATTEMPTS runs, then fails with a
    # message and a "Start again" button. Every worker checks every JOBS_SUPERVISE_SECONDS;
    # a queued job no worker took for JOBS_REQUEUE_SECONDS is handed to the queue again.
    JOBS_LEASE_SECONDS = _env_number("COOPREG_JOBS_LEASE_SECONDS", 30, 3)
    JOBS_MAX_ATTEMPTS = _env_number("COOPREG_JOBS_MAX_ATTEMPTS", 3, 1)
    JOBS_SUPERVISE_SECONDS = _env_number("COOPREG_JOBS_SUPERVISE_SECONDS", 10, 1, float)
    JOBS_REQUEUE_SECONDS = _env_number("COOPREG_JOBS_REQUEUE_SECONDS", 120, 1)
    TESTING = False

    @classmethod
    def validate(cls) -> None:
        """Refuse a configuration that cannot run safely."""


class DevelopmentConfig(Config):
    """The default: an office computer or a developer's machine, on SQLite."""

    @classmethod
    def validate(cls) -> None:
        if not cls.SECRET_KEY:
            cls.SECRET_KEY = local_secret_key()
        if not cls.BACKUP_KEY:
            cls.BACKUP_KEY = local_backup_key()


class ProductionConfig(Config):
    """PostgreSQL, several processes, Redis; refuses to start without SECRET_KEY."""

    SESSION_COOKIE_SECURE = True
    SESSION_COOKIE_NAME = "__Host-session"
    REMEMBER_COOKIE_SECURE = True
    HSTS = True

    @classmethod
    def validate(cls) -> None:
        if not cls.SECRET_KEY:
            raise RuntimeError("SECRET_KEY must be set in production (COOPREG_CONFIG=production)")


class TestConfig(Config):
    TESTING = True
    SECRET_KEY = "test-secret-key-not-for-production"  # noqa: S105
    BACKUP_KEY = "test-backup-key-not-for-production"  # noqa: S105
    SQLALCHEMY_DATABASE_URI = os.environ.get("COOPREG_TEST_DATABASE_URL", "sqlite://")
    WTF_CSRF_ENABLED = False
    RATELIMIT_STORAGE_URI = "memory://"
    PASSWORD_HASH_FAST = True  # argon2 at its lowest cost, so the suite stays quick
    JOBS_IMMEDIATE = True  # background jobs run at once, in memory
    LOCALITIES_CACHE_SECONDS = 0  # tests roll back, and ids come back: never serve a stale list
    MEMBER_ROWS_CACHE_SIZE = 0  # the same (tests/members/test_list_cache.py turns it on)
    # tests roll back and token ids come back: a real allowance would carry over between
    # tests (tests/api/test_api_basics.py sets a small one with its own key prefix)
    API_RATE_LIMIT = "100000 per minute"
    DASHBOARD_CACHE_SECONDS = 0  # the same (tests/members/test_list_cache.py turns it on)

    @classmethod
    def validate(cls) -> None:
        return None


CONFIGS = {
    "development": DevelopmentConfig,
    "production": ProductionConfig,
    "test": TestConfig,
}


def config_from_env() -> type[Config]:
    name = os.environ.get("COOPREG_CONFIG", "development")
    try:
        return CONFIGS[name]
    except KeyError:
        raise RuntimeError(
            f"COOPREG_CONFIG={name!r} is not one of {', '.join(sorted(CONFIGS))}"
        ) from None
