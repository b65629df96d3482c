"""The field mode's rules: what a phone may download, and each record it sends back done once
through the register's and the ledger's own services (members: create, update, documents;
contributions: record a receipt), with the answer kept under the phone's key.

A record sent again with the same key gets the first answer again and does nothing; a member
changed at the office since the phone downloaded it is a conflict (both versions given back,
nothing done) unless the user chose to keep theirs (`force`); a broken rule is refused with
its reason, in the user's language."""

from __future__ import annotations

import io
import json
import re
import uuid
import warnings
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from coopreg.cooperatives.models import Cooperative, DocumentType
from coopreg.core.errors import DomainError
from coopreg.core.money import from_minor
from coopreg.core.security import private_dir
from coopreg.core.tenancy import get_scoped
from coopreg.core.text import fold
from coopreg.extensions import db
from coopreg.field.models import FieldPhoto, FieldSyncKey, PhotoKind
from coopreg.members import services as members
from coopreg.members.models import Member, MemberStatus
from coopreg.members.national_ids import mask_id

KEY = re.compile(r"[A-Za-z0-9-]{8,80}")
# what one download may hold: a phone keeps a few localities, not the register
DOWNLOAD_LIMIT = 5000
MEMBER_FIELDS = ("member_number", "first_name", "middle_name", "last_name", "second_last_name",
                 "sex", "date_of_birth", "id_type", "id_number", "phone", "address",
                 "locality", "sector", "occupation", "declared_income", "joined_on",
                 "consent_given", "consent_date", "consent_method", "language", "notes")
PHOTO_TYPES = {"JPEG": ("image/jpeg", "jpg"), "PNG": ("image/png", "png"),
               "WEBP": ("image/webp", "webp")}
PHOTO_MAX_PIXELS = 4096
# The ledger's own ways of recording a receipt and naming a payment method (contributions sits
# on this area's layer, so the app factory connects them: `coopreg._connect_areas`):
# "record_receipt" (cooperative, ReceiptInput, actor id) -> (receipt, created);
# "receipt_input" builds its ReceiptInput; "method_choices" () -> [(value, label)];
# "owed" (cooperative id, member ids, day) -> {member id: minor units owed} (collection sheet).
LEDGER: dict[str, Callable[..., Any]] = {}


class Conflict(Exception):
    """The member changed at the office since the phone's copy; nothing was done."""

    def __init__(self, office: dict[str, Any], message: str):
        super().__init__(message)
        self.office = office
        self.message = message


def member_values(member: Member, currency: str) -> dict[str, Any]:
    """A member's details as the member form holds them (what an update starts from)."""
    values: dict[str, Any] = {}
    for name in MEMBER_FIELDS:
        if name == "declared_income":
            amount = from_minor(member.declared_income_minor, currency)
            values[name] = "" if amount is None else str(amount)
            continue
        value = getattr(member, name)
        value = getattr(value, "value", value)
        values[name] = value.isoformat() if isinstance(value, date) else value
    return values


def member_for_phone(member: Member, currency: str, full: bool,
                     held: dict[int, date] | None = None) -> dict[str, Any]:
    """What a phone keeps of a member: everything a secretary edits (`full`), or what a
    collector needs (number, name, locality, phone, the ID masked)."""
    if full:
        record = member_values(member, currency)
        record["documents"] = {str(k): v.isoformat() for k, v in (held or {}).items()}
    else:
        record = {name: getattr(member, name) for name in
                  ("member_number", "first_name", "middle_name", "last_name",
                   "second_last_name", "locality", "phone")}
        record["id_number"] = mask_id(member.id_number or "")
    record.update(id=member.id, version=member.version, full_name=member.full_name,
                  status=member.status.value)
    return record


