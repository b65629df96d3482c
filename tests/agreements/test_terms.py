"""Agreement terms: amendments keep the earlier terms, the schedule says when dues fall, and
the contribution rule splits each due between the member and the cooperative."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from coopreg.agreements import services
from coopreg.agreements.models import RuleKind, Schedule
from coopreg.core.errors import DomainError
from coopreg.extensions import db
from tests.agreements.conftest import FLAT

RATE = {"rule_kind": "rate", "rate_percent": "10.5", "floor": "300000", "ceiling": "2000000",
        "member_share_percent": "60", "schedule": "monthly", "due_day": 15, "grace_days": 10,
        "remittance_deadline_days": 20}


def test_the_first_terms_take_effect_with_the_agreement(agreement):
    assert len(agreement.terms) == 1
    first = agreement.terms[0]
    assert first.effective_from == date(2024, 1, 1)
    assert (first.rule_kind, first.flat_amount_minor, first.member_share_bp) == (
        RuleKind.FLAT, 50000, 5000)
    assert first.cooperative_share_bp == 5000


def test_amendments_keep_the_old_terms(agreement):
    old = agreement.terms[0]
    services.amend_terms(agreement, {**FLAT, "flat_amount": "650.50",
                                     "effective_from": date(2025, 1, 1),
                                     "note": "Renewal 2025"}, None)
    services.amend_terms(agreement, {**RATE, "effective_from": date(2025, 7, 1)}, None)
    db.session.expire_all()
    assert [t.effective_from for t in agreement.terms] == [
        date(2024, 1, 1), date(2025, 1, 1), date(2025, 7, 1)]
    assert agreement.terms[0].id == old.id and agreement.terms[0].flat_amount_minor == 50000
    assert services.terms_on(agreement, date(2023, 12, 31)) is None
    assert services.terms_on(agreement, date(2024, 12, 31)).flat_amount_minor == 50000
    assert services.terms_on(agreement, date(2025, 1, 1)).flat_amount_minor == 65050
    assert services.terms_on(agreement, date(2025, 1, 1)).note == "Renewal 2025"
    assert services.terms_on(agreement, date(2026, 3, 1)).rate_bp == 1050


@pytest.mark.parametrize("effective_from", [date(2024, 1, 1), date(2023, 6, 1)])
def test_an_amendment_must_come_after_the_latest(agreement, effective_from):
    with pytest.raises(DomainError, match="after the latest one") as error:
        services.amend_terms(agreement, {**FLAT, "effective_from": effective_from}, None)
    assert error.value.field == "effective_from"
    assert len(agreement.terms) == 1


def test_an_amendment_cannot_fall_after_the_agreement_ends(make_agreement):
    agreement = make_agreement("Y2024", valid_to=date(2024, 12, 31))
    with pytest.raises(DomainError, match="ends before that date"):
        services.amend_terms(agreement, {**FLAT, "effective_from": date(2025, 1, 1)}, None)


def test_terms_rows_are_never_changed(agreement):
    agreement.terms[0].flat_amount_minor = 1
    with pytest.raises(RuntimeError, match="never changed"):
        db.session.flush()
    db.session.rollback()


def test_terms_rows_are_never_deleted(agreement):
    db.session.delete(agreement.terms[0])
    with pytest.raises(RuntimeError, match="never changed"):
        db.session.flush()
    db.session.rollback()


@pytest.mark.parametrize(("changes", "field", "message"), [
    ({"rule_kind": "flat", "flat_amount": ""}, "flat_amount", "Amount per period is required"),
    ({"rule_kind": "flat", "flat_amount": "0"}, "flat_amount", "more than zero"),
    ({"rule_kind": "flat", "flat_amount": "1.2345"}, "flat_amount", "at most 2 decimals"),
    ({"rate_percent": ""}, "rate_percent", "Rate is required"),
    ({"rate_percent": "0"}, "rate_percent", "between 0 and 100"),
    ({"rate_percent": "101"}, "rate_percent", "between 0 and 100"),
    ({"rate_percent": "10.555"}, "rate_percent", "at most two decimals"),
    ({"rate_percent": "ten"}, "rate_percent", "not a number"),
    ({"floor": "3000000"}, "ceiling", "The floor is above the ceiling"),
    ({"member_share_percent": "120"}, "member_share_percent", "between 0 and 100"),
    ({"schedule": "weekly"}, "schedule", "Schedule must be one of"),
    ({"schedule": "seasonal", "due_months": []}, "due_months", "months of the season"),
    ({"schedule": "seasonal", "due_months": [13]}, "due_months", "from 1 to 12"),
    ({"schedule": "yearly", "due_months": [3, 4]}, "due_months", "one month"),
    ({"due_day": 32}, "due_day", "between 1 and 31"),
    ({"grace_days": -1}, "grace_days", "between 0 and 365"),
    ({"rule_kind": "gift"}, "rule_kind", "Contribution rule must be one of"),
])
def test_bad_terms_are_refused(changes, field, message):
    with pytest.raises(DomainError) as error:
        services.clean_terms("CRC", {**RATE, "effective_from": date(2025, 1, 1), **changes})
    assert message in error.value.message
    assert error.value.field == field


def test_rates_are_basis_points_and_months_a_list():
    values = services.clean_terms("CRC", {**RATE, "effective_from": date(2025, 1, 1),
                                          "rate_percent": "9,25 %", "schedule": "seasonal",
                                          "due_months": [12, 1, 11, "2"]})
    assert values["rate_bp"] == 925
    assert values["member_share_bp"] == 6000
    assert (values["floor_minor"], values["ceiling_minor"]) == (30000000, 200000000)
    assert values["due_months"] == "1,2,11,12"
    assert values["flat_amount_minor"] is None


# ---- when dues fall -------------------------------------------------------------------------

def _with_schedule(make_agreement, reference, **schedule):
    return make_agreement(reference, terms={**FLAT, **schedule})


def test_monthly_dues_fall_every_month_on_the_due_day(make_agreement):
    agreement = _with_schedule(make_agreement, "M", schedule="monthly", due_day=31,
                               grace_days=5, remittance_deadline_days=15)
    assert services.due_months(agreement, 2025) == list(range(1, 13))
    february = services.periods_between(agreement, date(2025, 2, 1), date(2025, 2, 28))[0]
    assert february.month == date(2025, 2, 1)
    assert february.due_date == date(2025, 2, 28)  # the month is shorter than the due day
    assert february.grace_until == date(2025, 3, 5)
    assert february.remittance_deadline == date(2025, 3, 15)


def test_quarterly_dues_fall_at_the_end_of_calendar_quarters(make_agreement):
    agreement = _with_schedule(make_agreement, "Q", schedule="quarterly")
    assert services.due_months(agreement, 2025) == [3, 6, 9, 12]


def test_yearly_dues_fall_in_their_one_month(make_agreement):
    agreement = _with_schedule(make_agreement, "Y", schedule="yearly", due_months=[4])
    assert services.due_months(agreement, 2025) == [4]


def test_seasonal_dues_fall_only_in_the_season(make_agreement):
    agreement = _with_schedule(make_agreement, "S", schedule="seasonal",
                               due_months=[11, 12, 1, 2])
    assert services.due_months(agreement, 2025) == [1, 2, 11, 12]
    periods = services.periods_between(agreement, date(2025, 10, 1), date(2026, 3, 31))
    assert [p.month for p in periods] == [date(2025, 11, 1), date(2025, 12, 1),
                                          date(2026, 1, 1), date(2026, 2, 1)]


def test_dues_follow_the_agreement_dates_and_the_amendments(make_agreement):
    agreement = make_agreement("A", valid_from=date(2024, 3, 20), valid_to=date(2025, 8, 31),
                               terms={**FLAT, "schedule": "monthly"})
    assert services.due_months(agreement, 2023) == []
    assert services.due_months(agreement, 2024) == list(range(3, 13))
    services.amend_terms(agreement, {**FLAT, "schedule": "seasonal", "due_months": [3, 4, 5],
                                     "effective_from": date(2025, 1, 1)}, None)
    assert services.due_months(agreement, 2025) == [3, 4, 5]
    march = services.periods_between(agreement, date(2024, 3, 1), date(2024, 3, 31))[0]
    assert march.terms.schedule == Schedule.MONTHLY


# ---- contributions --------------------------------------------------------------------------

def test_a_flat_contribution_is_split_by_the_shares(make_agreement, new_member):
    agreement = make_agreement("F", terms={**FLAT, "flat_amount": "500.01",
                                           "member_share_percent": "33.33"})
    member_share, cooperative_share = services.contribution_for(agreement, new_member(),
                                                                date(2025, 5, 20))
    assert member_share == Decimal("166.65")  # 500.01 × 33.33 % = 166.653… rounded
    assert member_share + cooperative_share == Decimal("500.01")
    assert cooperative_share == Decimal("333.36")


@pytest.mark.parametrize(("income", "expected_total"), [
    ("250000", Decimal("31500.00")),  # below the floor: 300 000 × 10.5 %
    ("1000000", Decimal("105000.00")),  # 1 000 000 × 10.5 %
    ("5000000", Decimal("210000.00")),  # above the ceiling: 2 000 000 × 10.5 %
    ("", Decimal("31500.00")),  # no declared income: the floor
])
def test_a_rate_applies_between_the_floor_and_the_ceiling(make_agreement, new_member, income,
                                                          expected_total):
    agreement = make_agreement("R", terms=RATE)
    member = new_member(declared_income=income)
    member_share, cooperative_share = services.contribution_for(agreement, member,
                                                                date(2025, 1, 1))
    assert member_share + cooperative_share == expected_total
    assert member_share == (expected_total * Decimal("0.6")).quantize(Decimal("0.01"))


def test_a_seasonal_due_stands_for_the_year_spread_over_the_season(make_agreement, new_member):
    agreement = make_agreement("SR", terms={**RATE, "schedule": "seasonal",
                                            "due_months": [11, 12, 1, 2]})
    member = new_member(declared_income="1000000")
    member_share, cooperative_share = services.contribution_for(agreement, member,
                                                                date(2025, 11, 1))
    # 1 000 000 × 12 months / 4 dues × 10.5 %
    assert member_share + cooperative_share == Decimal("315000.00")


def test_a_quarterly_due_stands_for_three_months(make_agreement, new_member):
    agreement = make_agreement("QR", terms={**RATE, "schedule": "quarterly"})
    total = sum(services.contribution_for(agreement, new_member(declared_income="1000000"),
                                          date(2025, 3, 1)))
    assert total == Decimal("315000.00")


def test_no_income_and_no_floor_is_refused(make_agreement, new_member):
    agreement = make_agreement("NF", terms={**RATE, "floor": ""})
    with pytest.raises(DomainError, match="no declared income"):
        services.contribution_for(agreement, new_member(declared_income=""), date(2025, 1, 1))


def test_the_contribution_follows_the_terms_of_the_period(agreement, new_member):
    services.amend_terms(agreement, {**FLAT, "flat_amount": "800",
                                     "effective_from": date(2025, 1, 1)}, None)
    member = new_member()
    assert sum(services.contribution_for(agreement, member, date(2024, 12, 31))) == 500
    assert sum(services.contribution_for(agreement, member, date(2025, 1, 31))) == 800
    with pytest.raises(DomainError, match="no terms in force"):
        services.contribution_for(agreement, member, date(2023, 12, 1))
