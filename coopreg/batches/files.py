"""The exports folder holds only files that a sealed batch records, under the batch's own
name. A sealing writes under a temporary name (`.sealing-<batch id>-…`) and the file takes
the batch's name when the sealing commits; a worker killed in between leaves either a
temporary file (the sealing did not commit) or a sealed batch whose file still has its
temporary name (it did). `tidy_exports`, run when a worker starts and by
`coopreg batches tidy`, finishes the second and moves aside anything no sealed batch
records (`<EXPORT_DIR>/unrecorded/<when>/…`, reported in the log), so nobody picks a file
that was never sent for sending; a retried sealing reuses the batch's name.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from coopreg.batches.models import Batch
from coopreg.core.models import utcnow
from coopreg.core.tenancy import unscoped
from coopreg.core.text import ascii_digits
from coopreg.extensions import db
from coopreg.jobs.files import JOB_FILES

# The folder of the exports where files no sealed batch records are moved aside (never
# deleted: someone may need to see what was there).
UNRECORDED = "unrecorded"

log = logging.getLogger(__name__)

TEMPORARY_PREFIX = ".sealing-"
# a file younger than this may belong to a sealing under way in another process
GRACE_SECONDS = 600


def temporary_prefix(batch_id: int) -> str:
    return f"{TEMPORARY_PREFIX}{batch_id}-"


def _batch_id_of(name: str) -> int | None:
    if not name.startswith(TEMPORARY_PREFIX):
        return None
    number = name[len(TEMPORARY_PREFIX):].split("-", 1)[0]
    return int(number) if ascii_digits(number) else None


def move_aside(export_dir: Path, path: Path) -> Path:
    """Move a file no sealed batch records out of the folder people pick files from."""
    relative = path.relative_to(export_dir)
    target = (export_dir / UNRECORDED / utcnow().strftime("%Y%m%dT%H%M%SZ") / relative)
    target.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path, 0o644)
    shutil.move(path, target)
    log.warning("exports: %s is recorded by no sealed batch; moved to %s", relative,
                target.relative_to(export_dir))
    return target


def free_the_name(export_dir: Path, path: Path, batch_id: int) -> None:
    """Before a batch's file takes its name: a file already there that no other sealed
    batch records is a leftover of a sealing that did not commit, moved aside; one that
    another batch records is never touched (the sealing stops)."""
    if not path.exists():
        return
    relative = path.relative_to(export_dir).as_posix()
    owner = db.session.scalar(select(Batch.id).where(Batch.file_path == relative)
                              .execution_options(**unscoped(
                                  "a path of the exports folder is recorded by one batch at most, "
                                  "whichever cooperative's")))
    if owner is not None and owner != batch_id:
        from flask_babel import gettext as _

        from coopreg.core.errors import DomainError

        raise DomainError(_("The exports folder already has %(name)s, the file of another "
                            "batch; nothing was sealed.", name=relative))
    move_aside(export_dir, path)


@dataclass
class TidyReport:
    completed: list[str] = field(default_factory=list)
    moved_aside: list[str] = field(default_factory=list)


def tidy_exports(export_dir: str | Path, grace_seconds: float = GRACE_SECONDS) -> TidyReport:
    """Finish the sealed batches whose file kept its temporary name, and move aside every
    file (older than the grace) that no sealed batch records."""
    from coopreg.batches.services import sha256_file

    root = Path(export_dir)
    report = TidyReport()
    if not root.is_dir():
        return report
    recorded = {path: (batch_id, digest) for batch_id, path, digest in db.session.execute(
        select(Batch.id, Batch.file_path, Batch.sha256).where(Batch.file_path.is_not(None))
        .execution_options(**unscoped("tidying the exports folder of every cooperative")))}
    by_id = {batch_id: (path, digest) for path, (batch_id, digest) in recorded.items()}
    oldest = time.time() - grace_seconds
    for folder in sorted(p for p in root.iterdir() if p.is_dir()
                         and p.name not in (JOB_FILES, UNRECORDED)):
        for path in sorted(p for p in folder.iterdir() if p.is_file()):
            relative = path.relative_to(root).as_posix()
            if relative in recorded:
                continue
            batch_id = _batch_id_of(path.name)
            if batch_id in by_id:  # committed, not yet renamed: finish it
                final_relative, digest = by_id[batch_id]
                final = root / final_relative
                if not final.exists() and sha256_file(path) == digest:
                    os.replace(path, final)
                    report.completed.append(final_relative)
                    log.warning("exports: %s took its name %s (its sealing had committed)",
                                relative, final_relative)
                    continue
            if path.stat().st_mtime <= oldest:
                move_aside(root, path)
                report.moved_aside.append(relative)
    return report
