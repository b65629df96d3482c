"""The member register's rules, called directly: enrolment, numbering, validation of every
field, national IDs, duplicates and updates."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from coopreg.core.errors import DomainError
from coopreg.extensions import db
from coopreg.members import services
from coopreg.members.models import ConsentMethod, Member, MemberStatus, Sector, Sex
from tests.conftest import member_data

TODAY = date.today()
TOMORROW = TODAY + timedelta(days=1)


def count_members(cooperative) -> int:
    return db.session.scalar(select(func.count(Member.id)).where(
        Member.cooperative_id == cooperative.id))


def refused(cooperative, **overrides) -> DomainError:
    """Create a member with one bad field; return the error (and check nothing was saved)."""
    before = count_members(cooperative)
    with pytest.raises(DomainError) as info:
        services.create_member(cooperative, member_data(**overrides), confirm_duplicate=True)
    assert count_members(cooperative) == before
    return info.value


# ---- creating a member ----------------------------------------------------------------------

def test_create_member_stores_every_field(cr, enrol):
    member = enrol(
        cr, member_number="", first_name="  María ", middle_name="José", last_name="Núñez",
        second_last_name="Solís  Mora", sex="female", date_of_birth=date(1980, 5, 17),
        id_type="cr_cedula", id_number="1-0234-0567", phone="+506 8888-1234",
        address="200 m norte de la escuela", locality="Ciudad Quesada",
        sector="agriculture", occupation="Coffee grower", declared_income="250000.50",
        joined_on=date(2020, 1, 15), consent_given=True, consent_date=date(2020, 1, 16),
        consent_method="thumbprint", notes="  First line\nSecond line  ")
    member_id = member.id
    db.session.commit()
    db.session.expire_all()
    member = db.session.get(Member, member_id)

    assert member.cooperative_id == cr.id
    assert member.member_number == "1"
    assert member.first_name == "María"
    assert member.middle_name == "José"
    assert member.last_name == "Núñez"
    assert member.second_last_name == "Solís Mora"  # spaces collapsed
    assert member.full_name == "María José Núñez Solís Mora"
    assert member.sort_name == "Núñez Solís Mora, María José"
    assert member.search_name == "nunez solis mora maria jose"
    assert member.sex is Sex.FEMALE
    assert member.date_of_birth == date(1980, 5, 17)
    assert member.id_type == "cr_cedula"
    assert member.id_number == "0102340567"
    assert member.phone == "+50688881234"
    assert member.address == "200 m norte de la escuela"
    assert member.locality == "Ciudad Quesada"
    assert member.locality_key == "ciudad quesada"
    assert member.sector is Sector.AGRICULTURE
    assert member.occupation == "Coffee grower"
    assert member.declared_income_minor == 25000050
    assert services.declared_income(member, "CRC") == Decimal("250000.50")
    assert member.joined_on == date(2020, 1, 15)
    assert member.consent_given is True
    assert member.consent_date == date(2020, 1, 16)
    assert member.consent_method is ConsentMethod.THUMBPRINT
    assert member.notes == "First line\nSecond line"
    assert member.status is MemberStatus.ACTIVE
    assert member.left_on is None
    assert member.status_changes == []
    assert member.created_at is not None and member.updated_at is not None
    assert repr(member) == f"<Member 1 of cooperative {cr.id}>"


def test_optional_fields_may_be_left_empty(cr, enrol):
    member = enrol(cr, middle_name="", second_last_name="  ", id_type="", id_number="",
                   phone="", address="", locality="", occupation="", declared_income="",
                   consent_given=False, consent_date=date(2020, 1, 1),
                   consent_method="signed_form", notes="")
    assert member.middle_name is None
    assert member.second_last_name is None
    assert member.id_type is None and member.id_number is None
    assert member.phone is None
    assert member.address is None
    assert member.locality is None and member.locality_key is None
    assert member.occupation is None
    assert member.declared_income_minor is None
    assert services.declared_income(member, "CRC") is None
    assert member.notes is None
    # no consent: a date or a method typed anyway is not kept
    assert member.consent_given is False
    assert member.consent_date is None
    assert member.consent_method is None


def test_dates_typed_as_text_are_read(cr, enrol):
    member = enrol(cr, date_of_birth="1975-02-03", joined_on="2019-07-08",
                   consent_date="2019-07-09")
    assert member.date_of_birth == date(1975, 2, 3)
    assert member.joined_on == date(2019, 7, 8)
    assert member.consent_date == date(2019, 7, 9)


def test_joining_date_defaults_to_today(cr, enrol):
    member = enrol(cr, joined_on=None, consent_given=False)
    assert member.joined_on == TODAY


def test_zero_income_is_kept(cr, enrol):
    assert enrol(cr, declared_income="0").declared_income_minor == 0


def test_income_in_a_currency_without_decimals(ctx, make_cooperative, enrol):
    xof = make_cooperative(country="SN", currency="XOF")
    cooperative = db.session.get(type(xof), xof.id)
    assert enrol(cooperative, declared_income="45000",
                 phone="77 123 45 67").declared_income_minor == 45000
    error = refused(cooperative, declared_income="45000.5", phone="77 123 45 67")
    assert error.field == "declared_income"
    assert "XOF amounts have at most 0 decimals" in error.message


# ---- member numbers -------------------------------------------------------------------------

def test_member_numbers_are_sequential(cr, enrol):
    numbers = [enrol(cr).member_number for _ in range(3)]
    assert numbers == ["1", "2", "3"]
    assert cr.last_member_number == 3


def test_member_numbers_are_per_cooperative(cr, ph, enrol):
    assert [enrol(cr).member_number for _ in range(2)] == ["1", "2"]
    assert [enrol(ph, id_type="", id_number="").member_number for _ in range(2)] == ["1", "2"]
    assert enrol(cr).member_number == "3"


def test_auto_numbering_skips_numbers_typed_by_hand(cr, enrol):
    assert enrol(cr, member_number="2").member_number == "2"
    assert enrol(cr, member_number="4").member_number == "4"
    numbers = [enrol(cr).member_number for _ in range(3)]
    assert numbers == ["1", "3", "5"]


def test_member_number_typed_by_hand_is_kept(cr, enrol):
    assert enrol(cr, member_number=" CR-2024/07.1 ").member_number == "CR-2024/07.1"
    # the counter is not moved by a hand-typed number
    assert enrol(cr).member_number == "1"


def test_typed_member_number_must_be_unique(cr, enrol):
    first = enrol(cr)
    enrol(cr, member_number="A-7")
    error = refused(cr, member_number="A-7")
    assert error.field == "member_number"
    assert error.message == "Member number A-7 is already taken."
    error = refused(cr, member_number=first.member_number)
    assert error.field == "member_number"
    assert "already taken" in error.message


def test_same_member_number_in_another_cooperative(cr, ph, enrol):
    enrol(cr, member_number="100")
    assert enrol(ph, member_number="100", id_number="").member_number == "100"


@pytest.mark.parametrize("number", ["12 34", "#12", "N°5", "x" * 21, "1;DROP"])
def test_member_number_with_bad_characters(cr, number):
    error = refused(cr, member_number=number)
    assert error.field == "member_number"
    assert "up to 20 letters, digits" in error.message


# ---- every field checked --------------------------------------------------------------------

BAD_FIELDS = [
    # (field, overrides, expected words in the message)
    ("first_name", {"first_name": ""}, "First name is required."),
    ("first_name", {"first_name": "   "}, "First name is required."),
    ("first_name", {"first_name": None}, "First name is required."),
    ("first_name", {"first_name": "A" * 101}, "First name is too long."),
    ("last_name", {"last_name": ""}, "Last name is required."),
    ("last_name", {"last_name": "B" * 101}, "Last name is too long."),
    ("middle_name", {"middle_name": "C" * 101}, "This name is too long."),
    ("second_last_name", {"second_last_name": "D" * 101}, "This name is too long."),
    ("sex", {"sex": "f"}, "Sex must be one of: female, male, other."),
    ("sex", {"sex": ""}, "Sex must be one of"),
    ("sex", {"sex": None}, "Sex must be one of"),
    ("sector", {"sector": "farming"}, "Sector must be one of: agriculture, home_based_work"),
    ("sector", {"sector": ""}, "Sector must be one of"),
    ("date_of_birth", {"date_of_birth": None}, "Date of birth is required."),
    ("date_of_birth", {"date_of_birth": ""}, "Date of birth is required."),
    ("date_of_birth", {"date_of_birth": "17/05/1980"}, "is not a date (year-month-day)"),
    ("date_of_birth", {"date_of_birth": TOMORROW}, "The date of birth is in the future."),
    ("date_of_birth", {"date_of_birth": date(TODAY.year - 121, 1, 1),
                       "joined_on": date(2000, 1, 1)}, "more than 120 years ago"),
    ("joined_on", {"joined_on": TOMORROW}, "The joining date is in the future."),
    ("joined_on", {"joined_on": date(1980, 5, 16)},
     "The joining date is before the date of birth."),
    ("joined_on", {"joined_on": "2020-02-30"}, "Joined on is not a date"),
    ("id_number", {"id_number": "1-0234-05677"}, "wrong number of digits"),
    ("id_number", {"id_number": "1-0234-05AB"}, "characters that do not belong"),
    ("id_type", {"id_type": "br_cpf", "id_number": "390.533.447-05"},
     "This ID type is not used in this cooperative's country."),
    ("id_type", {"id_type": "local", "id_number": "123456"}, "not used in this cooperative"),
    ("phone", {"phone": "call me"}, "A phone number holds digits"),
    ("phone", {"phone": "8888-12AB"}, "A phone number holds digits"),
    ("phone", {"phone": "8888-1234 ext 5"}, "A phone number holds digits"),
    ("phone", {"phone": "12345"}, "“12345” is not a phone number of CR"),
    ("phone", {"phone": "1234567890123456"}, "is not a phone number of CR"),
    ("phone", {"phone": "506+88881234"}, "A phone number holds digits"),
    ("tax_number", {"tax_number": "1-0234-05677"}, "wrong number of digits"),
    ("nationality", {"nationality": "Atlantis"}, "“Atlantis” is not a country"),
    ("email", {"email": "rosa@"}, "“rosa@” is not an email address"),
    ("name_extension", {"name_extension": "the third"}, "short word such as Jr."),
    ("civil_status", {"civil_status": "complicated"}, "Civil status"),
    ("district_code", {"district_code": "99999"},
     "“99999” is not in the country's list of districts"),
    ("district_code", {"province_code": "1", "district_code": "21001"},
     "“Quesada” is not in “San José”"),
    ("address", {"address": "x" * 301}, "too long (at most 300 characters)"),
    ("locality", {"locality": "x" * 121}, "too long (at most 120 characters)"),
    ("occupation", {"occupation": "x" * 121}, "too long (at most 120 characters)"),
    ("notes", {"notes": "x" * 2001}, "too long (at most 2000 characters)"),
    ("declared_income", {"declared_income": "-5"}, "The amount cannot be negative."),
    ("declared_income", {"declared_income": "abc"}, "“abc” is not an amount"),
    ("declared_income", {"declared_income": "NaN"}, "is not an amount"),
    ("declared_income", {"declared_income": "1,000"}, "is ambiguous"),
    ("declared_income", {"declared_income": "250.000"}, "is ambiguous"),
    ("declared_income", {"declared_income": "100.123"}, "is ambiguous"),
    ("declared_income", {"declared_income": "100.1234"}, "CRC amounts have at most 2 decimals"),
    ("declared_income", {"declared_income": "1e30"}, "is not an amount"),
    ("declared_income", {"declared_income": "9" * 20}, "The amount is too large."),
    ("consent_date", {"consent_date": None}, "Give the date the member consented."),
    ("consent_date", {"consent_date": "last week"}, "Consent date is not a date"),
    ("consent_date", {"consent_date": TOMORROW}, "The consent date is in the future."),
    ("consent_method", {"consent_method": ""}, "Say how the member consented."),
    ("consent_method", {"consent_method": None}, "Say how the member consented."),
    ("consent_method", {"consent_method": "smoke signals"}, "must be one of: signed_form"),
]


@pytest.mark.parametrize(("field", "overrides", "message"), BAD_FIELDS,
                         ids=[f"{f}-{i}" for i, (f, _o, _m) in enumerate(BAD_FIELDS)])
def test_bad_input_names_the_field(cr, field, overrides, message):
    error = refused(cr, **overrides)
    assert error.field == field
    assert message in error.message
    assert str(error) == error.message


def test_names_at_the_length_limit_are_accepted(cr, enrol):
    member = enrol(cr, first_name="A" * 100, last_name="B" * 100, middle_name="C" * 100,
                   second_last_name="D" * 100, address="x" * 300, locality="y" * 120,
                   occupation="z" * 120, notes="n" * 2000)
    assert len(member.first_name) == 100
    assert len(member.address) == 300


def test_date_of_birth_exactly_120_years_ago_is_accepted(cr, enrol):
    oldest = services._years_before(TODAY, 120)
    member = enrol(cr, date_of_birth=oldest, joined_on=date(2000, 1, 1))
    assert member.date_of_birth == oldest
    error = refused(cr, date_of_birth=oldest - timedelta(days=1), joined_on=date(2000, 1, 1))
    assert error.field == "date_of_birth"
    assert error.message == "The date of birth is more than 120 years ago."


def test_years_before_a_leap_day():
    assert services._years_before(date(2024, 2, 29), 1) == date(2023, 2, 28)
    assert services._years_before(date(2024, 2, 29), 4) == date(2020, 2, 29)


def test_joining_on_the_day_of_birth_and_today_is_accepted(cr, enrol):
    assert enrol(cr, date_of_birth=date(2000, 1, 1), joined_on=date(2000, 1, 1)).joined_on \
        == date(2000, 1, 1)
    assert enrol(cr, joined_on=TODAY, consent_date=TODAY).joined_on == TODAY


@pytest.mark.parametrize(("typed", "stored"), [
    ("8888-1234", "+50688881234"),
    ("(506) 8888 1234", "+50688881234"),
    ("+506 8888.1234", "+50688881234"),
    ("00506 8888 1234", "+50688881234"),
    ("+54 9 11 2345-6789", "+5491123456789"),
])
def test_phone_numbers_are_stored_in_e164_for_the_cooperatives_country(cr, enrol, typed,
                                                                       stored):
    assert enrol(cr, phone=typed).phone == stored


@pytest.mark.parametrize(("typed", "minor"), [("250000", 25000000), ("1 500.5", 150050),
                                              ("0.01", 1), ("99999.99", 9999999)])
def test_income_is_stored_in_minor_units(cr, enrol, typed, minor):
    assert enrol(cr, declared_income=typed).declared_income_minor == minor


@pytest.mark.parametrize("method", ["signed_form", "thumbprint", "verbal_witnessed", "digital"])
def test_every_consent_method(cr, enrol, method):
    assert enrol(cr, consent_method=method).consent_method == ConsentMethod(method)


@pytest.mark.parametrize("sector", [s.value for s in Sector])
def test_every_sector(cr, enrol, sector):
    assert enrol(cr, sector=sector).sector is Sector(sector)


@pytest.mark.parametrize("sex", [s.value for s in Sex])
def test_every_sex(cr, enrol, sex):
    assert enrol(cr, sex=sex).sex is Sex(sex)


# ---- national IDs ---------------------------------------------------------------------------

@pytest.mark.parametrize(("typed", "stored"), [
    ("1-0234-0567", "0102340567"),
    ("01-0234-0567", "0102340567"),
    ("102340567", "0102340567"),
    (" 1 0234 0567 ", "0102340567"),
])
def test_costa_rican_cedula_is_normalised(cr, enrol, typed, stored):
    member = enrol(cr, id_type="cr_cedula", id_number=typed)
    assert member.id_number == stored
    assert member.id_type == "cr_cedula"


def test_cedula_with_the_wrong_number_of_digits(cr):
    error = refused(cr, id_type="cr_cedula", id_number="1-0234-05677")
    assert error.field == "id_number"
    assert error.message == ("Cédula de identidad “1-0234-05677”: it has the wrong number "
                             "of digits.")


def test_id_type_defaults_to_the_countrys_usual_one(cr, enrol):
    member = enrol(cr, id_type="", id_number="1-0234-0567")
    assert member.id_type == "cr_cedula"
    assert member.id_number == "0102340567"


def test_brazilian_cpf_is_normalised(br, enrol):
    member = enrol(br, id_type="br_cpf", id_number="390.533.447-05")
    assert member.id_number == "39053344705"


def test_brazilian_cpf_with_a_wrong_check_digit(br):
    error = refused(br, id_type="br_cpf", id_number="390.533.447-06")
    assert error.field == "id_number"
    assert "check digit does not match" in error.message
    assert "390.533.447-06" in error.message


def test_philippine_pattern(ph, enrol):
    member = enrol(ph, id_type="local", id_number="1234 5678 9012")
    assert member.id_number == "123456789012"
    assert member.id_type == "local"
    error = refused(ph, id_type="local", id_number="12345678901")
    assert error.field == "id_number"
    assert error.message == ("“12345678901” is not in the form this cooperative uses for "
                             "PhilSys number.")
    error = refused(ph, id_type="local", id_number="12345678901A")
    assert error.field == "id_number"


def test_philippine_cooperative_refuses_costa_rican_type(ph):
    error = refused(ph, id_type="cr_cedula", id_number="1-0234-0567")
    assert error.field == "id_type"


def test_same_national_id_twice_in_one_cooperative(cr, enrol):
    first = enrol(cr, first_name="Ana", last_name="Rojas", second_last_name="Vega",
                  middle_name="", id_number="1-0234-0567")
    # typed another way, it is still the same number
    error = refused(cr, id_number="01 0234 0567")
    assert error.field == "id_number"
    assert error.message == (f"This ID number already belongs to member {first.member_number}, "
                             "Ana Rojas Vega.")


def test_same_national_id_in_another_cooperative_is_allowed(cr, enrol, make_cooperative):
    enrol(cr, id_number="1-0234-0567")
    other = db.session.get(type(cr), make_cooperative(country="CR", currency="CRC").id)
    member = enrol(other, id_number="1-0234-0567")
    assert member.id_number == "0102340567"
    assert member.cooperative_id == other.id


def test_members_without_id_do_not_clash(cr, enrol):
    a = enrol(cr, id_number="")
    b = enrol(cr, id_number="")
    assert a.id_number is None and b.id_number is None


# ---- possible duplicates --------------------------------------------------------------------

def test_same_names_and_birth_date_ask_for_confirmation(cr, enrol):
    first = enrol(cr, first_name="María", last_name="Núñez", date_of_birth=date(1980, 5, 17))
    before = count_members(cr)
    with pytest.raises(services.DuplicateWarning) as info:
        enrol(cr, confirm_duplicate=False, first_name="María", last_name="Núñez",
              date_of_birth=date(1980, 5, 17), second_last_name="Otra")
    assert info.value.members == [first]
    assert count_members(cr) == before
    second = enrol(cr, confirm_duplicate=True, first_name="María", last_name="Núñez",
                   date_of_birth=date(1980, 5, 17), second_last_name="Otra")
    assert second.id != first.id
    assert count_members(cr) == before + 1


@pytest.mark.parametrize(("first", "last"), [("Maria", "Nunez"), ("MARÍA", "NÚÑEZ"),
                                             ("  maria ", "nuñez")])
def test_duplicate_check_ignores_accents_and_case(cr, enrol, first, last):
    original = enrol(cr, first_name="María", last_name="Núñez", date_of_birth=date(1980, 5, 17))
    with pytest.raises(services.DuplicateWarning) as info:
        enrol(cr, confirm_duplicate=False, first_name=first, last_name=last,
              date_of_birth=date(1980, 5, 17))
    assert [m.id for m in info.value.members] == [original.id]


def test_no_duplicate_warning_for_another_birth_date_or_name(cr, enrol):
    enrol(cr, first_name="María", last_name="Núñez", date_of_birth=date(1980, 5, 17))
    assert enrol(cr, confirm_duplicate=False, first_name="María", last_name="Núñez",
                 date_of_birth=date(1980, 5, 18)).id
    assert enrol(cr, confirm_duplicate=False, first_name="Marta", last_name="Núñez",
                 date_of_birth=date(1980, 5, 17)).id


def test_no_duplicate_warning_across_cooperatives(cr, ph, enrol):
    enrol(cr, first_name="María", last_name="Núñez", date_of_birth=date(1980, 5, 17))
    member = enrol(ph, confirm_duplicate=False, first_name="María", last_name="Núñez",
                   date_of_birth=date(1980, 5, 17), id_number="")
    assert member.cooperative_id == ph.id


def test_duplicate_warning_lists_every_twin(cr, enrol):
    a = enrol(cr, first_name="Juan", last_name="Pérez", date_of_birth=date(1990, 1, 1))
    b = enrol(cr, first_name="Juan", last_name="Perez", date_of_birth=date(1990, 1, 1))
    twins = services.possible_duplicates(cr.id, "juan", "PÉREZ", date(1990, 1, 1))
    assert {m.id for m in twins} == {a.id, b.id}
    assert services.possible_duplicates(cr.id, "juan", "pérez", date(1990, 1, 1),
                                        exclude_id=a.id) == [b]


def test_validation_comes_before_the_duplicate_warning(cr, enrol):
    enrol(cr)
    with pytest.raises(DomainError):
        enrol(cr, confirm_duplicate=False, phone="abc")


# ---- updating a member ----------------------------------------------------------------------

def test_update_member_changes_the_fields(cr, enrol):
    member = enrol(cr, first_name="María", last_name="Núñez", second_last_name="Solís",
                   middle_name="", locality="San Carlos")
    number = member.member_number
    data = member_data(first_name="Mariela", last_name="Núñez", second_last_name="Solano",
                       middle_name="", locality="Pérez Zeledón", phone="7777 0000",
                       sector="fishing", declared_income="1000.25", id_number="1-0234-0567",
                       member_number="")
    updated = services.update_member(member, data, confirm_duplicate=False)
    assert updated is member
    assert member.first_name == "Mariela"
    assert member.second_last_name == "Solano"
    assert member.search_name == "nunez solano mariela"
    assert member.locality_key == "perez zeledon"
    assert member.phone == "+50677770000"
    assert member.sector is Sector.FISHING
    assert member.declared_income_minor == 100025
    assert member.id_number == "0102340567"
    assert member.member_number == number  # left empty: kept


def test_update_member_can_change_the_number(cr, enrol):
    member = enrol(cr)
    other = enrol(cr)
    services.update_member(member, member_data(member_number="M-1"), confirm_duplicate=True)
    assert member.member_number == "M-1"
    # keeping its own number is not a clash
    services.update_member(member, member_data(member_number="M-1"), confirm_duplicate=True)
    with pytest.raises(DomainError) as info:
        services.update_member(member, member_data(member_number=other.member_number),
                               confirm_duplicate=True)
    assert info.value.field == "member_number"
    assert member.member_number == "M-1"


def test_update_member_keeps_its_own_national_id(cr, enrol):
    member = enrol(cr, id_number="1-0234-0567")
    services.update_member(member, member_data(id_number="01-0234-0567"), confirm_duplicate=True)
    assert member.id_number == "0102340567"


def test_update_member_refuses_another_members_id(cr, enrol):
    owner = enrol(cr, first_name="Ana", last_name="Rojas", second_last_name="",
                  middle_name="", id_number="1-0234-0567")
    member = enrol(cr, id_number="")
    with pytest.raises(DomainError) as info:
        services.update_member(member, member_data(id_number="102340567"),
                               confirm_duplicate=True)
    assert info.value.field == "id_number"
    assert owner.member_number in info.value.message
    assert "Ana Rojas" in info.value.message
    assert member.id_number is None


def test_update_member_validates_every_field(cr, enrol):
    member = enrol(cr, first_name="Rosa")
    with pytest.raises(DomainError) as info:
        services.update_member(member, member_data(first_name="", last_name="X"),
                               confirm_duplicate=True)
    assert info.value.field == "first_name"
    assert member.first_name == "Rosa"
    with pytest.raises(DomainError) as info:
        services.update_member(member, member_data(first_name="Rosa",
                                                   date_of_birth=TOMORROW),
                               confirm_duplicate=True)
    assert info.value.field == "date_of_birth"


def test_update_member_warns_of_duplicates_but_not_of_itself(cr, enrol):
    a = enrol(cr, first_name="Luis", last_name="Mora", date_of_birth=date(1970, 3, 3))
    b = enrol(cr, first_name="Carlos", last_name="Mora", date_of_birth=date(1970, 3, 3))
    # saving a member unchanged does not find the member itself
    services.update_member(a, member_data(first_name="Luis", last_name="Mora",
                                          date_of_birth=date(1970, 3, 3)))
    with pytest.raises(services.DuplicateWarning) as info:
        services.update_member(b, member_data(first_name="Luís", last_name="Mora",
                                              date_of_birth=date(1970, 3, 3)))
    assert info.value.members == [a]
    assert b.first_name == "Carlos"
    services.update_member(b, member_data(first_name="Luís", last_name="Mora",
                                          date_of_birth=date(1970, 3, 3)),
                           confirm_duplicate=True)
    assert b.first_name == "Luís"


def test_update_does_not_change_the_status(cr, enrol):
    member = enrol(cr)
    services.change_member_status(member, "suspended", TODAY, "Unpaid dues", None)
    services.update_member(member, member_data(status="active"), confirm_duplicate=True)
    assert member.status is MemberStatus.SUSPENDED
