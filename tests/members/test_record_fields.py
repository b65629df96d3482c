"""The member record's fields for institutions' forms: tax numbers checked by python-stdnum
(or the form where it has no module), nationality, email, Costa Rica's divisions by official
code, and the migration of phones typed before they were checked."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from sqlalchemy import text

from coopreg.core.errors import DomainError
from coopreg.extensions import db
from coopreg.members import services
from coopreg.members.divisions import clean_divisions, divisions_of
from coopreg.members.models import Member
from coopreg.members.national_ids import normalise_tax_number
from tests.conftest import member_data

MIGRATION = Path(__file__).parents[2] / "migrations" / "versions" / \
    "0030_member_record_for_institution_forms.py"


@pytest.mark.parametrize(("country", "typed", "stored"), [
    ("CR", "1-0234-0567", "0102340567"),  # a person's cédula (cr.cpf)
    ("CR", "155812345678", "155812345678"),  # a DIMEX (cr.cr)
    ("AR", "20-12345678-6", "20123456786"),  # a CUIT (ar.cuit)
    ("PH", "123-456-789-000", "123456789000"),  # a TIN with its branch code
    ("PH", "123 456 789", "123456789"),
])
def test_a_tax_number_is_checked_for_the_country_and_kept_compact(ctx, country, typed,
                                                                  stored):
    assert normalise_tax_number(country, typed) == stored
    assert normalise_tax_number(country, "  ") is None


@pytest.mark.parametrize(("country", "typed", "reason"), [
    ("AR", "20-12345678-7", "the check digit does not match: a digit was probably mistyped"),
    ("AR", "20-1234567-6", "it has the wrong number of digits"),
    ("CR", "1-0234-05677", "it has the wrong number of digits"),
    ("PH", "123-456-78", "it has the wrong number of digits"),
])
def test_a_wrong_tax_number_is_refused_saying_why(ctx, country, typed, reason):
    with pytest.raises(DomainError) as info:
        normalise_tax_number(country, typed)
    assert info.value.field == "tax_number"
    assert f"“{typed}”: {reason}." in info.value.message


def test_a_refused_tax_number_loses_nothing_else(ctx, cr):
    before = db.session.query(Member).filter(Member.cooperative_id == cr.id).count()
    with pytest.raises(DomainError) as info:
        services.create_member(cr, member_data(tax_number="1-0234-05677"),
                               confirm_duplicate=True)
    assert info.value.field == "tax_number"
    assert db.session.query(Member).filter(Member.cooperative_id == cr.id).count() == before


def test_the_new_fields_are_stored_in_their_normal_form(ctx, cr, enrol):
    member = enrol(cr, name_extension="Jr.", mothers_maiden_name=" Solís  Mora ",
                   civil_status="married", nationality="Nicaragua", tax_number="1-0234-0567",
                   email="Rosa.Quesada@Example.ORG", district_code="21001",
                   phone="8888-1234")
    assert (member.name_extension, member.mothers_maiden_name) == ("Jr.", "Solís Mora")
    assert member.civil_status.value == "married" and member.nationality == "NI"
    assert member.tax_number == "0102340567"
    assert member.email == "Rosa.Quesada@example.org"  # the domain's case folded
    # a district alone gives its canton and province (Quesada, San Carlos, Alajuela)
    assert (member.province_code, member.canton_code, member.district_code) == (
        "2", "210", "21001")
    assert member.phone == "+50688881234" and member.phone_shown == "8888 1234"


def test_costa_ricas_divisions_ship_with_their_official_codes():
    divisions = divisions_of("CR")
    levels = [d.level for d in divisions.values()]
    assert levels.count("province") == 7 and levels.count("canton") == 84
    assert levels.count("district") > 480
    assert divisions["1"].name == "San José" and divisions["105"].name == "Tarrazú"
    assert divisions["10501"].name == "San Marcos" and divisions["10501"].parent == "105"
    for division in divisions.values():  # every code sits inside the one above it
        if division.parent:
            assert division.code.startswith(division.parent)
            assert divisions[division.parent].level != division.level
    assert divisions_of("PH") == {}


def test_a_division_is_taken_by_name_when_the_name_is_unique(ctx):
    assert clean_divisions("CR", "Alajuela", "San Carlos", None) == {
        "province_code": "2", "canton_code": "210", "district_code": None}
    with pytest.raises(DomainError) as info:
        clean_divisions("CR", None, "Atlantis", None)
    assert info.value.field == "canton_code"
    with pytest.raises(DomainError) as info:
        clean_divisions("PH", "Nueva Vizcaya", None, None)
    assert "write the place in the address" in info.value.message


def _migration():
    spec = importlib.util.spec_from_file_location("migration_0030", MIGRATION)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_old_phones_are_migrated_to_e164_and_the_unreadable_kept_and_flagged(
        ctx, cr, ph, enrol):
    typed = {"cr-dashes": (cr, "8888-1234", "+50688881234"),
             "cr-00": (cr, "00506 2546 0000", "+50625460000"),
             "cr-words": (cr, "llamar a la pulpería", None),
             "cr-short": (cr, "1234", None),
             "ph-mobile": (ph, "0917 123 4567", "+639171234567"),
             "ph-e164": (ph, "+639171234568", "+639171234568")}
    ids = {}
    for name, (cooperative, phone, _e164) in typed.items():
        member = enrol(cooperative, first_name=name, phone=None)
        # as the register held them before migration 0030: written as typed
        db.session.execute(text("UPDATE members SET phone = :phone, phone_unchecked = :no "
                                "WHERE id = :id"), {"phone": phone, "no": False,
                                                    "id": member.id})
        ids[name] = member.id
    rewritten, flagged = _migration().migrate_phones(db.session.connection())
    assert (rewritten, flagged) == (3, 2)
    for name, (_cooperative, phone, e164) in typed.items():
        stored, unchecked = db.session.execute(text(
            "SELECT phone, phone_unchecked FROM members WHERE id = :id"),
            {"id": ids[name]}).one()
        if e164 is None:
            assert (stored, bool(unchecked)) == (phone, True), name  # kept, never lost
        else:
            assert (stored, bool(unchecked)) == (e164, False), name


def test_a_phone_is_found_as_people_dial_it(ctx, ph, enrol):
    member = enrol(ph, first_name="Maricel", phone="0917 123 4567")
    assert member.phone == "+639171234567"
    for typed in ("0917 123 4567", "09171234567", "+63 917 123 4567", "1234567"):
        found = services.list_members(ph.id, q=typed).members
        assert [m.id for m in found] == [member.id], typed
