"""Item 5 of issue 26: an upload to a full disk says "the server has no room left; nothing
was saved" and leaves no `.part` file behind to keep the disk full. The disk is a 64 KB
tmpfs mounted for the test when the suite may mount one (it runs as root); elsewhere the
write fails with ENOSPC half-way, as it would on a full disk."""

from __future__ import annotations

import errno
import subprocess

import pytest

from coopreg.extensions import db
from coopreg.imports.models import ImportRun


@pytest.fixture
def full_disk(tmp_path, monkeypatch):
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(disk)],
                             capture_output=True).returncode == 0
    if not mounted:
        from coopreg.core import diskspace

        def write_half_then_fail(stream, data):
            stream.write(data[: len(data) // 2])
            stream.flush()
            raise OSError(errno.ENOSPC, "No space left on device")

        monkeypatch.setattr(diskspace, "_write", write_half_then_fail)
    yield disk
    if mounted:
        subprocess.run(["umount", str(disk)], check=True)


def _csv(size: int) -> bytes:
    lines = ["Nombre,Apellido,Cedula,Telefono"]
    n = 0
    while sum(len(line) + 1 for line in lines) < size:
        lines.append(f"Persona{n},Apellido{n},{100000000 + n},8888{n:04d}")
        n += 1
    return ("\n".join(lines) + "\n").encode()


def test_an_upload_to_a_full_disk_says_so_and_leaves_nothing(app, as_role, full_disk,
                                                              monkeypatch):
    import io

    monkeypatch.setitem(app.config, "IMPORT_DIR", str(full_disk))
    client = as_role("secretary")
    response = client.post("/imports/", data={"file": (io.BytesIO(_csv(200_000)),
                                                       "members.csv")},
                           content_type="multipart/form-data")
    body = response.get_data(as_text=True)
    assert response.status_code == 422, body[:500]
    assert "The server has no room left; nothing was saved." in body
    left = [p.name for p in full_disk.rglob("*") if p.is_file()]
    assert left == [], f"left behind: {left}"
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(ImportRun)) == 0


def test_any_other_full_disk_is_a_clear_page_not_a_500(app, as_role, monkeypatch):
    """A write the app did not make through `write_atomically` (e.g. a form's upload spooled
    to a full /tmp): the same sentence, 507."""
    from coopreg.members import views as member_views

    client = as_role("secretary")

    def no_room(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(member_views, "render_template", no_room)
    response = client.get("/members/")
    assert response.status_code == 507
    assert "The server has no room left; nothing was saved." in response.get_data(as_text=True)
