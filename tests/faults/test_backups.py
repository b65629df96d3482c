"""Items 7 and 8 of issue 26: a backup carries a manifest signed with the backup key;
`coopreg restore` refuses a forged or altered backup, a sealed file that does not match its
recorded SHA-256, and corrupted compressed data, each with one line; it re-creates and
verifies the append-only triggers; `coopreg check` verifies them on a running database."""

from __future__ import annotations

import hashlib
import hmac
import json
import shutil
import sqlite3
import tarfile

import pytest
from flask_migrate import upgrade

from coopreg.core import appendonly
from coopreg.core.audit import acting_as
from coopreg.core.errors import DomainError
from coopreg.extensions import db
from coopreg.maintenance import backup, restore

pytestmark = pytest.mark.no_transaction


@pytest.fixture(scope="module")
def demo_backup(tmp_path_factory):
    """A backup of demo data (members, receipts, sealed batches), made once for the module."""
    from config import TestConfig
    from coopreg import create_app
    from coopreg.demo.loader import load_demo

    where = tmp_path_factory.mktemp("demo")
    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=f"sqlite:///{where / 'db.sqlite'}",
                     EXPORT_DIR=str(where / "exports"))
    with app.app_context():
        upgrade()
        with acting_as(None, "demo"):
            load_demo(member_count=20)
            db.session.commit()
        db.engine.dispose()
    archive = where / "demo.tar.gz"
    backup(app, archive)
    return where


@pytest.fixture
def file_app(tmp_path, demo_backup):
    """An app on its own copy of the demo database and exports."""
    from config import TestConfig
    from coopreg import create_app

    shutil.copy(demo_backup / "db.sqlite", tmp_path / "db.sqlite")
    shutil.copytree(demo_backup / "exports", tmp_path / "exports")
    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'db.sqlite'}",
                     EXPORT_DIR=str(tmp_path / "exports"))
    yield app
    with app.app_context():
        db.engine.dispose()


def _unpack(archive, into):
    with tarfile.open(archive, "r:gz") as tar:
        tar.extractall(into, filter="data")
    return into


def _pack(unpacked, archive, key: bytes | None = None, rewrite_manifest: bool = False):
    """Tar the unpacked folder again; `rewrite_manifest`: recompute the SHA-256 of each part
    (as a forger would), signed with `key` (a forger does not have the real one)."""
    if rewrite_manifest:
        parts = {p.relative_to(unpacked).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
                 for p in unpacked.rglob("*") if p.is_file()
                 and p.name not in ("manifest.json", "manifest.sig")}
        manifest = json.dumps({"format": 1, "parts": parts}).encode()
        (unpacked / "manifest.json").write_bytes(manifest)
        (unpacked / "manifest.sig").write_text(hmac.new(key, manifest, hashlib.sha256)
                                               .hexdigest())
    with tarfile.open(archive, "w:gz") as tar:
        for path in sorted(unpacked.rglob("*")):
            if path.is_file():
                tar.add(path, arcname=path.relative_to(unpacked).as_posix())
    return archive


def _forge_money(database):
    """Multiply a receipt's amount by 100 and drop the guards that would have stopped it."""
    conn = sqlite3.connect(database)
    with conn:
        for name in appendonly.sqlite_triggers():
            conn.execute(f"DROP TRIGGER IF EXISTS {name}")
        receipt_id, amount = conn.execute(
            "SELECT id, amount_minor FROM receipts ORDER BY id LIMIT 1").fetchone()
        conn.execute("UPDATE receipts SET amount_minor = ? WHERE id = ?",
                     (amount * 100, receipt_id))
    conn.close()  # its -wal and -shm files go with it
    return receipt_id, amount


def _one_line_refusal(app, archive) -> str:
    result = app.test_cli_runner().invoke(args=["restore", "--yes", str(archive)])
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output and result.exception.__class__ is SystemExit
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    return lines[0]


def test_the_list_of_guards_matches_a_migrated_database(app):
    with app.app_context(), db.engine.connect() as conn:
        assert appendonly.problems(conn) == []


