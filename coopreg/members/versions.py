"""The register version: a counter on each cooperative that moves on with every write to its
members, in the same transaction as the write. Whatever is built from the register (the
member list's rendered rows, `views.member_rows`) can be kept under the version it was built
at, and is never shown once the register has moved on.

ORM writes are counted by the flush hook below; a bulk write through Core (the spreadsheet
import) calls `register_changed` itself.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import event, update
from sqlalchemy.orm import Session

from coopreg.cooperatives.models import Cooperative, DocumentType
from coopreg.members.models import Member, MemberDocument


def register_changed(session: Session, cooperative_ids: Iterable[int]) -> None:
    """Move the register version of these cooperatives on (inside the session's transaction).
    The cooperative's `updated_at` is left as it is: its settings did not change."""
    ids = sorted(set(cooperative_ids))
    if not ids:
        return
    table = Cooperative.__table__
    session.connection().execute(
        update(table).where(table.c.id.in_(ids))
        .values(register_version=table.c.register_version + 1,
                updated_at=table.c.updated_at))


def register_key(cooperative: Cooperative) -> tuple:
    """The register as it stands, for the key of whatever is kept from it: the cooperative,
    its creation (an id handed out again after a rollback is another cooperative) and its
    register version."""
    return cooperative.id, cooperative.created_at, cooperative.register_version


@event.listens_for(Session, "before_flush")
def _count_register_writes(session: Session, flush_context, instances) -> None:
    # before the members' own statements: the cooperative's row is taken first, the order
    # in which creating a member (its number) and the import take it too
    # a member's documents (and the checklist) are part of the register too: the list's
    # "missing a document" filter and the home page's count are built from them
    kinds = (Member, MemberDocument, DocumentType)
    changed = {obj.cooperative_id for obj in session.new if isinstance(obj, kinds)}
    changed.update(obj.cooperative_id for obj in session.deleted if isinstance(obj, kinds))
    changed.update(obj.cooperative_id for obj in session.dirty
                   if isinstance(obj, kinds) and session.is_modified(obj))
    changed.discard(None)
    register_changed(session, changed)
