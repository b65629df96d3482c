"""Dates as other people's files write them: every common form, the order of day and month
decided for the whole column, and a column that mixes both orders refused, never guessed."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from coopreg.core.dates import (
    DAY_FIRST,
    MONTH_FIRST,
    MixedOrders,
    NotADate,
    column_order,
    read_date,
)

FEB_1 = date(2025, 2, 1)


@pytest.mark.parametrize("text", [
    "2025-02-01", "2025/02/01", "2025-02-01 00:00:00", "2025-02-01T08:30", "20250201",
    "01/02/2025", "1/2/2025", "01-02-2025", "01.02.2025", "1 de febrero de 2025",
    "01-FEB-2025", "1 Feb 2025", "Feb 1, 2025", "February 01 2025", "1er février 2025",
    "1 de fevereiro de 2025", "1 févr. 2025", "45689", "45689.0",
])
def test_every_common_form_of_the_first_of_february(text):
    assert read_date(text, DAY_FIRST) == FEB_1


def test_the_order_decides_between_day_and_month():
    assert read_date("02/01/2025", MONTH_FIRST) == FEB_1
    assert read_date("02/01/2025", DAY_FIRST) == date(2025, 1, 2)
    # names and ISO forms say it themselves, whatever the column's order
    assert read_date("1 de febrero de 2025", MONTH_FIRST) == FEB_1
    assert read_date("2025-02-01", MONTH_FIRST) == FEB_1


def test_spreadsheet_values():
    assert read_date(datetime(2025, 2, 1, 9, 0)) == FEB_1
    assert read_date(FEB_1) == FEB_1
    assert read_date(45689) == FEB_1
    assert read_date(None) is None and read_date("  ") is None


@pytest.mark.parametrize("value", [
    "31/31/2025", "29/02/2025", "01/02/25", "2025", "yesterday", "13 Smarch 2025", True, 12,
    "99999999",
])
def test_what_is_not_a_date_is_refused(value):
    with pytest.raises(NotADate):
        read_date(value)


def test_the_column_says_which_comes_first():
    assert column_order(["01/02/2025", "13/02/2025"]) == DAY_FIRST
    assert column_order(["02/01/2025", "02/13/2025", ""]) == MONTH_FIRST
    # nothing in the column decides: the country's habit (the Philippines write month first)
    assert column_order(["01/02/2025", "2025-03-01"], "PH") == MONTH_FIRST
    assert column_order(["01/02/2025"], "CR") == DAY_FIRST
    assert column_order([], "AR") == DAY_FIRST


def test_a_column_with_both_orders_is_refused():
    with pytest.raises(MixedOrders):
        column_order(["13/02/2025", "02/13/2025"])