def test_restore_refuses_a_forged_backup(file_app, demo_backup, tmp_path):
    before = (tmp_path / "db.sqlite").read_bytes()
    unpacked = _unpack(demo_backup / "demo.tar.gz", tmp_path / "forged")
    _forge_money(unpacked / "coopreg.sqlite")

    # the database changed, the manifest kept: its SHA-256 no longer matches
    line = _one_line_refusal(file_app, _pack(unpacked, tmp_path / "a.tar.gz"))
    assert "coopreg.sqlite does not match its SHA-256 in the manifest" in line
    # a manifest made again by the forger, signed with another key
    line = _one_line_refusal(file_app, _pack(unpacked, tmp_path / "b.tar.gz", b"guess",
                                             rewrite_manifest=True))
    assert "signature does not match COOPREG_BACKUP_KEY" in line
    # no manifest at all
    (unpacked / "manifest.json").unlink()
    (unpacked / "manifest.sig").unlink()
    line = _one_line_refusal(file_app, _pack(unpacked, tmp_path / "c.tar.gz"))
    assert "has no signed manifest" in line
    assert (tmp_path / "db.sqlite").read_bytes() == before, "nothing was restored"


def test_restore_refuses_a_sealed_file_that_does_not_match_its_checksum(file_app, tmp_path):
    sealed = sorted((tmp_path / "exports").rglob("B-*"))
    assert sealed
    sealed[0].chmod(0o644)
    sealed[0].write_bytes(sealed[0].read_bytes() + b" ")  # changed on disk, then backed up
    backup(file_app, tmp_path / "tampered.tar.gz")
    line = _one_line_refusal(file_app, tmp_path / "tampered.tar.gz")
    assert "does not match the SHA-256 recorded when it was sealed" in line
    assert sealed[0].name in line


def test_restore_recreates_and_verifies_the_append_only_triggers(file_app, tmp_path):
    conn = sqlite3.connect(tmp_path / "db.sqlite", isolation_level=None)
    conn.execute("DROP TRIGGER receipts_no_update")  # someone dropped them
    conn.execute("DROP TRIGGER audit_events_no_delete")
    conn.close()
    check = file_app.test_cli_runner().invoke(args=["check"])
    assert "append-only triggers missing or altered (audit_events_no_delete, " \
           "receipts_no_update)" in check.output
    backup(file_app, tmp_path / "signed.tar.gz")

    report = restore(file_app, tmp_path / "signed.tar.gz")
    assert sorted(report["triggers_recreated"]) == ["audit_events_no_delete",
                                                    "receipts_no_update"]
    conn = sqlite3.connect(tmp_path / "db.sqlite", isolation_level=None)
    with pytest.raises(sqlite3.IntegrityError, match="receipts is append-only"):
        conn.execute("UPDATE receipts SET amount_minor = amount_minor * 100")
    conn.close()
    check = file_app.test_cli_runner().invoke(args=["check"])
    assert "append-only" not in check.output
    assert "does not answer" not in check.output, "check reads the database it checks"


def test_restore_refuses_corrupted_compressed_data_in_one_line(file_app, demo_backup,
                                                               tmp_path):
    data = bytearray((demo_backup / "demo.tar.gz").read_bytes())
    middle = len(data) // 2
    data[middle:middle + 64] = bytes(b ^ 0xFF for b in data[middle:middle + 64])
    damaged = tmp_path / "damaged.tar.gz"
    damaged.write_bytes(bytes(data))
    line = _one_line_refusal(file_app, damaged)
    assert "cannot be read (damaged or truncated" in line and "nothing was restored" in line
    truncated = tmp_path / "truncated.tar.gz"
    truncated.write_bytes(bytes(data[:middle]))
    assert "cannot be read" in _one_line_refusal(file_app, truncated)


def test_backup_needs_the_key(file_app, tmp_path):
    file_app.config["BACKUP_KEY"] = None
    with pytest.raises(DomainError, match="COOPREG_BACKUP_KEY is not set"):
        backup(file_app, tmp_path / "x.tar.gz")
    assert not (tmp_path / "x.tar.gz").exists()
