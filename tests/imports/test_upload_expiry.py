"""Uploads never previewed are removed after IMPORT_UPLOAD_RETENTION_HOURS, by `coopreg jobs
clean`; their pages say until when they are kept (the attack run found them kept forever)."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from coopreg.core.audit import AuditEvent
from coopreg.core.models import utcnow
from coopreg.extensions import db
from coopreg.imports import services
from coopreg.imports.models import ImportRun, ImportStatus
from tests.imports.conftest import HEADER, csv_bytes, good_row


def _upload(client, data: bytes, name: str = "socios.csv") -> int:
    response = client.post("/imports/", data={"file": (io.BytesIO(data), name)},
                           content_type="multipart/form-data")
    assert response.status_code == 302
    return int(re.search(r"/imports/(\d+)", response.headers["Location"]).group(1))


def _age(app, run_id: int, hours: float) -> Path:
    with app.app_context():
        run = db.session.get(ImportRun, run_id)
        run.created_at = utcnow() - timedelta(hours=hours)
        db.session.commit()
        return Path(app.config["IMPORT_DIR"]) / run.stored_name


def test_the_pages_say_when_an_upload_expires(app, as_role):
    client = as_role("secretary")
    run_id = _upload(client, csv_bytes([HEADER, good_row(0)]))
    for path in (f"/imports/{run_id}", f"/imports/{run_id}/mapping"):
        page = client.get(path).get_data(as_text=True)
        assert "The uploaded file is kept until" in page, path


def test_an_old_upload_never_previewed_is_removed_by_jobs_clean(app, as_role):
    client = as_role("secretary")
    old = _upload(client, csv_bytes([HEADER, good_row(0)]), "old.csv")
    fresh = _upload(client, csv_bytes([HEADER, good_row(1)]), "fresh.csv")
    old_file = _age(app, old, 73)
    fresh_file = _age(app, fresh, 1)
    assert old_file.is_file() and fresh_file.is_file()

    result = app.test_cli_runner().invoke(args=["jobs", "clean"])
    assert result.exit_code == 0, result.output
    assert "1 upload(s) never previewed removed" in result.output
    assert not old_file.exists()
    assert fresh_file.is_file()
    with app.app_context():
        run = db.session.get(ImportRun, old)
        assert run.stored_name is None and run.status == ImportStatus.DRAFT
        event = db.session.scalars(select(AuditEvent).where(
            AuditEvent.entity == "import_runs", AuditEvent.entity_id == old,
            AuditEvent.action == "update")).all()[-1]
        assert event.cooperative_id == run.cooperative_id and event.actor_label == "cli"
        assert "stored_name" in event.changes
    page = client.get(f"/imports/{old}").get_data(as_text=True)
    assert "upload the file again" in page
    assert "kept until" not in page


def test_a_file_shared_with_a_live_upload_stays(app, as_role):
    client = as_role("secretary")
    data = csv_bytes([HEADER, good_row(2)])
    old = _upload(client, data)
    again = _upload(client, data)  # same SHA-256: one file on disk
    path = _age(app, old, 100)
    with app.app_context():
        assert services.expire_uploads() == 1
        db.session.commit()
        assert db.session.get(ImportRun, again).stored_name is not None
    assert path.is_file()


def test_previewed_uploads_are_not_expired(ctx, cr):
    run = services.store_upload(cr, None, "socios.csv", csv_bytes([HEADER, good_row(3)]))
    run.status = ImportStatus.PREVIEWED
    run.created_at = utcnow() - timedelta(days=30)
    db.session.flush()
    assert services.expire_uploads() == 0
    assert services.upload_expires_at(run) is None
