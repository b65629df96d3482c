"""Backups, restores and the configuration check.

SQLite: `sqlite3.Connection.backup` copies a consistent snapshot while the app keeps running
(the online backup API), and a restore replaces the database file with a checked copy.
PostgreSQL: `pg_dump`/`pg_restore` (see docs/deployment.md); the commands say so instead of
guessing.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from flask import Flask

from coopreg.core.errors import DomainError


def _sqlite_path(app: Flask) -> Path:
    from sqlalchemy.engine import make_url

    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        raise DomainError("backup and restore work on a SQLite file; for PostgreSQL use "
                          "pg_dump and pg_restore (see docs/deployment.md)")
    return Path(url.database)


def backup(app: Flask, target: Path) -> dict:
    """Write a backup archive: a consistent copy of the SQLite database and the exports
    folder (sealed batch files), so checksums can be verified after a restore. The files of
    export jobs (`jobs.tmp/`, kept a few hours for download) are left out."""
    from coopreg.jobs.files import JOB_FILES

    source = _sqlite_path(app)
    if not source.exists():
        raise DomainError(f"there is no database at {source}")
    target = Path(target)
    if target.exists():
        raise DomainError(f"{target} already exists; choose a new file name")
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "coopreg.sqlite"
        with sqlite3.connect(source) as src, sqlite3.connect(copy) as dst:
            src.backup(dst)
        with sqlite3.connect(copy) as check:
            result = check.execute("PRAGMA integrity_check").fetchone()[0]
        if result != "ok":
            raise DomainError(f"the copy failed its integrity check: {result}")
        exports = Path(app.config["EXPORT_DIR"])
        files = 0
        partial = target.with_name(target.name + ".partial")
        with tarfile.open(partial, "w:gz") as archive:
            archive.add(copy, arcname="coopreg.sqlite")
            if exports.exists():
                for path in sorted(exports.rglob("*")):
                    if path.is_file() and path.relative_to(exports).parts[0] != JOB_FILES:
                        archive.add(path, arcname=f"exports/{path.relative_to(exports)}")
                        files += 1
        os.replace(partial, target)
    return {"database": str(source), "export_files": files, "archive": str(target)}


def restore(app: Flask, archive_path: Path) -> dict:
    """Replace the SQLite database and the exports folder with a backup's. The archive is
    checked first (members only at the expected places, database integrity); the current
    database is kept beside it as `<name>.before-restore`."""
    target = _sqlite_path(app)
    archive_path = Path(archive_path)
    if not archive_path.exists():
        raise DomainError(f"there is no file {archive_path}")
    exports = Path(app.config["EXPORT_DIR"])
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        try:
            with tarfile.open(archive_path, "r:gz") as archive:
                names = archive.getnames()
                if "coopreg.sqlite" not in names or any(
                        n != "coopreg.sqlite" and not n.startswith("exports/") for n in names):
                    raise DomainError(f"{archive_path} is not a coopreg backup")
                archive.extractall(tmp_path, filter="data")
        except (tarfile.TarError, OSError, EOFError) as error:
            raise DomainError(f"{archive_path} cannot be read: {error}") from None
        with sqlite3.connect(tmp_path / "coopreg.sqlite") as check:
            result = check.execute("PRAGMA integrity_check").fetchone()[0]
        if result != "ok":
            raise DomainError(f"the backup's database failed its integrity check: {result}")
        from coopreg.extensions import db

        with app.app_context():
            db.engine.dispose()
        if target.exists():
            shutil.copy2(target, target.with_name(target.name + ".before-restore"))
        for suffix in ("-wal", "-shm"):
            Path(str(target) + suffix).unlink(missing_ok=True)
        target.parent.mkdir(parents=True, exist_ok=True)
        with sqlite3.connect(tmp_path / "coopreg.sqlite") as src, sqlite3.connect(target) as dst:
            src.backup(dst)
        restored = 0
        if (tmp_path / "exports").exists():
            for path in sorted((tmp_path / "exports").rglob("*")):
                if path.is_file():
                    destination = exports / path.relative_to(tmp_path / "exports")
                    destination.parent.mkdir(parents=True, exist_ok=True)
                    if destination.exists():
                        destination.chmod(0o644)
                    shutil.copy2(path, destination)
                    restored += 1
    return {"database": str(target), "export_files": restored}


@dataclass
class Finding:
    level: str  # "error" (unsafe or broken) or "warning"
    message: str


def check_configuration(app: Flask) -> list[Finding]:
    """What is missing or unsafe in the running configuration."""
    findings: list[Finding] = []
    config = app.config
    production = config.get("SESSION_COOKIE_SECURE")
    uri = config["SQLALCHEMY_DATABASE_URI"]
    if not config.get("SECRET_KEY") or len(str(config["SECRET_KEY"])) < 32:
        findings.append(Finding("error", "SECRET_KEY is missing or shorter than 32 characters"))
    if production and uri.startswith("sqlite"):
        findings.append(Finding("warning", "production on SQLite: fine for one office "
                                "computer, use PostgreSQL for several app processes"))
    if production and not config.get("REDIS_URL"):
        findings.append(Finding("error", "REDIS_URL is not set: login rate limits are not "
                                "shared between processes and jobs run on a local file"))
    if not production:
        findings.append(Finding("warning", "development configuration: cookies are not "
                                "Secure; set COOPREG_CONFIG=production behind HTTPS"))
    if config.get("WTF_CSRF_ENABLED") is False:
        findings.append(Finding("error", "CSRF protection is off"))
    export_dir = Path(config["EXPORT_DIR"])
    if not os.access(export_dir, os.W_OK):
        findings.append(Finding("error", f"the exports folder {export_dir} is not writable"))
    try:
        from sqlalchemy import text

        from coopreg.extensions import db

        with app.app_context():
            db.session.execute(text("SELECT 1"))
            from alembic.migration import MigrationContext
            from alembic.script import ScriptDirectory
            from flask_migrate import Migrate  # noqa: F401

            with db.engine.connect() as conn:
                current = MigrationContext.configure(conn).get_current_revision()
            script = ScriptDirectory.from_config(
                app.extensions["migrate"].migrate.get_config())
            if current != script.get_current_head():
                findings.append(Finding("error", f"the database is at migration {current}, "
                                        f"the code needs {script.get_current_head()}: run "
                                        "`coopreg db upgrade`"))
    except Exception as error:  # noqa: BLE001 - reported, not raised
        findings.append(Finding("error", f"the database does not answer: {error}"))
    if config.get("REDIS_URL"):
        try:
            import redis

            redis.Redis.from_url(config["REDIS_URL"], socket_timeout=2).ping()
        except Exception as error:  # noqa: BLE001
            findings.append(Finding("error", f"Redis does not answer: {error}"))
    return findings
