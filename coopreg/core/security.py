"""Security headers on every response, where a redirect may lead, SQLite's safe connection
settings, and files created owner-only."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import unquote, urlsplit

from flask import Flask, Response, request
from sqlalchemy import event
from sqlalchemy.engine import Engine

CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
       "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")


def _odd(text: str) -> bool:
    return "\\" in text or any(ord(c) < 32 or ord(c) == 127 for c in text)


def safe_next(target: str | None) -> str | None:
    """A `next` the app may redirect to: a path of this site ("/members/?q=Ana"), or None.
    Refused: a scheme or host ("https://x", "//x"), a backslash ("/\\x" is "//x" to browsers),
    control characters (a line break would split the Location header), also when
    percent-encoded, and anything longer than an address the app makes."""
    if not target or len(target) > 2000 or not target.startswith("/"):
        return None
    decoded = unquote(target)
    if _odd(target) or _odd(decoded) or target.startswith("//") or decoded.startswith("//"):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def add_security_headers(app: Flask) -> None:
    @app.after_request
    def _headers(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        response.headers.setdefault("Permissions-Policy",
                                    "camera=(), microphone=(), geolocation=()")
        if request.endpoint != "static":
            # pages carry personal data: never kept in a shared computer's cache
            response.headers.setdefault("Cache-Control", "no-store")
        if app.config.get("HSTS"):
            response.headers.setdefault("Strict-Transport-Security",
                                        "max-age=31536000; includeSubDomains")
        return response


def read_pages_without_the_write_lock(app: Flask) -> None:
    """On SQLite a GET (a page, a list, a progress poll) reads in a deferred transaction: one
    WAL snapshot, no write lock, so pages are served side by side and never queue behind a
    long save. Views write only on POST; a GET that did write would take the lock then."""
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        return

    @app.before_request
    def _deferred_for_reads():
        if request.method in ("GET", "HEAD") and request.endpoint not in (None, "static"):
            from coopreg.extensions import db

            if not db.session().in_transaction():  # nothing read yet: nothing to end
                read_only_transaction()


def read_only_transaction() -> None:
    """Read from here on in a deferred transaction: on SQLite one consistent WAL snapshot
    without the write lock (elsewhere an ordinary transaction). Ends the transaction open
    now, if any (on SQLite a `BEGIN IMMEDIATE`, which holds the write lock): an export job
    or a page, which write nothing, then block no one else's work."""
    from coopreg.extensions import db

    db.session.rollback()
    db.session.connection(execution_options={"sqlite_read_only": True})


def configure_sqlite(engine: Engine) -> None:
    """SQLite is unsafe by default: foreign keys off, no write lock taken up front.
    Turn keys on, use WAL, wait for locks, and take the write lock at BEGIN (SQLAlchemy's
    documented recipe) so writers serialise instead of failing half-way."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, connection_record):
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        # a unit of work that only reads (an export job) asks for a deferred BEGIN: it reads
        # one WAL snapshot without the write lock, so the office is not kept waiting
        if conn.get_execution_options().get("sqlite_read_only"):
            conn.exec_driver_sql("BEGIN")
        else:
            conn.exec_driver_sql("BEGIN IMMEDIATE")


# Files the app creates (the SQLite database and its journal, uploads, problems files, batch
# files, export files, backups) are readable by the account the app runs as only: 0600 files,
# 0700 folders. They hold national ID numbers, incomes and money.
PRIVATE_UMASK = 0o077
PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600


def private_dir(path: str | Path) -> Path:
    """Make a folder (and its missing parents) readable by the app's account only."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR_MODE)
    if path.stat().st_mode & 0o077:
        path.chmod(PRIVATE_DIR_MODE)
    return path


def keep_files_private(app: Flask) -> None:
    """At start: files created from now on are owner-only (the process's umask, so every
    writer is covered, including SQLite's own journal files and libraries that write files),
    and the folders and SQLite database of an existing installation are tightened."""
    os.umask(PRIVATE_UMASK)
    for key in ("EXPORT_DIR", "IMPORT_DIR"):
        if app.config.get(key):
            private_dir(app.config[key])
    from sqlalchemy.engine import make_url

    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        database = Path(url.database)
        # a missing folder is not made here: it may be a disk that is not mounted, and an empty
        # database in its place would hide the fault (the app answers 503 until it is back)
        if database.parent.is_dir():
            private_dir(database.parent)
        if database.parent.is_dir() and not database.exists():
            # created empty here, owner-only; SQLite gives its -wal and -shm files the same
            os.close(os.open(database, os.O_CREAT | os.O_WRONLY, PRIVATE_FILE_MODE))
        for path in (database, Path(f"{database}-wal"), Path(f"{database}-shm")):
            if path.exists() and path.stat().st_mode & 0o077:
                path.chmod(PRIVATE_FILE_MODE)
