"""Amounts typed as the app shows them, in every language, are read right; ambiguous input,
other digits and absurd values (a receipt above the ceiling, money dated before the
cooperative was founded) are refused with a clear message; every amount field of every form
is the one MoneyField; the remittance form pre-fills the total it expects."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from flask_babel import force_locale
from flask_wtf import FlaskForm
from sqlalchemy import func, select

import coopreg
from coopreg.contributions import services
from coopreg.contributions.models import Receipt, Remittance
from coopreg.cooperatives import services as cooperative_services
from coopreg.cooperatives.models import Cooperative
from coopreg.core.audit import acting_as
from coopreg.core.errors import DomainError
from coopreg.core.forms import MoneyField
from coopreg.core.money import amount_for_typing, parse_amount
from coopreg.extensions import db
from coopreg.members.models import Member
from tests.contributions.helpers import make_agreement, make_member, receipt_input, register

BIG = Decimal("6268125.00")


@pytest.mark.parametrize("text", [
    "6.268.125,00",                      # es, pt
    "6 268 125,00",                      # fr, typed with spaces
    "6\u202f268\u202f125,00",            # fr as CLDR writes it: narrow no-break spaces
    "6\u00a0268\u00a0125,00",            # no-break spaces (pt-PT, older fr)
    "6,268,125.00",                      # en
    "6268125.00", "6268125,00",          # plain
    " 6.268.125,00 ",
])
def test_an_amount_in_any_of_the_apps_formats_is_read_right(text):
    assert parse_amount(text, "CRC") == BIG


@pytest.mark.parametrize("text,expected", [
    ("250", Decimal("250")), ("250.5", Decimal("250.5")), ("250,50", Decimal("250.50")),
    ("1.234,5", Decimal("1234.5")), ("6.268.125", Decimal("6268125")),
    ("1 000", Decimal("1000")), (Decimal("12.30"), Decimal("12.30")),
])
def test_plain_and_grouped_amounts(text, expected):
    assert parse_amount(text, "CRC") == expected


@pytest.mark.parametrize("text,message", [
    ("1.234", "is ambiguous"), ("1,234", "is ambiguous"), ("250.000", "is ambiguous"),
    ("١٢٣٤", "digits 0 to 9"), ("１２３", "digits 0 to 9"), ("१२३", "digits 0 to 9"),
    ("12.34.567", "grouped by three"), ("1,2,3", "grouped by three"), ("1 23,00", "grouped by"),
    ("6.268.125.00", "grouped by three"), ("1,234.567", "at most 2 decimals"),
    ("abc", "not an amount"), (".5", "not an amount"), ("5.", "not an amount"),
    ("1e30", "not an amount"), ("-5", "negative"), ("9" * 20, "too large"),
])
def test_ambiguous_foreign_digits_and_malformed_amounts_are_refused(ctx, text, message):
    with pytest.raises(DomainError, match=message):
        parse_amount(text, "CRC")


def test_the_ambiguity_message_shows_both_ways_in_the_users_language(ctx):
    with force_locale("es"), pytest.raises(DomainError) as refused:
        parse_amount("1.234", "CRC")
    assert "1234" in refused.value.message and "1.234,00" in refused.value.message
    with pytest.raises(DomainError, match="write 1234"):
        parse_amount("1.234", "XOF")  # no decimals to write


def test_amount_for_typing_is_read_back_in_every_language(ctx):
    for language, shown in (("es", "6.268.125,00"), ("en", "6,268,125.00")):
        with force_locale(language):
            assert amount_for_typing(626812500, "CRC") == shown
            assert parse_amount(amount_for_typing(626812500, "CRC"), "CRC") == BIG
    with force_locale("fr"):
        assert parse_amount(amount_for_typing(626812500, "CRC"), "CRC") == BIG


def _form_classes():
    for info in pkgutil.walk_packages(coopreg.__path__, "coopreg."):
        if info.name.endswith(".forms"):
            module = importlib.import_module(info.name)
            for _name, cls in inspect.getmembers(module, inspect.isclass):
                if issubclass(cls, FlaskForm) and cls.__module__ == module.__name__:
                    yield cls


MONEY_NAMES = re.compile(r"(^|_)(amount|income|floor|ceiling|total)$")


def test_every_amount_field_of_every_form_is_a_money_field():
    seen = []
    for cls in _form_classes():
        for name in dir(cls):
            unbound = getattr(cls, name)
            if getattr(unbound, "field_class", None) is None or not MONEY_NAMES.search(name):
                continue
            seen.append(f"{cls.__name__}.{name}")
            assert issubclass(unbound.field_class, MoneyField), f"{cls.__name__}.{name}"
    assert {"ReceiptForm.amount", "RemittanceForm.amount", "AcknowledgeForm.amount",
            "SheetPostForm.control_total"} <= set(seen)


@pytest.fixture
def setup(ctx, coop):
    agreement = make_agreement(coop)
    member = make_member(coop, joined_on=date(2020, 1, 1))
    register(agreement, member, date(2024, 1, 1))
    return db.session.get(Cooperative, coop.id), agreement, member


def test_a_receipt_above_the_ceiling_is_refused(setup, app, monkeypatch):
    cooperative, _agreement, member = setup
    monkeypatch.setitem(app.config, "COOPREG_MAX_RECEIPT_AMOUNT", 500000)
    with pytest.raises(DomainError, match="more than one receipt may be") as refused:
        services.record_receipt(cooperative, receipt_input(member, "6.268.125,00"), None,
                                today=date(2024, 6, 1))
    assert refused.value.field == "amount"
    receipt, created = services.record_receipt(cooperative, receipt_input(member, "500.000,00"),
                                               None, today=date(2024, 6, 1))
    assert created and receipt.amount_minor == 50000000
    monkeypatch.setitem(app.config, "COOPREG_MAX_RECEIPT_AMOUNT", 0)  # no ceiling
    services.record_receipt(cooperative, receipt_input(member, "6.268.125,00"), None,
                            today=date(2024, 6, 1))


def test_the_ceiling_is_a_setting_read_from_the_environment(monkeypatch):
    import config

    assert config.Config.COOPREG_MAX_RECEIPT_AMOUNT == 10_000_000
    monkeypatch.setenv("COOPREG_MAX_RECEIPT_AMOUNT", "lots")
    with pytest.raises(ValueError, match="COOPREG_MAX_RECEIPT_AMOUNT"):
        config._env_number("COOPREG_MAX_RECEIPT_AMOUNT", 10_000_000, 0)


def test_money_dated_before_the_cooperative_was_founded_is_refused(setup):
    cooperative, agreement, member = setup
    with pytest.raises(DomainError, match="too far in the past"):
        services.record_receipt(cooperative, receipt_input(
            member, "10", received_on=date(1024, 2, 28)), None, today=date(2024, 6, 1))
    cooperative_services.update_settings(cooperative, cooperative.name, cooperative.locale,
                                         None, None, None, founded_on=date(2024, 3, 1))
    with pytest.raises(DomainError, match="before the cooperative was founded") as refused:
        services.record_receipt(cooperative, receipt_input(
            member, "10", received_on=date(2024, 2, 28)), None, today=date(2024, 6, 1))
    assert refused.value.field == "received_on"
    with pytest.raises(DomainError, match="in the future"):
        cooperative_services.update_settings(cooperative, cooperative.name, cooperative.locale,
                                             None, None, None,
                                             founded_on=date.today() + timedelta(days=1))
    services.generate_dues(agreement, date(2024, 3, 1), date(2024, 3, 1))
    services.record_receipt(cooperative, receipt_input(member, "600", received_on=date(
        2024, 3, 5)), None, today=date(2024, 6, 1))
    with pytest.raises(DomainError, match="before the cooperative was founded"):
        services.record_remittance(agreement, date(2024, 3, 1), date(2024, 2, 1), "1000", None,
                                   None, today=date(2024, 6, 1))


THIS_MONTH = date.today().replace(day=1)
LAST_MONTH = (THIS_MONTH - timedelta(days=1)).replace(day=1)


def test_the_pages_take_amounts_as_shown_and_prefill_the_remittance(app, as_role, coop):
    with app.app_context(), acting_as(None, "tests"):
        agreement = make_agreement(coop, valid_from=LAST_MONTH, reference="AMT-1",
                                   terms={"rule_kind": "flat", "flat_amount": "1.500.000,00",
                                          "member_share_percent": "60", "schedule": "monthly",
                                          "due_day": 10, "grace_days": 5,
                                          "remittance_deadline_days": 15})
        member = make_member(coop, joined_on=date(2020, 1, 1))
        register(agreement, member, LAST_MONTH)
        services.generate_dues(agreement, LAST_MONTH, LAST_MONTH)
        db.session.commit()
        ids = {"agreement": agreement.id, "member": member.id}
    client = as_role("treasurer")
    form = client.get("/contributions/receipts/new").get_data(as_text=True)
    key = re.search(r'name="idempotency_key" type="hidden" value="([^"]+)"', form).group(1)
    response = client.post("/contributions/receipts/new", data={
        "member_id": ids["member"], "member_query": "", "received_on": date.today(),
        "amount": "900\u202f000,00", "method": "cash", "idempotency_key": key})
    assert response.status_code == 302, response.get_data(as_text=True)[-2000:]
    bad = client.post("/contributions/receipts/new", data={
        "member_id": ids["member"], "member_query": "", "received_on": date.today(),
        "amount": "٩٠٠", "method": "cash", "idempotency_key": key + "x"})
    assert bad.status_code == 422 and "digits 0 to 9" in bad.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(Receipt.amount_minor)) == 90000000
    url = f"/contributions/agreements/{ids['agreement']}/remittances/new"
    page = client.get(f"{url}?period={LAST_MONTH:%Y-%m}").get_data(as_text=True)
    prefilled = re.search(r'name="amount"[^>]*value="([^"]*)"', page).group(1)
    assert prefilled == "1,500,000.00"  # the expected total, both shares
    done = client.post(url, data={"period": f"{LAST_MONTH:%Y-%m}", "remitted_on": date.today(),
                                  "amount": prefilled})
    assert done.status_code == 302
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Remittance)) == 1
        assert db.session.get(Member, ids["member"]) is not None
