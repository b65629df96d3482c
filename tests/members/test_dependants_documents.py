"""Dependants and the documents checklist."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from coopreg.cooperatives.models import DocumentType
from coopreg.cooperatives.services import add_document_type, set_document_type_active
from coopreg.core.errors import DomainError
from coopreg.extensions import db
from coopreg.members import services
from coopreg.members.models import Dependant, DependantRelation, MemberDocument

TODAY = date.today()


def document_types(cooperative) -> list[DocumentType]:
    return db.session.scalars(select(DocumentType).where(
        DocumentType.cooperative_id == cooperative.id)
        .order_by(DocumentType.position, DocumentType.id)).all()


def held(member) -> dict[int, date]:
    return {d.document_type_id: d.received_on for d in db.session.scalars(
        select(MemberDocument).where(MemberDocument.member_id == member.id))}


# ---- dependants -----------------------------------------------------------------------------

def test_add_dependant(cr, enrol):
    member = enrol(cr)
    child = services.add_dependant(member, "  Lucía   Núñez ", "child", date(2015, 4, 1),
                                   "1-0234-0567")
    spouse = services.add_dependant(member, "José Mora", DependantRelation.SPOUSE, None, "")
    assert child.name == "Lucía Núñez"
    assert child.relation is DependantRelation.CHILD
    assert child.date_of_birth == date(2015, 4, 1)
    assert child.id_number == "0102340567"  # normalised like a member's
    assert child.member_id == member.id
    assert child.cooperative_id == cr.id
    assert spouse.id_number is None
    assert spouse.date_of_birth is None
    db.session.expire(member, ["dependants"])
    assert member.dependants == [child, spouse]
    assert repr(child) == f"<Dependant 'Lucía Núñez' of member {member.id}>"


@pytest.mark.parametrize("relation", [r.value for r in DependantRelation])
def test_every_relation(cr, enrol, relation):
    member = enrol(cr)
    assert services.add_dependant(member, "Someone", relation, None, None).relation \
        is DependantRelation(relation)


@pytest.mark.parametrize(("args", "field", "message"), [
    (("", "child", None, None), "name", "The dependant's name is required."),
    (("   ", "child", None, None), "name", "The dependant's name is required."),
    (("x" * 201, "child", None, None), "name", "The dependant's name is too long."),
    (("Ana", "cousin", None, None), "relation",
     "Relationship must be one of: spouse, child, parent, other."),
    (("Ana", "", None, None), "relation", "Relationship must be one of"),
    (("Ana", "child", TODAY + timedelta(days=1), None), "date_of_birth",
     "The date of birth is in the future."),
    (("Ana", "child", None, "1-0234-05677"), "id_number", "wrong number of digits"),
    (("Ana", "child", None, "1-0234-05AB"), "id_number", "characters that do not belong"),
])
def test_bad_dependant(cr, enrol, args, field, message):
    member = enrol(cr)
    with pytest.raises(DomainError) as info:
        services.add_dependant(member, *args)
    assert info.value.field == field
    assert message in info.value.message
    assert db.session.scalars(select(Dependant).where(Dependant.member_id == member.id)) \
        .all() == []


def test_dependant_born_today_is_accepted(cr, enrol):
    member = enrol(cr)
    assert services.add_dependant(member, "Baby", "child", TODAY, None).date_of_birth == TODAY


def test_dependant_id_follows_the_cooperatives_pattern(ph, enrol):
    member = enrol(ph, id_number="")
    dependant = services.add_dependant(member, "Juan", "child", None, "1234 5678 9012")
    assert dependant.id_number == "123456789012"
    with pytest.raises(DomainError) as info:
        services.add_dependant(member, "Juan", "child", None, "12345678901")
    assert info.value.field == "id_number"


def test_remove_dependant(cr, enrol):
    member = enrol(cr)
    keep = services.add_dependant(member, "Keep", "child", None, None)
    gone = services.add_dependant(member, "Gone", "spouse", None, None)
    gone_id = gone.id
    services.remove_dependant(gone)
    assert db.session.get(Dependant, gone_id) is None
    db.session.expire(member, ["dependants"])
    assert member.dependants == [keep]


# ---- documents checklist --------------------------------------------------------------------

def test_a_new_cooperative_has_the_default_checklist(cr):
    assert [t.name for t in document_types(cr)] == [
        "Copy of national ID", "Signed membership form", "Proof of address"]


def test_every_document_is_missing_at_first(cr, enrol):
    member = enrol(cr)
    assert services.missing_documents(member) == document_types(cr)


def test_tick_change_and_untick_documents(cr, enrol):
    member = enrol(cr)
    id_copy, form, address = document_types(cr)
    services.set_documents(member, {id_copy.id: date(2020, 1, 15), form.id: date(2020, 1, 16)})
    assert held(member) == {id_copy.id: date(2020, 1, 15), form.id: date(2020, 1, 16)}
    assert services.missing_documents(member) == [address]
    row_id = db.session.scalar(select(MemberDocument.id).where(
        MemberDocument.member_id == member.id, MemberDocument.document_type_id == id_copy.id))

    # a new date replaces the old one, in the same row; types left out are untouched
    services.set_documents(member, {id_copy.id: date(2021, 2, 2)})
    assert held(member) == {id_copy.id: date(2021, 2, 2), form.id: date(2020, 1, 16)}
    assert db.session.scalar(select(MemberDocument.id).where(
        MemberDocument.member_id == member.id,
        MemberDocument.document_type_id == id_copy.id)) == row_id

    # unticking removes it; unticking what is not held does nothing
    services.set_documents(member, {form.id: None, address.id: None})
    assert held(member) == {id_copy.id: date(2021, 2, 2)}
    assert services.missing_documents(member) == [form, address]


def test_a_tick_without_a_date_keeps_the_date_held_or_takes_today(cr, enrol):
    member = enrol(cr)
    id_copy, form, _address = document_types(cr)
    services.set_documents(member, {id_copy.id: date(2020, 1, 15)})
    services.set_documents(member, {id_copy.id: services.TICKED, form.id: services.TICKED},
                           today=date(2024, 6, 1))
    assert held(member) == {id_copy.id: date(2020, 1, 15), form.id: date(2024, 6, 1)}


def test_setting_the_same_date_again_changes_nothing(cr, enrol):
    member = enrol(cr)
    id_copy = document_types(cr)[0]
    services.set_documents(member, {id_copy.id: date(2020, 1, 15)})
    first = member.documents[0]
    updated_at = first.updated_at
    services.set_documents(member, {id_copy.id: date(2020, 1, 15)})
    assert member.documents == [first]
    assert first.updated_at == updated_at


def test_a_document_cannot_be_received_in_the_future(cr, enrol):
    member = enrol(cr)
    id_copy = document_types(cr)[0]
    with pytest.raises(DomainError) as info:
        services.set_documents(member, {id_copy.id: TODAY + timedelta(days=1)})
    assert info.value.message == "A document cannot be received in the future."
    assert held(member) == {}
    services.set_documents(member, {id_copy.id: TODAY})
    assert held(member) == {id_copy.id: TODAY}


def test_a_document_type_of_another_cooperative_is_refused(cr, ph, enrol):
    member = enrol(cr)
    foreign = document_types(ph)[0]
    with pytest.raises(DomainError) as info:
        services.set_documents(member, {foreign.id: date(2020, 1, 1)})
    assert info.value.message == "Unknown document type."
    assert held(member) == {}
    with pytest.raises(DomainError):
        services.set_documents(member, {987654321: date(2020, 1, 1)})


def test_retired_document_types_are_not_missing(cr, enrol):
    member = enrol(cr)
    id_copy, form, address = document_types(cr)
    set_document_type_active(address, False)
    assert services.missing_documents(member) == [id_copy, form]
    extra = add_document_type(cr, "Birth certificate")
    assert services.missing_documents(member) == [id_copy, form, extra]
    services.set_documents(member, {extra.id: date(2020, 1, 1)})
    assert services.missing_documents(member) == [id_copy, form]


def test_documents_of_one_member_do_not_count_for_another(cr, enrol):
    first, second = enrol(cr), enrol(cr)
    id_copy = document_types(cr)[0]
    services.set_documents(first, {id_copy.id: date(2020, 1, 1)})
    assert id_copy not in services.missing_documents(first)
    assert id_copy in services.missing_documents(second)
