"""The shared checks of typed values: text limits and enum choices."""

from __future__ import annotations

import enum

import pytest

from coopreg.core.errors import DomainError
from coopreg.core.validation import choice, clean_text


class Colour(enum.StrEnum):
    RED = "red"
    BLUE = "blue"


def test_clean_text_folds_spaces_and_checks_limits(ctx):
    assert clean_text("  a \n\t b  ", 10, "name", "Name") == "a b"
    assert clean_text("", 10, "name", "Name") is None
    assert clean_text("a  b\nc", 10, "h", "H", whitespace=r"[\r\n\t]+") == "a  b c"
    with pytest.raises(DomainError, match="Name is required") as error:
        clean_text(" ", 10, "name", "Name", required=True)
    assert error.value.field == "name"
    with pytest.raises(DomainError, match="at most 3 characters"):
        clean_text("abcd", 3, "name", "Name")


def test_choice_takes_values_or_members_and_names_the_field(ctx):
    assert choice(Colour, "red", "colour", "Colour") is Colour.RED
    assert choice(Colour, Colour.BLUE, "colour", "Colour") is Colour.BLUE
    with pytest.raises(DomainError, match="must be one of: red, blue") as error:
        choice(Colour, "green", "colour", "Colour")
    assert error.value.field == "colour"
