"""Phone numbers: read in the cooperative's country, stored in E.164, shown in the national
form, written in the form a layout asks for, and never escaped like a formula."""

from __future__ import annotations

import io

import pytest

from coopreg.core.errors import DomainError
from coopreg.core.phones import DIGITS, E164, NATIONAL, is_e164, parse_phone, phone_as
from coopreg.core.spreadsheets import Column, protect_formula_text, write_csv

# (country, as typed, E.164, national form, digits only)
NUMBERS = [
    ("CR", "8888-1234", "+50688881234", "8888 1234", "88881234"),
    ("CR", "2546 0000", "+50625460000", "2546 0000", "25460000"),
    ("PH", "0917 123 4567", "+639171234567", "0917 123 4567", "09171234567"),
    ("PH", "(02) 8123 4567", "+63281234567", "(02) 8123 4567", "0281234567"),
    ("AR", "011 15-2345-6789", "+5491123456789", "011 15-2345-6789", "0111523456789"),
    ("AR", "+54 11 4651-0000", "+541146510000", "011 4651-0000", "01146510000"),
]


@pytest.mark.parametrize(("country", "typed", "e164", "national", "digits"), NUMBERS)
def test_a_phone_round_trips_through_every_form(country, typed, e164, national, digits):
    assert parse_phone(typed, country) == e164 and is_e164(e164)
    assert phone_as(e164, E164) == e164
    assert phone_as(e164, NATIONAL) == phone_as(e164, NATIONAL, country) == national
    assert phone_as(e164, DIGITS, country) == digits
    # each written form reads back as the same number in the same country
    for written in (e164, national, digits):
        assert parse_phone(written, country) == e164


def test_a_number_of_another_country_is_written_internationally():
    e164 = parse_phone("+54 11 4651-0000", "CR")
    assert e164 == "+541146510000"
    assert phone_as(e164, NATIONAL, "CR") == "+54 11 4651-0000"
    assert phone_as(e164, DIGITS, "CR") == "00541146510000"
    assert parse_phone(phone_as(e164, NATIONAL, "CR"), "CR") == e164
    assert parse_phone(phone_as(e164, DIGITS, "CR"), "CR") == e164


@pytest.mark.parametrize(("typed", "message"), [
    ("call me", "A phone number holds digits"),
    ("8888-1234 ext 5", "A phone number holds digits"),
    ("506+88881234", "A phone number holds digits"),
    ("12", "“12” is not a phone number of CR"),
    ("1234567890123456789", "is not a phone number of CR"),
])
def test_a_phone_that_is_not_one_is_refused_with_a_clear_message(app, typed, message):
    with app.test_request_context(), pytest.raises(DomainError) as info:
        parse_phone(typed, "CR")
    assert info.value.field == "phone" and message in info.value.message


def test_a_phone_kept_as_typed_before_phones_were_checked_is_written_as_it_was():
    assert not is_e164("call the shop")
    assert phone_as("call the shop", DIGITS, "CR") == "call the shop"
    assert phone_as(None) == "" and phone_as("") == ""


def test_no_spreadsheet_escape_in_front_of_a_plain_phone_number():
    assert protect_formula_text("+50688881234") == "+50688881234"
    assert protect_formula_text("+1+1") == "'+1+1"  # still a formula, still escaped
    assert protect_formula_text("+50688881234*2") == "'+50688881234*2"
    assert protect_formula_text("=HYPERLINK(1)") == "'=HYPERLINK(1)"
    out = io.BytesIO()
    write_csv(out, [Column("Phone"), Column("Name")], [["+50688881234", "-5 al sur"]])
    assert out.getvalue().decode("utf-8-sig").splitlines()[1] == "+50688881234,'-5 al sur"
