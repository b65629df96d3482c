"""Backups restore into an empty database with every member and export file intact; the
configuration check reports what is unsafe."""

from __future__ import annotations

import hashlib
import sqlite3

import pytest
from flask_migrate import upgrade

from coopreg.auth import services as auth_services
from coopreg.cooperatives.services import create_cooperative
from coopreg.core.audit import acting_as
from coopreg.extensions import db
from coopreg.maintenance import backup, check_configuration, restore
from coopreg.members import services as member_services
from tests.conftest import member_data, run_together

pytestmark = pytest.mark.no_transaction


@pytest.fixture
def file_app(tmp_path):
    """An app on a SQLite file (backups are of files), with its own exports folder."""
    from config import TestConfig
    from coopreg import create_app

    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'db.sqlite'}",
                     EXPORT_DIR=str(tmp_path / "exports"))
    with app.app_context():
        upgrade()
    yield app
    with app.app_context():
        db.engine.dispose()


def _count(app, table: str) -> int:
    with app.app_context():
        return db.session.execute(db.text(f"SELECT count(*) FROM {table}")).scalar()


def test_backup_then_restore_into_an_empty_database(file_app, tmp_path):
    app = file_app
    with app.app_context(), acting_as(None, "tests"):
        cooperative = create_cooperative("BK", "Backup coop", "CR", "CRC")
        for n in range(25):
            member_services.create_member(cooperative, member_data(second_last_name=f"B{n}"),
                                          confirm_duplicate=True)
        auth_services.create_user("bk@example.org", "Bk", "a long backup passphrase")
        db.session.commit()
    sealed = tmp_path / "exports" / "BK" / "B-000001-enrolment.csv"
    sealed.parent.mkdir(parents=True)
    sealed.write_bytes(b"id;name\n0102340567;Nunez\n")
    digest = hashlib.sha256(sealed.read_bytes()).hexdigest()
    # an export job's file is kept for a few hours only: not part of a backup
    job_file = tmp_path / "exports" / "jobs.tmp" / "1" / "job-1.xlsx"
    job_file.parent.mkdir(parents=True)
    job_file.write_bytes(b"temporary")
    members, audit = _count(app, "members"), _count(app, "audit_events")

    archive = tmp_path / "backup.tar.gz"
    report = backup(app, archive)
    assert report["export_files"] == 1
    job_file.unlink()

    # an empty database and no exports: as on a new machine
    (tmp_path / "db.sqlite").unlink()
    sealed.unlink()
    with app.app_context():
        db.engine.dispose()
    restore(app, archive)
    assert _count(app, "members") == members == 25
    assert _count(app, "audit_events") == audit
    assert _count(app, "users") == 1
    assert hashlib.sha256(sealed.read_bytes()).hexdigest() == digest
    assert not job_file.exists()


def test_backup_while_writers_are_busy_is_consistent(file_app, tmp_path):
    app = file_app
    with app.app_context(), acting_as(None, "tests"):
        cooperative_id = create_cooperative("BW", "Busy", "CR", "CRC").id
        db.session.commit()

    def work(i):
        if i == 0:
            return backup(app, tmp_path / "busy.tar.gz")
        for n in range(10):
            with app.app_context(), acting_as(None, "tests"):
                from coopreg.cooperatives.models import Cooperative
                coop = db.session.get(Cooperative, cooperative_id)
                member_services.create_member(coop, member_data(second_last_name=f"W{i}-{n}"),
                                              confirm_duplicate=True)
                db.session.commit()
        return "ok"

    results = run_together(3, work)
    assert not [r for r in results if isinstance(r, Exception)], results
    import tarfile
    with tarfile.open(tmp_path / "busy.tar.gz") as archive:
        archive.extract("coopreg.sqlite", tmp_path / "x", filter="data")
    with sqlite3.connect(tmp_path / "x" / "coopreg.sqlite") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        members = conn.execute("SELECT count(*) FROM members").fetchone()[0]
        audited = conn.execute(
            "SELECT count(*) FROM audit_events WHERE entity='members'").fetchone()[0]
    assert members == audited, "a member and its audit event are in the same transaction"


def test_restore_refuses_something_that_is_not_a_backup(file_app, tmp_path):
    from coopreg.core.errors import DomainError
    bogus = tmp_path / "bogus.tar.gz"
    bogus.write_bytes(b"not a tar")
    with pytest.raises(DomainError, match="cannot be read"):
        restore(file_app, bogus)
    with pytest.raises(DomainError, match="no file"):
        restore(file_app, tmp_path / "missing.tar.gz")


def test_backup_refuses_to_overwrite(file_app, tmp_path):
    from coopreg.core.errors import DomainError
    (tmp_path / "exists.tar.gz").write_bytes(b"x")
    with pytest.raises(DomainError, match="already exists"):
        backup(file_app, tmp_path / "exists.tar.gz")


def test_check_reports_development_and_csrf(file_app):
    findings = {f.message for f in check_configuration(file_app)}
    assert any("development configuration" in m for m in findings)
    assert any("CSRF protection is off" in m for m in findings)  # TestConfig turns it off
    assert not any("migration" in m for m in findings)


def test_cli_backup_and_check(file_app, tmp_path):
    runner = file_app.test_cli_runner()
    result = runner.invoke(args=["backup", str(tmp_path / "cli.tar.gz")])
    assert result.exit_code == 0, result.output
    again = runner.invoke(args=["backup", str(tmp_path / "cli.tar.gz")])
    assert again.exit_code == 1 and "already exists" in again.output
    check = runner.invoke(args=["check"])
    assert check.exit_code == 1 and "CSRF protection is off" in check.output


def test_restore_brings_back_members_receipts_and_sealed_batches_with_checksums(file_app,
                                                                                tmp_path):
    import shutil

    from coopreg.batches.models import Batch
    from coopreg.batches.services import verified_file
    from coopreg.contributions.models import Receipt
    from coopreg.demo.loader import load_demo

    app = file_app
    with app.app_context(), acting_as(None, "demo"):
        load_demo(member_count=20)
        db.session.commit()
    counts = {table: _count(app, table) for table in ("members", "receipts", "allocations",
                                                      "batches", "batch_lines", "dues",
                                                      "audit_events")}
    assert counts["receipts"] > 0 and counts["batches"] > 0
    archive = tmp_path / "full.tar.gz"
    backup(app, archive)

    (tmp_path / "db.sqlite").unlink()
    shutil.rmtree(tmp_path / "exports")
    with app.app_context():
        db.engine.dispose()
    restore(app, archive)
    assert {table: _count(app, table) for table in counts} == counts
    with app.app_context():
        sealed = [b for b in db.session.scalars(db.select(Batch)) if b.is_sealed]
        assert sealed
        for batch in sealed:
            content, _name = verified_file(batch, app.config["EXPORT_DIR"])
            assert content, batch.reference
        assert db.session.scalar(db.select(db.func.sum(Receipt.amount_minor))) > 0
