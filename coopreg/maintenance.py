"""Backups, restores and the configuration check.

SQLite: `sqlite3.Connection.backup` copies a consistent snapshot while the app keeps running
(the online backup API), and a restore replaces the database file with a checked copy.
PostgreSQL: `pg_dump`/`pg_restore` (see docs/deployment.md); the commands say so instead of
guessing.
"""

from __future__ import annotations

import gzip
import hashlib
import hmac
import io
import json
import os
import shutil
import sqlite3
import tarfile
import tempfile
import time
import zlib
from dataclasses import dataclass
from pathlib import Path

from flask import Flask

from coopreg.batches.files import UNRECORDED  # left out of backups
from coopreg.batches.services import sha256_file
from coopreg.core.errors import DomainError
from coopreg.core.models import utcnow


def _sqlite_path(app: Flask) -> Path:
    from sqlalchemy.engine import make_url

    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        raise DomainError("backup and restore work on a SQLite file; for PostgreSQL use "
                          "pg_dump and pg_restore (see docs/deployment.md)")
    return Path(url.database)


MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"
DATABASE = "coopreg.sqlite"


def _backup_key(app: Flask) -> bytes:
    key = app.config.get("BACKUP_KEY")
    if not key:
        raise DomainError("COOPREG_BACKUP_KEY is not set: backups are signed with it and "
                          "restores check the signature (see docs/deployment.md)")
    return str(key).encode()


def _sign(key: bytes, manifest: bytes) -> str:
    return hmac.new(key, manifest, hashlib.sha256).hexdigest()


def backup(app: Flask, target: Path) -> dict:
    """Write a backup archive: a consistent copy of the SQLite database and the exports
    folder (sealed batch files), so checksums can be verified after a restore, and a
    manifest (the SHA-256 of each part) signed with HMAC-SHA256 under `BACKUP_KEY`, so a
    restore can tell the archive is the one made here, unchanged. The files of export jobs
    (`jobs.tmp/`, kept a few hours for download) and files moved aside as unrecorded are
    left out."""
    from coopreg.jobs.files import JOB_FILES

    key = _backup_key(app)
    source = _sqlite_path(app)
    if not source.exists():
        raise DomainError(f"there is no database at {source}")
    target = Path(target)
    if target.exists():
        raise DomainError(f"{target} already exists; choose a new file name")
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / DATABASE
        with sqlite3.connect(source) as src, sqlite3.connect(copy) as dst:
            src.backup(dst)
        with sqlite3.connect(copy) as check:
            result = check.execute("PRAGMA integrity_check").fetchone()[0]
        if result != "ok":
            raise DomainError(f"the copy failed its integrity check: {result}")
        exports = Path(app.config["EXPORT_DIR"])
        parts = {DATABASE: sha256_file(copy)}
        partial = target.with_name(target.name + ".partial")
        try:
            with tarfile.open(partial, "w:gz") as archive:
                archive.add(copy, arcname=DATABASE)
                if exports.exists():
                    for path in sorted(exports.rglob("*")):
                        relative = path.relative_to(exports)
                        if path.is_file() and relative.parts[0] not in (JOB_FILES, UNRECORDED):
                            name = f"exports/{relative.as_posix()}"
                            parts[name] = sha256_file(path)
                            archive.add(path, arcname=name)
                manifest = json.dumps({"format": 1, "created_at": utcnow().isoformat(),
                                       "parts": parts}, indent=1, sort_keys=True).encode()
                for name, data in ((MANIFEST, manifest),
                                   (SIGNATURE, _sign(key, manifest).encode())):
                    info = tarfile.TarInfo(name)
                    info.size = len(data)
                    info.mtime = int(time.time())
                    archive.addfile(info, io.BytesIO(data))
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        os.replace(partial, target)
    return {"database": str(source), "export_files": len(parts) - 1, "archive": str(target)}


