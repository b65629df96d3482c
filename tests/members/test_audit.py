"""Every change to the register leaves an audit event, and audit events cannot be changed."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from coopreg.cooperatives.models import DocumentType
from coopreg.core.audit import AuditEvent
from coopreg.extensions import db
from coopreg.members import services
from tests.conftest import member_data


def events(entity: str, entity_id: int) -> list[AuditEvent]:
    return db.session.scalars(select(AuditEvent).where(
        AuditEvent.entity == entity, AuditEvent.entity_id == entity_id)
        .order_by(AuditEvent.id)).all()


def test_creating_a_member_is_audited_with_its_values(cr, enrol):
    member = enrol(cr, first_name="Rosa", middle_name="", last_name="Quesada",
                   second_last_name="", id_number="1-0234-0567", phone="8888-1234",
                   declared_income="1000.50", sex="female", sector="crafts",
                   date_of_birth=date(1985, 2, 3), locality="Upala")
    [event] = events("members", member.id)
    assert event.action == "create"
    assert event.actor_label == "tests"
    assert event.actor_id is None
    assert event.cooperative_id == cr.id
    assert event.occurred_at is not None
    changes = event.changes
    assert changes["first_name"] == {"before": None, "after": "Rosa"}
    assert changes["last_name"] == {"before": None, "after": "Quesada"}
    assert changes["middle_name"] == {"before": None, "after": None}
    assert changes["member_number"] == {"before": None, "after": member.member_number}
    assert changes["id_number"] == {"before": None, "after": "0102340567"}
    assert changes["phone"]["after"] == "+50688881234"
    assert changes["declared_income_minor"]["after"] == 100050
    assert changes["sex"]["after"] == "female"
    assert changes["sector"]["after"] == "crafts"
    assert changes["status"]["after"] == "active"
    assert changes["date_of_birth"]["after"] == "1985-02-03"
    assert changes["locality"]["after"] == "Upala"
    assert changes["consent_given"]["after"] is True
    # the derived search column and the timestamps are not part of the record's history
    assert "search_name" not in changes
    assert "created_at" not in changes and "updated_at" not in changes
    assert "Rosa" not in repr(event) and "create members#" in repr(event)


def test_an_update_records_only_the_changed_fields(cr, enrol):
    member = enrol(cr, phone="8888-1234", locality="San Carlos", first_name="Rosa",
                   middle_name="", second_last_name="", last_name="Quesada")
    data = member_data(phone="7777-0000", locality="Upala", first_name="Rosa", middle_name="",
                       second_last_name="", last_name="Quesada",
                       member_number=member.member_number)
    services.update_member(member, data)
    create, update = events("members", member.id)
    assert create.action == "create"
    assert update.action == "update"
    assert update.actor_label == "tests"
    assert update.changes == {
        "phone": {"before": "+50688881234", "after": "+50677770000"},
        "locality": {"before": "San Carlos", "after": "Upala"},
    }


def test_saving_without_changes_writes_no_event(cr, enrol):
    data = member_data(first_name="Rosa", middle_name="", second_last_name="",
                       last_name="Quesada")
    member = services.create_member(cr, data, confirm_duplicate=True)
    services.update_member(member, {**data, "member_number": member.member_number})
    assert [e.action for e in events("members", member.id)] == ["create"]


def test_a_status_change_is_audited(cr, enrol, make_user):
    actor_id, _email = make_user(None)
    member = enrol(cr, joined_on=date(2020, 1, 1))
    change = services.change_member_status(member, "left", date(2021, 5, 5), "Moved away",
                                           actor_id)
    update = events("members", member.id)[-1]
    assert update.action == "update"
    assert update.changes["status"] == {"before": "active", "after": "left"}
    assert update.changes["status_reason"] == {"before": None, "after": "Moved away"}
    assert update.changes["status_date"] == {"before": None, "after": "2021-05-05"}
    assert update.changes["left_on"] == {"before": None, "after": "2021-05-05"}
    [history] = events("member_status_changes", change.id)
    assert history.action == "create"
    assert history.actor_label == "tests"
    assert history.changes["from_status"]["after"] == "active"
    assert history.changes["to_status"]["after"] == "left"
    assert history.changes["reason"]["after"] == "Moved away"
    assert history.changes["changed_by_id"]["after"] == actor_id


def test_dependants_and_documents_are_audited(cr, enrol):
    member = enrol(cr)
    dependant = services.add_dependant(member, "Lucía", "child", date(2015, 1, 1), None)
    dependant_id = dependant.id
    services.remove_dependant(dependant)
    assert [(e.action, e.changes["name"]) for e in events("dependants", dependant_id)] == [
        ("create", {"before": None, "after": "Lucía"}),
        ("delete", {"before": "Lucía", "after": None}),
    ]
    type_id = db.session.scalar(select(DocumentType.id).where(
        DocumentType.cooperative_id == cr.id).order_by(DocumentType.position).limit(1))
    services.set_documents(member, {type_id: date(2020, 1, 1)})
    document_id = member.documents[0].id
    services.set_documents(member, {type_id: date(2020, 2, 1)})
    services.set_documents(member, {type_id: None})
    history = events("member_documents", document_id)
    assert [e.action for e in history] == ["create", "update", "delete"]
    assert history[1].changes == {"received_on": {"before": "2020-01-01",
                                                  "after": "2020-02-01"}}


def _committed_event(cr, enrol) -> int:
    member = enrol(cr)
    db.session.commit()
    return events("members", member.id)[0].id


def test_audit_events_cannot_be_updated_through_the_orm(cr, enrol):
    event_id = _committed_event(cr, enrol)
    event = db.session.get(AuditEvent, event_id)
    event.action = "tampered"
    with pytest.raises(RuntimeError, match="append-only"):
        db.session.flush()
    db.session.rollback()
    assert db.session.get(AuditEvent, event_id).action == "create"


def test_audit_events_cannot_be_deleted_through_the_orm(cr, enrol):
    event_id = _committed_event(cr, enrol)
    db.session.delete(db.session.get(AuditEvent, event_id))
    with pytest.raises(RuntimeError, match="append-only"):
        db.session.flush()
    db.session.rollback()
    assert db.session.get(AuditEvent, event_id) is not None


@pytest.mark.parametrize("statement", [
    "UPDATE audit_events SET action = 'tampered' WHERE id = :id",
    "UPDATE audit_events SET changes = '{}' WHERE id = :id",
    "DELETE FROM audit_events WHERE id = :id",
])
def test_the_database_refuses_to_change_audit_events(cr, enrol, statement):
    event_id = _committed_event(cr, enrol)
    with pytest.raises(DBAPIError, match="append-only"), db.session.begin_nested():
        db.session.execute(text(statement), {"id": event_id})
    db.session.expire_all()
    event = db.session.get(AuditEvent, event_id)
    assert event.action == "create"
    assert event.changes["first_name"]["after"] == "María"
    assert db.session.scalar(select(func.count(AuditEvent.id)).where(
        AuditEvent.id == event_id)) == 1