def download(cooperative: Cooperative, localities: list[str], full: bool,
             money: bool = False) -> dict[str, Any]:
    """The members of these localities (active or suspended), as a phone keeps them, and the
    cooperative's checklist; for the roles that take money (`money`), what each member owes
    today (the collection sheet's column). Refused when no locality is chosen or too many
    members match."""
    keys = sorted({fold(name) for name in localities if fold(name)})
    if not keys:
        raise DomainError(_("Choose at least one locality."), field="localities")
    query = (select(Member).where(Member.cooperative_id == cooperative.id,
                                  Member.locality_key.in_(keys),
                                  Member.status.in_((MemberStatus.ACTIVE,
                                                     MemberStatus.SUSPENDED)))
             .order_by(Member.search_name, Member.id))
    count = db.session.scalar(select(func.count()).select_from(query.subquery()))
    if count > DOWNLOAD_LIMIT:
        raise DomainError(_("These localities hold %(count)d members; a phone keeps at most "
                            "%(limit)d. Choose fewer localities.", count=count,
                            limit=DOWNLOAD_LIMIT), field="localities")
    found = list(db.session.scalars(query))
    held: dict[int, dict[int, date]] = {}
    if full and found:
        from coopreg.members.models import MemberDocument
        for doc in db.session.scalars(select(MemberDocument).where(
                MemberDocument.cooperative_id == cooperative.id,
                MemberDocument.member_id.in_([m.id for m in found]))):
            held.setdefault(doc.member_id, {})[doc.document_type_id] = doc.received_on
    types = db.session.scalars(select(DocumentType).where(
        DocumentType.cooperative_id == cooperative.id, DocumentType.active.is_(True))
        .order_by(DocumentType.position, DocumentType.id))
    records = [member_for_phone(m, cooperative.currency, full, held.get(m.id)) for m in found]
    if money and found:
        owed = LEDGER["owed"](cooperative.id, [m.id for m in found], date.today())
        for record in records:
            record["owed"] = str(from_minor(owed.get(record["id"], 0), cooperative.currency))
    return {"members": records,
            "document_types": [{"id": t.id, "name": t.name} for t in types],
            "currency": cooperative.currency}


def check_key(key: Any) -> str:
    key = str(key or "").strip()
    if not KEY.fullmatch(key):
        raise DomainError(_("The record has no valid key; it cannot be sent."))
    return key


def _known(cooperative_id: int, key: str) -> FieldSyncKey | None:
    return db.session.scalar(select(FieldSyncKey).where(
        FieldSyncKey.cooperative_id == cooperative_id, FieldSyncKey.key == key)
        .execution_options(populate_existing=True))


def _replay(known: FieldSyncKey, kind: str) -> dict[str, Any]:
    if known.kind != kind:
        return {"outcome": "refused", "message": _(
            "This record's key was already used for another record; nothing was done.")}
    answer = json.loads(known.answer)
    if answer.get("outcome") == "created":
        answer["outcome"] = "already_there"
    return answer