def _extract(archive_path: Path, into: Path) -> None:
    """Unpack a backup, every member at an expected place; any damage is one clear line."""
    try:
        # the whole compressed stream first, to its CRC: tar stops reading at its end marker,
        # and damage after a false one would pass unseen
        with gzip.open(archive_path, "rb") as stream:
            while stream.read(1024 * 1024):
                pass
        with tarfile.open(archive_path, "r:gz") as archive:
            members = archive.getmembers()
            names = [m.name for m in members]
            if DATABASE not in names or any(
                    n not in (DATABASE, MANIFEST, SIGNATURE) and not n.startswith("exports/")
                    for n in names) or any(not (m.isfile() or m.isdir()) for m in members):
                raise DomainError(f"{archive_path} is not a coopreg backup")
            archive.extractall(into, filter="data")
    except DomainError:
        raise
    except (tarfile.TarError, OSError, EOFError, zlib.error) as error:
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise DomainError(f"{archive_path} cannot be read (damaged or truncated: {reason}); "
                          "nothing was restored") from None


def _verify_manifest(archive_path: Path, unpacked: Path, key: bytes) -> None:
    manifest_path, signature_path = unpacked / MANIFEST, unpacked / SIGNATURE
    if not manifest_path.is_file() or not signature_path.is_file():
        raise DomainError(f"{archive_path} has no signed manifest (not made by `coopreg "
                          "backup` of this version); nothing was restored")
    manifest = manifest_path.read_bytes()
    if not hmac.compare_digest(_sign(key, manifest),
                               signature_path.read_text(errors="replace").strip()):
        raise DomainError(f"{archive_path}: the manifest's signature does not match "
                          "COOPREG_BACKUP_KEY (a forged or altered backup, or another key); "
                          "nothing was restored")
    try:
        parts = json.loads(manifest)["parts"]
    except (ValueError, KeyError, TypeError):
        raise DomainError(f"{archive_path}: the manifest cannot be read; nothing was "
                          "restored") from None
    present = {p.relative_to(unpacked).as_posix() for p in unpacked.rglob("*") if p.is_file()}
    present -= {MANIFEST, SIGNATURE}
    if present != set(parts):
        odd = sorted(present ^ set(parts))[0]
        raise DomainError(f"{archive_path}: {odd} is missing or not in the manifest; "
                          "nothing was restored")
    for name, digest in sorted(parts.items()):
        if sha256_file(unpacked / name) != digest:
            raise DomainError(f"{archive_path}: {name} does not match its SHA-256 in the "
                              "manifest; nothing was restored")


def _verify_sealed_files(archive_path: Path, unpacked: Path, database: sqlite3.Connection
                         ) -> None:
    """Every sealed batch's file is in the backup and matches the SHA-256 recorded at
    sealing."""
    try:
        rows = database.execute("SELECT reference, file_path, sha256 FROM batches "
                                "WHERE file_path IS NOT NULL").fetchall()
    except sqlite3.OperationalError:
        return  # a database from before batches
    for reference, file_path, digest in rows:
        path = (unpacked / "exports" / file_path).resolve()
        if (unpacked / "exports").resolve() not in path.parents or not path.is_file():
            raise DomainError(f"{archive_path}: the file of sealed batch {reference} "
                              f"({file_path}) is not in the backup; nothing was restored")
        if sha256_file(path) != digest:
            raise DomainError(f"{archive_path}: the file of sealed batch {reference} "
                              f"({file_path}) does not match the SHA-256 recorded when it was "
                              "sealed; nothing was restored")


