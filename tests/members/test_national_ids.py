"""National IDs: the types of each country, checking, normalising, formatting, masking."""

from __future__ import annotations

import pytest

from coopreg.core.errors import DomainError
from coopreg.members.national_ids import (
    PATTERN_TYPE,
    format_id,
    id_type_label,
    id_types_for,
    mask_id,
    normalise_id,
)

pytestmark = pytest.mark.usefixtures("ctx")


def test_costa_rica_offers_cedula_first_then_dimex():
    assert [t.code for t in id_types_for("CR")] == ["cr_cedula", "cr_dimex"]
    assert [t.code for t in id_types_for("cr")] == ["cr_cedula", "cr_dimex"]


def test_country_without_module_gets_the_pattern_type():
    types = id_types_for("PH", "PhilSys number")
    assert [(t.code, t.label, t.module) for t in types] == [
        (PATTERN_TYPE, "PhilSys number", None)]
    assert [t.label for t in id_types_for("KE")] == ["National ID"]


def test_a_local_label_adds_the_pattern_type_after_the_modules():
    assert [t.code for t in id_types_for("BR", "Carteira")] == ["br_cpf", PATTERN_TYPE]


def test_id_type_label():
    assert id_type_label("CR", "cr_cedula") == "Cédula de identidad"
    assert id_type_label("PH", "local", "PhilSys number") == "PhilSys number"
    assert id_type_label("CR", "unknown") == "unknown"
    assert id_type_label("CR", None) == ""


@pytest.mark.parametrize(("country", "id_type", "typed", "normal"), [
    ("CR", "cr_cedula", "1-0234-0567", "0102340567"),
    ("CR", "cr_cedula", "01-0234-0567", "0102340567"),
    ("BR", "br_cpf", "390.533.447-05", "39053344705"),
    ("BR", "br_cpf", "39053344705", "39053344705"),
])
def test_normalise_with_stdnum(country, id_type, typed, normal):
    assert normalise_id(country, id_type, typed) == normal


@pytest.mark.parametrize(("country", "id_type", "typed", "reason"), [
    ("CR", "cr_cedula", "1-0234-05677", "it has the wrong number of digits"),
    ("CR", "cr_cedula", "1-0234-05AB", "it contains characters that do not belong"),
    ("BR", "br_cpf", "390.533.447-06", "the check digit does not match"),
    ("BR", "br_cpf", "390.533.447", "it has the wrong number of digits"),
])
def test_invalid_numbers_say_why(country, id_type, typed, reason):
    with pytest.raises(DomainError) as info:
        normalise_id(country, id_type, typed)
    assert info.value.field == "id_number"
    assert reason in info.value.message
    assert f"“{typed}”" in info.value.message


def test_empty_number_is_refused():
    with pytest.raises(DomainError) as info:
        normalise_id("CR", "cr_cedula", "   ")
    assert info.value.field == "id_number"
    assert info.value.message == "Enter the ID number."


def test_type_of_another_country_is_refused():
    with pytest.raises(DomainError) as info:
        normalise_id("CR", "br_cpf", "390.533.447-05")
    assert info.value.field == "id_type"
    assert "not used in this cooperative's country" in info.value.message


def test_pattern_of_the_cooperative():
    assert normalise_id("PH", PATTERN_TYPE, "1234-5678-9012", pattern="[0-9]{12}",
                        local_label="PhilSys number") == "123456789012"
    with pytest.raises(DomainError) as info:
        normalise_id("PH", PATTERN_TYPE, "12345678901", pattern="[0-9]{12}",
                      local_label="PhilSys number")
    assert info.value.field == "id_number"
    assert "PhilSys number" in info.value.message
    # the pattern must match the whole number
    with pytest.raises(DomainError):
        normalise_id("PH", PATTERN_TYPE, "1234567890123", pattern="[0-9]{12}",
                      local_label="PhilSys number")


def test_a_permissive_pattern_cannot_store_more_than_the_column_holds():
    assert normalise_id("PH", PATTERN_TYPE, "1" * 40, pattern="[0-9]+") == "1" * 40
    with pytest.raises(DomainError) as info:
        normalise_id("PH", PATTERN_TYPE, "1" * 41, pattern="[0-9]+")
    assert info.value.field == "id_number"


def test_without_a_pattern_any_3_to_30_letters_or_digits():
    assert normalise_id("KE", PATTERN_TYPE, "ab-12.3") == "AB123"
    for bad in ("12", "x" * 31, "12#45"):
        with pytest.raises(DomainError) as info:
            normalise_id("KE", PATTERN_TYPE, bad)
        assert info.value.message == "An ID number has 3 to 30 letters or digits."


def test_format_id():
    assert format_id("CR", "cr_cedula", "0102340567") == "01-0234-0567"
    assert format_id("BR", "br_cpf", "39053344705") == "390.533.447-05"
    assert format_id("PH", PATTERN_TYPE, "123456789012") == "123456789012"
    assert format_id("CR", None, "0102340567") == "0102340567"
    assert format_id("CR", "cr_cedula", None) == ""


@pytest.mark.parametrize(("formatted", "masked"), [
    ("01-0234-0567", "••-••••-•567"),
    ("390.533.447-05", "•••.•••.••7-05"),
    ("123456789012", "•••••••••012"),
    ("AB1", "AB1"),
    ("", ""),
])
def test_mask_id_keeps_the_last_three_and_the_separators(formatted, masked):
    assert mask_id(formatted) == masked
