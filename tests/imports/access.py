"""Access matrix entries of the imports area (see tests/core/test_access_matrix.py)."""

from __future__ import annotations

from coopreg.extensions import db
from coopreg.imports.models import ImportRun, ImportStatus
from tests.access_levels import EDITORS, OFFICE

ACCESS: dict = {
    "imports.index": EDITORS,
    "imports.template": EDITORS,
    "imports.mapping": EDITORS,
    "imports.view_run": EDITORS,
    "imports.commit": EDITORS,
    "imports.problems": EDITORS,
    "imports.export_members": OFFICE,
}


def make_ids(app, cooperative, factories) -> dict:
    """An import run (no stored file needed: its pages must still answer)."""
    with app.app_context():
        run = ImportRun(cooperative_id=cooperative.id, original_filename="socios.csv",
                        sha256="0" * 64, size_bytes=10, file_format="csv",
                        status=ImportStatus.DRAFT, header_row=1,
                        sample=[["Nombre", "Apellidos"], ["Ana", "Rojas"]], options={})
        db.session.add(run)
        db.session.commit()
        return {"run_id": run.id}