def _guard_money_rows(archive_path: Path, database: sqlite3.Connection) -> list[str]:
    """Re-create the append-only triggers the migrations made, then verify them."""
    from coopreg.core import appendonly

    remade = appendonly.recreate_sqlite(database)
    database.commit()
    found = dict(database.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger'").fetchall())
    tables = {row[0] for row in database.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table'")}
    for name, sql in appendonly.sqlite_triggers().items():
        if appendonly._table_of(sql) in tables and (
                appendonly._normal(found.get(name)) != appendonly._normal(sql)):
            raise DomainError(f"{archive_path}: the append-only trigger {name} could not be "
                              "re-created; nothing was restored")
    return remade


def restore(app: Flask, archive_path: Path) -> dict:
    """Replace the SQLite database and the exports folder with a backup's, after checking
    everything and changing nothing until all is checked: the members of the archive (only
    at the expected places), the manifest's HMAC-SHA256 signature under `BACKUP_KEY`, the
    SHA-256 of every part, the database's integrity, every sealed batch's file against the
    SHA-256 recorded at sealing; the append-only triggers are re-created and verified. The
    current database is kept beside it as `<name>.before-restore`."""
    target = _sqlite_path(app)
    archive_path = Path(archive_path)
    if not archive_path.exists():
        raise DomainError(f"there is no file {archive_path}")
    key = _backup_key(app)
    exports = Path(app.config["EXPORT_DIR"])
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        _extract(archive_path, tmp_path)
        _verify_manifest(archive_path, tmp_path, key)
        database = sqlite3.connect(tmp_path / DATABASE)
        try:
            try:
                result = database.execute("PRAGMA integrity_check").fetchone()[0]
            except sqlite3.DatabaseError as error:
                result = str(error)
            if result != "ok":
                raise DomainError(f"the backup's database failed its integrity check: "
                                  f"{result}")
            _verify_sealed_files(archive_path, tmp_path, database)
            remade = _guard_money_rows(archive_path, database)
        finally:
            database.close()
        from coopreg.extensions import db

        with app.app_context():
            db.engine.dispose()
        if target.exists():
            shutil.copy2(target, target.with_name(target.name + ".before-restore"))
        for suffix in ("-wal", "-shm"):
            Path(str(target) + suffix).unlink(missing_ok=True)
        target.parent.mkdir(parents=True, exist_ok=True)
        with sqlite3.connect(tmp_path / DATABASE) as src, sqlite3.connect(target) as dst:
            src.backup(dst)
        restored = 0
        if (tmp_path / "exports").exists():
            for path in sorted((tmp_path / "exports").rglob("*")):
                if path.is_file():
                    destination = exports / path.relative_to(tmp_path / "exports")
                    destination.parent.mkdir(parents=True, exist_ok=True)
                    if destination.exists():
                        destination.chmod(0o600)
                    shutil.copy2(path, destination)
                    destination.chmod(0o400)  # sealed files stay read-only, owner-only
                    restored += 1
    return {"database": str(target), "export_files": restored, "triggers_recreated": remade}


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
    if production and not config.get("BACKUP_KEY"):
        findings.append(Finding("warning", "COOPREG_BACKUP_KEY is not set: `coopreg backup` "
                                "and `coopreg restore` refuse to run without it"))
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

            # the session's own connection: a second one would wait for the first's lock
            # on SQLite ("database is locked")
            current = MigrationContext.configure(db.session.connection()
                                                 ).get_current_revision()
            script = ScriptDirectory.from_config(
                app.extensions["migrate"].migrate.get_config())
            from coopreg.core import appendonly

            missing = appendonly.problems(db.session.connection())
            if missing:
                findings.append(Finding("error", "append-only triggers missing or altered "
                                        f"({', '.join(missing)}): money rows can be changed; "
                                        "restore them (see docs/deployment.md)"))
            if current != script.get_current_head():
                findings.append(Finding("error", f"the database is at migration {current}, "
                                        f"the code needs {script.get_current_head()}: run "
                                        "`coopreg db upgrade`"))
    except Exception as error:  # noqa: BLE001 - reported, not raised
        findings.append(Finding("error", f"the database does not answer: {error}"))
    from coopreg.messaging.channels import describe_channels

    for channel, how, real in describe_channels(config):
        if how.startswith("misconfigured"):
            findings.append(Finding("error", f"messages by {channel}: {how}"))
        elif real:
            findings.append(Finding("info", f"messages by {channel}: {how}"))
        else:
            findings.append(Finding("warning" if production else "info",
                                    f"messages by {channel}: not configured, written to "
                                    f"{how.removeprefix('file ')} (development)"))
    if config.get("REDIS_URL"):
        try:
            import redis

            redis.Redis.from_url(config["REDIS_URL"], socket_timeout=2).ping()
        except Exception as error:  # noqa: BLE001
            findings.append(Finding("error", f"Redis does not answer: {error}"))
    return findings
