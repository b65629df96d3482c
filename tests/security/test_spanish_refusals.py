"""Issue 15, item 11: refusal messages read in the user's language from end to end, with no
English fragments built in (a status code, a codec's or the csv module's own words)."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest
from flask_babel import force_locale

from coopreg.agreements import services as agreement_services
from coopreg.agreements.models import RegistrationStatus
from coopreg.batches.layouts import fixed_cell
from coopreg.core.errors import DomainError
from coopreg.core.money import to_minor
from coopreg.core.spreadsheets import read_table
from coopreg.extensions import db
from coopreg.imports import services as import_services
from coopreg.imports.models import ImportRun, ImportStatus
from tests.contributions.helpers import make_agreement, make_member, register

ENGLISH = re.compile(r"\b(pending|ready|submitted|registered|rejected|suspended|terminated|"
                     r"draft|previewed|committed|failed|has more decimals|allows|cannot|"
                     r"characters|line break|malformed|codec|field larger)\b")


def _spanish(message: str) -> str:
    assert not ENGLISH.search(message), message
    return message


def test_a_refused_registration_move_names_the_statuses_in_spanish(ctx, coop):
    agreement = make_agreement(coop)
    member = make_member(coop)
    registration = register(agreement, member, date(2024, 1, 1),
                            status=RegistrationStatus.PENDING)
    with force_locale("es"), pytest.raises(DomainError) as refused:
        agreement_services.transition_registration(registration, RegistrationStatus.REGISTERED,
                                                   None, reason="x")
    assert "pendiente" in _spanish(refused.value.message).lower()


def test_too_many_decimals_is_said_in_spanish(ctx):
    with force_locale("es"), pytest.raises(DomainError) as refused:
        to_minor(Decimal("1.234"), "CRC")
    assert "decimales" in _spanish(refused.value.message)


def test_a_refused_import_status_is_said_in_spanish(ctx, coop):
    run = ImportRun(cooperative_id=coop.id, status=ImportStatus.COMMITTED)
    with force_locale("es"), pytest.raises(DomainError) as refused:
        import_services.set_status(run, ImportStatus.DRAFT)
    _spanish(refused.value.message)
    db.session.expunge_all()


def test_fixed_width_reasons_and_a_malformed_csv_are_said_in_spanish(ctx):
    with force_locale("es"):
        for value in ("x" * 20, "a\tb"):
            with pytest.raises(ValueError) as refused:
                fixed_cell(value, {"col_type": "text", "width": 5})
            _spanish(str(refused.value))
        with pytest.raises(DomainError) as refused:
            read_table(b'a,b\n"' + b"x" * 200_000 + b"\n", filename="f.csv")
        assert "CSV" in _spanish(refused.value.message)
