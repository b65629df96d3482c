"""The collection sheet pages in SQL (issue 25): no statement carries more than a page of
member ids, however many members owe (PostgreSQL refuses a statement of more than 65,535
bound parameters, which one IN list of every debtor reached at 300,000 members), the pages
follow one another in name order without gaps or repeats, and each page's totals are its
lines'."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from coopreg.agreements.models import Agreement
from coopreg.contributions import services
from coopreg.contributions.models import Due
from coopreg.core.audit import acting_as
from coopreg.extensions import db
from tests.contributions.helpers import make_agreement, make_member, receipt_input, register
from tests.sql_log import statements_run

THIS_MONTH = date.today().replace(day=1)
LAST_MONTH = (THIS_MONTH - timedelta(days=1)).replace(day=1)
NAMES = ["Zoila", "Ana", "Marta", "Beto", "Carla", "Ulises", "Diego", "Elena", "Félix",
         "Gloria", "Hugo", "Inés", "Jorge", "Karla", "Luis", "Nora", "Óscar", "Pablo",
         "Quique", "Rosa", "Sara", "Tomás", "Vera", "Wilma", "Ximena", "Yolanda"]


def _sheet_world(coop, names=NAMES):
    agreement = make_agreement(coop, valid_from=LAST_MONTH, reference="SHEET-1")
    members = []
    for name in names:
        member = make_member(coop, first_name=name, last_name=name, joined_on=date(2020, 1, 1))
        register(agreement, member, LAST_MONTH)
        members.append(member)
    services.generate_dues(agreement, LAST_MONTH, THIS_MONTH)
    return agreement, members


def test_no_statement_binds_more_than_a_page_of_members(cr):
    agreement, members = _sheet_world(cr)
    db.session.flush()
    with statements_run() as ran:
        page = services.expected_collection(agreement, date.today(), limit=4)
    counts = [len(r.parameters or ()) for r in ran if not r.executemany]
    # the old sheet bound one IN list of all 26 debtors; a page binds at most its own 5
    assert max(counts) < 20, counts
    assert len(page.lines) == 4


def test_pages_follow_in_name_order_with_their_totals(cr):
    agreement, members = _sheet_world(cr)
    # one member paid everything, another part of a due: both change what is owed
    services.record_receipt(cr, receipt_input(members[1], "2400", received_on=date.today()),
                            None)
    services.record_receipt(cr, receipt_input(members[2], "500", received_on=date.today()),
                            None)
    db.session.flush()
    everyone = services.expected_collection(agreement, date.today(), limit=1000)
    assert everyone.next_cursor is None
    seen, after = [], None
    while True:
        page = services.expected_collection(agreement, date.today(), limit=4, after=after)
        assert page.count == len(page.lines) <= 4
        assert page.total_minor == sum(line.expected_minor for line in page.lines)
        seen.extend(page.lines)
        if page.next_cursor is None:
            break
        assert page.next_cursor == page.lines[-1].member.id
        after = page.next_cursor
    assert [(line.member.id, line.expected_minor, line.periods) for line in seen] == [
        (line.member.id, line.expected_minor, line.periods) for line in everyone.lines]
    names = [line.member.search_name for line in seen]
    assert names == sorted(names) and len(seen) == len(NAMES) - 1  # Ana paid it all
    assert members[1].id not in {line.member.id for line in seen}
    marta = next(line for line in seen if line.member.id == members[2].id)
    assert marta.expected_minor == 2 * 60000 - 50000  # two dues of 600.00, 500.00 paid
    assert [line.periods for line in seen][0] == [LAST_MONTH, THIS_MONTH]
    # every open due is on exactly one page
    open_minor = sum(due.member_share_minor for due in db.session.scalars(
        select(Due).where(Due.agreement_id == agreement.id))) - 2 * 60000 - 50000
    assert sum(line.expected_minor for line in seen) == open_minor


def test_the_sheet_pages_through_the_client(app, as_role, coop, monkeypatch):
    with app.app_context(), acting_as(None, "tests"):
        agreement, members = _sheet_world(coop, ["Carla", "Ana", "Beto"])
        db.session.commit()
        agreement_id = agreement.id
        ids = {m.first_name: m.id for m in members}
    monkeypatch.setitem(app.config, "COLLECTION_SHEET_PER_PAGE", 2)
    client = as_role("treasurer")
    url = f"/contributions/collection?agreement_id={agreement_id}&collected_on={date.today()}"
    first = client.get(url).get_data(as_text=True)
    assert f'name="amount-{ids["Ana"]}"' in first and f'name="amount-{ids["Beto"]}"' in first
    assert f'name="amount-{ids["Carla"]}"' not in first
    assert "This page: 2 members, ₡2,400.00" in first
    assert f"after={ids['Beto']}" in first and 'rel="next"' in first
    second = client.get(f"{url}&after={ids['Beto']}").get_data(as_text=True)
    assert f'name="amount-{ids["Carla"]}"' in second
    assert f'name="amount-{ids["Ana"]}"' not in second and 'rel="next"' not in second
    assert "This page: 1 members, ₡1,200.00" in second
    assert f'name="after" type="hidden" value="{ids["Beto"]}"' in second
    with app.app_context():
        assert db.session.get(Agreement, agreement_id) is not None
