"""A full disk is a fault the person can be told about in one sentence, with nothing left
behind: a file is written under a temporary name and renamed when complete, and when the
disk (or the quota) is full the temporary file is removed and `DiskFull` says so. The app
turns any other ENOSPC into the same message (a 507 page, `install`)."""

from __future__ import annotations

import contextlib
import errno
import logging
import os
from collections.abc import Iterator
from pathlib import Path

from flask import Flask
from flask_babel import gettext as _

from coopreg.core.errors import DomainError

log = logging.getLogger(__name__)

NO_ROOM = (errno.ENOSPC, errno.EDQUOT)


def no_room_message() -> str:
    return _("The server has no room left; nothing was saved. Tell your admin.")


class DiskFull(DomainError):
    """The disk the app writes to is full (or over quota)."""


def is_disk_full(error: BaseException) -> bool:
    return isinstance(error, OSError) and error.errno in NO_ROOM


@contextlib.contextmanager
def temporary_file(temporary: Path, field: str | None = None) -> Iterator[Path]:
    """Write to `temporary` in the block; on any failure it is removed, and a full disk
    becomes `DiskFull`."""
    try:
        yield temporary
    except BaseException as error:
        temporary.unlink(missing_ok=True)
        if is_disk_full(error):
            log.error("no room left on the disk for %s", temporary.parent)
            raise DiskFull(no_room_message(), field=field) from None
        raise


def _write(stream, data: bytes) -> None:
    stream.write(data)
    stream.flush()
    os.fsync(stream.fileno())


def write_atomically(path: Path, data: bytes, field: str | None = None) -> None:
    """`data` into `path`, whole or not at all (nothing left behind either way)."""
    temporary = path.with_name(path.name + f".{os.getpid()}.part")
    with temporary_file(temporary, field):
        with open(temporary, "wb") as stream:
            _write(stream, data)
        os.replace(temporary, path)


def install(app: Flask) -> None:
    """Any ENOSPC that reaches the request (a form's upload spooled to a full /tmp, a write
    not made through `write_atomically`): one clear page instead of a 500."""

    @app.errorhandler(OSError)
    def _no_room(error):
        if not is_disk_full(error):
            raise error
        from flask import render_template

        from coopreg.extensions import db

        db.session.rollback()
        log.error("no room left on the disk: %s", error)
        return render_template("core/error.html", code=507, title=_("No room left"),
                               message=no_room_message()), 507
