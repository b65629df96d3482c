"""Bulk inserts (COPY on PostgreSQL, one executemany on SQLite) read back as the ORM writes,
and the audit of bulk-created rows has the flush hook's shape."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from coopreg.core.audit import AuditEvent, record_bulk
from coopreg.core.bulk import JSONText, insert_rows
from coopreg.extensions import db
from coopreg.members.models import ConsentMethod, Member, MemberStatus, Sector, Sex
from coopreg.members.services import search_fields


def _member_row(cooperative_id: int, number: str, **changes) -> dict:
    values = {"member_number": number, "first_name": "Ana", "middle_name": None,
              "last_name": "Núñez", "second_last_name": None, "sex": Sex.FEMALE,
              "date_of_birth": date(1980, 5, 17), "id_type": None, "id_number": None,
              "phone": None, "address": None, "locality": "San Carlos", "sector": Sector.CARE,
              "occupation": None, "declared_income_minor": 25_000_050,
              "joined_on": date(2020, 1, 15), "consent_given": True,
              "consent_date": date(2020, 1, 15), "consent_method": ConsentMethod.SIGNED_FORM,
              "language": None, "notes": "línea uno\nlínea \"dos\""}
    values.update(changes)
    return {"cooperative_id": cooperative_id, **values, **search_fields(values)}


def test_bulk_inserted_members_and_their_audit_read_back_as_written(ctx, coop):
    rows = [_member_row(coop.id, "B-1"), _member_row(coop.id, "B-2", sex=Sex.MALE,
                                                     consent_given=False, consent_date=None,
                                                     consent_method=None)]
    highest = db.session.scalar(select(db.func.coalesce(db.func.max(Member.id), 0)))
    for n, row in enumerate(rows, start=1):
        row["id"] = highest + n
    insert_rows(Member.__table__, rows)  # status, version: their defaults
    assert record_bulk(Member, "create", rows) == 2
    first, second = db.session.scalars(select(Member).where(
        Member.cooperative_id == coop.id).order_by(Member.id)).all()
    assert first.sex == Sex.FEMALE and first.sector == Sector.CARE
    assert first.status == MemberStatus.ACTIVE and first.version == 1
    assert first.date_of_birth == date(1980, 5, 17) and first.consent_given is True
    assert first.consent_method == ConsentMethod.SIGNED_FORM
    assert first.notes == "línea uno\nlínea \"dos\"" and first.search_name == "nunez ana"
    assert second.sex == Sex.MALE and second.consent_given is False
    assert second.consent_date is None and second.consent_method is None
    event = db.session.scalars(select(AuditEvent).where(
        AuditEvent.entity == "members", AuditEvent.entity_id == first.id)).one()
    assert event.action == "create" and event.actor_label == "tests"
    assert event.changes["sex"] == {"before": None, "after": "female"}
    assert event.changes["date_of_birth"] == {"before": None, "after": "1980-05-17"}
    assert event.changes["declared_income_minor"]["after"] == 25_000_050
    assert event.changes["consent_given"]["after"] is True
    assert event.changes["notes"]["after"] == "línea uno\nlínea \"dos\""
    assert event.changes["middle_name"] == {"before": None, "after": None}
    assert "created_at" not in event.changes


def test_a_row_without_a_computed_default_goes_through_sqlalchemy(ctx, coop):
    # occurred_at is left out: its default is computed, so SQLAlchemy's executemany is used,
    # and JSON the caller already encoded is decoded for it
    insert_rows(AuditEvent.__table__, [{
        "actor_id": None, "actor_label": "tests", "cooperative_id": coop.id,
        "entity": "members", "entity_id": 424242, "action": "create",
        "changes": JSONText('{"first_name": {"before": null, "after": "Ana"}}')}])
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.entity_id == 424242)).one()
    assert event.changes == {"first_name": {"before": None, "after": "Ana"}}
    assert event.occurred_at is not None
