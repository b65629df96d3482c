"""Files the app creates are owner-only (0600 files, 0700 folders): the SQLite database and
its journal, uploads, problems files, export files (the attack run found them world-readable).
Sealed batch files: tests/batches/test_batches.py."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
import sqlalchemy as sa

from config import TestConfig
from coopreg import create_app
from coopreg.core.audit import acting_as
from coopreg.extensions import db
from tests.imports.conftest import HEADER, csv_bytes, good_row

pytestmark = pytest.mark.no_transaction


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def loose_umask():
    """The umask of a typical shell (022: files readable by everyone)."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def test_a_new_installation_creates_owner_only_files(tmp_path, loose_umask):
    from flask_migrate import upgrade

    from coopreg.cooperatives.services import create_cooperative
    from coopreg.imports import services as imports

    database = tmp_path / "instance" / "coopreg.sqlite"
    database.parent.mkdir()  # as config.py makes the instance folder (loose umask: 0755)
    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=f"sqlite:///{database}",
                     EXPORT_DIR=str(tmp_path / "exports"), IMPORT_DIR=str(tmp_path / "imports"))
    try:
        with app.app_context():
            upgrade()
            with app.test_request_context(), acting_as(None, "tests"):
                cooperative = create_cooperative("PERM", "Perm", "CR", "CRC")
                run = imports.store_upload(cooperative, None, "socios.csv",
                                           csv_bytes([HEADER, good_row(0)]))
                upload = Path(app.config["IMPORT_DIR"]) / run.stored_name
                db.session.commit()
                db.session.scalar(sa.text("SELECT 1"))  # WAL files exist while connected
                for path in tmp_path.rglob("*"):
                    expected = 0o700 if path.is_dir() else 0o600
                    assert not _mode(path) & 0o077, (path, oct(_mode(path)), oct(expected))
        assert _mode(database) == 0o600
        assert _mode(tmp_path / "exports") == 0o700
        assert _mode(upload) == 0o600 and _mode(upload.parent) == 0o700
    finally:
        with app.app_context():
            db.engine.dispose()


def test_an_existing_installation_is_tightened_at_start(tmp_path, loose_umask):
    database = tmp_path / "coopreg.sqlite"
    database.touch(mode=0o644)
    os.chmod(database, 0o644)
    exports = tmp_path / "exports"
    exports.mkdir(mode=0o755)
    os.chmod(exports, 0o755)  # noqa: S103 - the loose folder the test tightens
    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=f"sqlite:///{database}",
                     EXPORT_DIR=str(exports), IMPORT_DIR=str(tmp_path / "imports"))
    with app.app_context():
        db.engine.dispose()
    assert _mode(database) == 0o600
    assert _mode(exports) == 0o700
    assert _mode(tmp_path / "imports") == 0o700
