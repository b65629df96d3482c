"""What the field mode keeps on the server: the keys of the records phones have sent (so a
record sent twice is done once) and the photos taken in the field."""

from __future__ import annotations

import enum

from flask_babel import lazy_gettext as _l
from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from coopreg.core.labels import labels_for
from coopreg.core.models import CooperativeOwned, TimestampMixin, enum_column
from coopreg.extensions import db


class PhotoKind(enum.StrEnum):
    ID_DOCUMENT = "id_document"
    CONSENT_FORM = "consent_form"


PHOTO_KIND_LABELS = labels_for(PhotoKind, {PhotoKind.ID_DOCUMENT: _l("ID document"),
                                           PhotoKind.CONSENT_FORM: _l("Signed consent form")})


class FieldSyncKey(CooperativeOwned, TimestampMixin, db.Model):
    """A record a phone sent, under the key the phone made for it (unique per cooperative):
    the first final answer (created, or refused and why) is kept and given again to any
    replay, so a retry never does the record twice. A conflict is not final (nothing was
    done) and is not kept: the user chooses, and the phone sends the record again."""

    __tablename__ = "field_sync_keys"
    __table_args__ = (UniqueConstraint("cooperative_id", "key"),)

    cooperative_index = False
    key: Mapped[str] = mapped_column(String(80))
    kind: Mapped[str] = mapped_column(String(20))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    outcome: Mapped[str] = mapped_column(String(20))
    # the answer given the first time, as JSON (ids and numbers, never personal data)
    answer: Mapped[str] = mapped_column(Text)

    def __repr__(self) -> str:
        return f"<FieldSyncKey {self.key} {self.kind}: {self.outcome}>"


class FieldPhoto(CooperativeOwned, TimestampMixin, db.Model):
    """A photo taken in the field of a member's ID document or signed consent form, checked
    to be a real image and stored under the cooperative's folder; the checklist item it
    stands for is ticked when it arrives."""

    __tablename__ = "field_photos"
    __audited__ = True

    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    kind: Mapped[PhotoKind] = mapped_column(enum_column(PhotoKind))
    document_type_id: Mapped[int | None] = mapped_column(ForeignKey("document_types.id"))
    path: Mapped[str] = mapped_column(String(300))
    content_type: Mapped[str] = mapped_column(String(40))
    size: Mapped[int] = mapped_column(Integer)
    taken_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    def __repr__(self) -> str:
        return f"<FieldPhoto {self.kind} of member {self.member_id}>"