def once(cooperative: Cooperative, actor_id: int | None, key: str, kind: str,
         work: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Do `work` once for this key: its answer (created, refused with the reason) is kept and
    given again to a replay; a conflict is given back and not kept. The key is taken first,
    so a twin sent at the same moment waits on it and then gets the kept answer."""
    known = _known(cooperative.id, key)
    if known is not None:
        return _replay(known, kind)
    try:
        with db.session.begin_nested():
            row = FieldSyncKey(cooperative_id=cooperative.id, key=key, kind=kind,
                               user_id=actor_id, outcome="working", answer="{}")
            db.session.add(row)
            db.session.flush()
            try:
                with db.session.begin_nested():
                    answer = work()
            except DomainError as error:
                answer = {"outcome": "refused", "message": error.message,
                          "field": error.field}
            row.outcome = answer["outcome"]
            row.answer = json.dumps(answer)
            db.session.flush()
    except Conflict as conflict:
        return {"outcome": "conflict", "message": conflict.message, "office": conflict.office}
    except IntegrityError:
        known = _known(cooperative.id, key)
        if known is None:
            raise
        return _replay(known, kind)
    return answer


def _documents(member: Member, documents: Any) -> None:
    """Tick (a date or true) or untick (false, empty) checklist items from a phone."""
    if not documents:
        return
    if not isinstance(documents, dict):
        raise DomainError(_("The documents of the record are not readable."))
    received: dict[int, Any] = {}
    for type_id, value in documents.items():
        try:
            type_id = int(type_id)
        except (TypeError, ValueError):
            raise DomainError(_("Unknown document type.")) from None
        if value is True:
            received[type_id] = members.TICKED
        elif value:
            try:
                received[type_id] = date.fromisoformat(str(value))
            except ValueError:
                raise DomainError(_("A document's date is not a date.")) from None
        else:
            received[type_id] = None
    members.set_documents(member, received)


def _data(record: dict[str, Any]) -> dict[str, Any]:
    data = record.get("data")
    if not isinstance(data, dict):
        raise DomainError(_("The record holds no details."))
    return {name: data[name] for name in MEMBER_FIELDS if name in data}


def _office_copy(member: Member, cooperative: Cooperative) -> dict[str, Any]:
    return member_for_phone(member, cooperative.currency, True,
                            {d.document_type_id: d.received_on for d in member.documents})


def enrol(cooperative: Cooperative, record: dict[str, Any]) -> dict[str, Any]:
    """Enrol a member typed on a phone; the same names and birth date as a member already in
    the register is a conflict (shown side by side) unless the user confirmed (`force`)."""
    data = _data(record)
    try:
        member = members.create_member(cooperative, data,
                                       confirm_duplicate=bool(record.get("force")))
    except members.DuplicateWarning as warning:
        raise Conflict(_office_copy(warning.members[0], cooperative),
                       _("A member with the same names and date of birth is already in the "
                         "register.")) from None
    _documents(member, (record.get("data") or {}).get("documents"))
    return {"outcome": "created", "member_id": member.id,
            "member_number": member.member_number, "version": member.version}


def update(cooperative: Cooperative, record: dict[str, Any]) -> dict[str, Any]:
    """Change a member's details from a phone: refused as a conflict when the office saved
    the member since the phone's copy (`base_version`), unless the user keeps theirs."""
    member = get_scoped(Member, record.get("member_id"), cooperative.id)
    if member is None:
        raise DomainError(_("This member is not in the register any more."))
    force = bool(record.get("force"))
    if not force and str(record.get("base_version")) != str(member.version):
        raise Conflict(_office_copy(member, cooperative),
                       _("This member was changed at the office since you downloaded them."))
    data = {**member_values(member, cooperative.currency), **_data(record)}
    members.update_member(member, data, confirm_duplicate=True)
    _documents(member, (record.get("data") or {}).get("documents"))
    return {"outcome": "created", "member_id": member.id, "version": member.version}


def member_of(cooperative: Cooperative, record: dict[str, Any]) -> int | None:
    """The member a receipt is for: an id, or the key of the phone's enrolment of them."""
    if record.get("member_key"):
        known = _known(cooperative.id, str(record["member_key"]))
        answer = json.loads(known.answer) if known is not None else {}
        if not answer.get("member_id"):
            raise DomainError(_("The member this receipt is for was not enrolled yet: send "
                                "the enrolment first."))
        return answer["member_id"]
    return record.get("member_id")


def receipt(cooperative: Cooperative, actor_id: int | None, record: dict[str, Any],
            collector: str) -> dict[str, Any]:
    """Record a receipt written on a phone: the ledger gives it its gap-free number now; the
    provisional number of the phone's slip is kept in the receipt's note."""
    data = record.get("data") if isinstance(record.get("data"), dict) else {}
    provisional = str(data.get("provisional") or "")[:40]
    try:
        received_on = date.fromisoformat(str(data.get("received_on")))
    except ValueError:
        received_on = None
    entry = LEDGER["receipt_input"](
                         member_id=member_of(cooperative, record), received_on=received_on,
                         amount=data.get("amount"), method=data.get("method") or "cash",
                         external_reference=data.get("reference") or None,
                         collector=collector,
                         note=_("Recorded offline as %(number)s", number=provisional)
                         if provisional else None,
                         idempotency_key=record["key"])
    made, created = LEDGER["record_receipt"](cooperative, entry, actor_id)
    return {"outcome": "created" if created else "already_there", "receipt_id": made.id,
            "number": made.number, "provisional": provisional}


def sync_record(cooperative: Cooperative, actor_id: int | None, collector: str,
                record: Any, may_edit_members: bool, may_take_money: bool) -> dict[str, Any]:
    """Do one record a phone sent (enrolment, update, receipt), once."""
    if not isinstance(record, dict):
        raise DomainError(_("The record is not readable."))
    key = check_key(record.get("key"))
    kind = record.get("kind")
    if kind in ("enrol", "update") and not may_edit_members:
        return {"outcome": "refused", "message": _("Your role may not change members.")}
    if kind == "receipt" and not may_take_money:
        return {"outcome": "refused", "message": _("Your role may not record receipts.")}
    if kind == "enrol":
        return once(cooperative, actor_id, key, kind, lambda: enrol(cooperative, record))
    if kind == "update":
        return once(cooperative, actor_id, key, kind, lambda: update(cooperative, record))
    if kind == "receipt":
        return once(cooperative, actor_id, key, kind,
                    lambda: receipt(cooperative, actor_id, record, collector))
    raise DomainError(_("Unknown kind of record."))


def check_photo(content: bytes) -> tuple[str, str]:
    """The photo's (content type, extension), or a clear refusal: too large, not an image,
    an image of another type, or too many pixels."""
    limit = current_app.config["FIELD_PHOTO_MAX_BYTES"]
    if len(content) > limit:
        raise DomainError(_("The photo is too large (%(size)d KB; at most %(limit)d KB). Take "
                            "it again, or let the phone make it smaller.",
                            size=len(content) // 1024, limit=limit // 1024), field="photo")
    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(content)) as image:
                kind = image.format
                width, height = image.size
                image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError,
            Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise DomainError(_("This file is not a photo: send a JPEG, PNG or WebP picture."),
                          field="photo") from None
    if kind not in PHOTO_TYPES:
        raise DomainError(_("This file is not a photo: send a JPEG, PNG or WebP picture."),
                          field="photo")
    if max(width, height) > PHOTO_MAX_PIXELS:
        raise DomainError(_("The photo is too large (%(width)d × %(height)d pixels; at most "
                            "%(limit)d on a side).", width=width, height=height,
                            limit=PHOTO_MAX_PIXELS), field="photo")
    return PHOTO_TYPES[kind]


def photo_folder(cooperative_id: int, member_id: int) -> Path:
    return Path(current_app.config["FIELD_PHOTO_DIR"]) / str(cooperative_id) / str(member_id)


def save_photo(cooperative: Cooperative, actor_id: int | None, member_id: Any, kind: str,
               document_type_id: Any, content: bytes) -> dict[str, Any]:
    """Keep a photo of a member's ID document or signed consent form under the cooperative's
    folder, after checking it is a real picture; tick the checklist item it stands for."""
    member = get_scoped(Member, member_id, cooperative.id)
    if member is None:
        raise DomainError(_("This member is not in the register any more."))
    try:
        photo_kind = PhotoKind(kind)
    except ValueError:
        raise DomainError(_("Say what the photo shows."), field="kind") from None
    content_type, extension = check_photo(content)
    document_type = None
    if document_type_id not in (None, ""):
        document_type = get_scoped(DocumentType, document_type_id, cooperative.id)
        if document_type is None:
            raise DomainError(_("Unknown document type."))
    folder = private_dir(photo_folder(cooperative.id, member.id))
    name = f"{uuid.uuid4().hex}.{extension}"
    (folder / name).write_bytes(content)
    photo = FieldPhoto(cooperative_id=cooperative.id, member_id=member.id, kind=photo_kind,
                       document_type_id=document_type.id if document_type else None,
                       path=name, content_type=content_type, size=len(content),
                       taken_by_id=actor_id)
    db.session.add(photo)
    db.session.flush()
    if document_type is not None:
        members.set_documents(member, {document_type.id: members.TICKED})
    return {"outcome": "created", "photo_id": photo.id, "member_id": member.id}


def member_photos(member: Member) -> list[FieldPhoto]:
    return list(db.session.scalars(select(FieldPhoto).where(
        FieldPhoto.cooperative_id == member.cooperative_id, FieldPhoto.member_id == member.id)
        .order_by(FieldPhoto.id)))


def photo_file(photo: FieldPhoto) -> Path:
    return photo_folder(photo.cooperative_id, photo.member_id) / photo.path
