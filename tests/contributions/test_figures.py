"""Figures a treasurer can trust (issue 14): the reconciliation in one basis with whose money
each column counts, its flags in the user's locale, write-offs of dues that will never be
paid, and the member's status wherever a member appears in money lists (deceased members off
the collection sheet and the call list, departed members' arrears apart)."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from babel.dates import format_date
from flask_babel import force_locale
from openpyxl import load_workbook
from sqlalchemy import func, select

from coopreg.agreements.models import Agreement
from coopreg.contributions import reports, services
from coopreg.contributions.models import Due, DueWriteOff, RemittanceLine
from coopreg.cooperatives.models import Cooperative
from coopreg.core.audit import AuditEvent, acting_as
from coopreg.core.errors import DomainError
from coopreg.extensions import db
from coopreg.members import services as member_services
from coopreg.members.models import Member
from tests.contributions.helpers import make_agreement, make_member, receipt_input, register

THIS_MONTH = date.today().replace(day=1)


def _back(n: int) -> date:
    day = THIS_MONTH
    for _ in range(n):
        day = (day - timedelta(days=1)).replace(day=1)
    return day


START, LAST_MONTH = _back(3), _back(1)


@pytest.fixture
def ledger(app, coop):
    """Four members since three months ago (dues of 1000: 600 the member's, 400 the
    cooperative's) through last month. Ana and Beto paid everything and the oldest month is
    remitted; Dani left, Eva died; nobody else paid."""
    with app.test_request_context(), acting_as(None, "tests"):
        cooperative = db.session.get(Cooperative, coop.id)
        agreement = make_agreement(cooperative, valid_from=START, reference="FIG-1")
        people = {name: make_member(cooperative, first_name=name, joined_on=date(2020, 1, 1))
                  for name in ("Ana", "Beto", "Dani", "Eva")}
        for member in people.values():
            register(agreement, member, START)
        services.generate_dues(agreement, START, LAST_MONTH)
        for name in ("Ana", "Beto"):
            services.record_receipt(cooperative, receipt_input(
                people[name], "1800", received_on=START + timedelta(days=20)), None)
        services.record_remittance(agreement, START, START + timedelta(days=25), "2000",
                                   "R-1", None)
        member_services.change_member_status(people["Dani"], "left", date.today(), "moved",
                                             None)
        member_services.change_member_status(people["Eva"], "deceased", date.today(),
                                             "died", None)
        db.session.commit()
        return {"agreement_id": agreement.id, **{n: m.id for n, m in people.items()}}


def _agreement(ledger) -> Agreement:
    return db.session.get(Agreement, ledger["agreement_id"])


def _due(ledger, name: str, period: date) -> Due:
    return db.session.scalar(select(Due).where(Due.member_id == ledger[name],
                                               Due.period == period))


# ---- reconciliation: one basis, whose money, the locale --------------------------------------

def test_reconciliation_compares_remitted_with_both_shares(app, ledger):
    with app.test_request_context():
        figures = {f.period: f for f in reports.reconciliation(_agreement(ledger))}
        first = figures[START]
        # four dues of 600 + 400; two fully paid and remitted with both shares
        assert (first.due_minor, first.cooperative_share_minor) == (240000, 160000)
        assert first.due_total_minor == 400000
        assert first.remitted_minor == 200000
        assert first.open_minor == first.due_minor - first.allocated_minor == 120000
        for figure in figures.values():
            assert figure.remitted_minor + figure.unremitted_minor <= figure.due_total_minor


def test_reconciliation_page_and_spreadsheet_say_whose_money(app, as_role, ledger):
    client = as_role("viewer")
    page = client.get(f"/contributions/reconciliation?agreement_id={ledger['agreement_id']}"
                      ).get_data(as_text=True)
    explanation = "the both-shares columns (to remit, remitted, acknowledged) compare with"
    assert explanation in page.split("data-explanation>", 1)[1]
    header = page.split("<thead>", 1)[1].split("</thead>", 1)[0]
    for group in ("Members' share", "Cooperative's share", "Both shares"):
        assert group in header
    row = page.split(f'data-period="{START:%Y-%m}"', 1)[1].split("</tr>", 1)[0]
    # the currency is named once, above the table (the columns stay narrow)
    assert "Amounts in CRC." in page.split("<caption", 1)[1].split("</caption>", 1)[0]
    assert "4,000.00" in row.split('data-figure="due_total"', 1)[1].split("</td>", 1)[0]
    # "paid" opens every due something was paid towards (partial payments too)
    assert "kind=allocated" in row.split('data-figure="allocated"', 1)[1].split("</td>", 1)[0]
    response = client.get(f"/contributions/agreements/{ledger['agreement_id']}"
                          "/reconciliation.xlsx")
    assert response.headers["Content-Disposition"].startswith("attachment")
    book = load_workbook(io.BytesIO(response.data))
    headers = [c.value for c in book["Reconciliation"][1]]
    money_headers = [h for h in headers if h and h.endswith("(CRC)")]
    assert money_headers and all("members' share" in h or "cooperative's share" in h
                                 or "both shares" in h for h in money_headers)
    first = next(r for r in book["Reconciliation"].iter_rows(min_row=2, values_only=True)
                 if r[0] == format_date(START, "MMM y", locale="en"))
    assert first[headers.index("Due, both shares (CRC)")] == 4000
    assert first[headers.index("Remitted, both shares (CRC)")] == 2000
    assert explanation in book["How to read"]["A2"].value


def test_reconciliation_flags_format_money_in_the_users_locale(app, ledger):
    with app.test_request_context(), force_locale("es"):
        flags = " ".join(f for figure in reports.reconciliation(_agreement(ledger))
                         if figure.period == START for f in figure.flags)
    assert "1.200,00\xa0₡" in flags and "1200.00" not in flags


# ---- write-offs -------------------------------------------------------------------------------

def test_write_off_clears_what_is_open_audited_and_never_deleted(app, ledger, coop):
    with app.test_request_context(), acting_as(None, "tests"):
        due = _due(ledger, "Eva", START)
        with pytest.raises(DomainError):
            services.write_off_due(due, "", None)
        write_off = services.write_off_due(due, "Died in the period; no estate.", None)
        assert write_off.amount_minor == 60000
        with pytest.raises(DomainError, match="already written off"):
            services.write_off_due(due, "again", None)
        paid_due = _due(ledger, "Ana", START)
        with pytest.raises(DomainError, match="Nothing is open"):
            services.write_off_due(paid_due, "paid anyway", None)
        assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.entity == "due_write_offs", AuditEvent.entity_id == write_off.id)) == 1
        # out of the arrears, shown in the reconciliation, out of the member's balance
        rows = reports.arrears(coop.id, group="deceased", min_days=0)
        assert [r.periods for r in rows] == [2]  # three dues, one written off
        figure = next(f for f in reports.reconciliation(_agreement(ledger))
                      if f.period == START)
        assert figure.written_off_minor == 60000 and figure.open_minor == 60000
        statement = reports.member_statement(db.session.get(Member, ledger["Eva"]))
        assert statement.written_off_minor == 60000
        assert statement.balance_minor == 3 * 60000 - 60000
        # credit that comes later pays other dues, never the written-off one
        assert [d.id for d, _open in services.open_dues(ledger["Eva"])] == [
            _due(ledger, "Eva", p).id for p in (_back(2), LAST_MONTH)]
        # the due itself stays; the write-off is never changed nor deleted
        assert db.session.get(Due, due.id) is not None
        db.session.delete(write_off)
        with pytest.raises(RuntimeError, match="append-only"):
            db.session.flush()
        db.session.rollback()


def test_write_off_page_asks_for_confirmation(app, as_role, ledger):
    with app.app_context():
        due_id = _due(ledger, "Dani", START).id
    client = as_role("treasurer")
    url = f"/contributions/dues/{due_id}/write-off"
    form = client.get(url).get_data(as_text=True)
    assert "₡600.00" in form and 'data-member-status="left"' in form
    assert client.post(url, data={"reason": "", "confirmed": "y"}).status_code == 422
    assert 'name="confirmed" value="y" required' in form  # the box is on the form itself
    asked = client.post(url, data={"reason": "Left for abroad, unreachable"})
    assert asked.status_code == 409  # not ticked: the confirmation page, nothing written
    text = asked.get_data(as_text=True)
    assert "cannot be undone" in text and "Left for abroad, unreachable" in text
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(DueWriteOff)) == 0
    done = client.post(url, data={"reason": "Left for abroad, unreachable",
                                  "confirmed": "y"})
    assert done.status_code == 302
    with app.app_context():
        write_off = db.session.scalar(select(DueWriteOff))
        assert (write_off.due_id, write_off.reason) == (due_id, "Left for abroad, unreachable")
    statement = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "₡600.00 written off" in statement


def test_written_off_dues_are_never_remitted(app, ledger):
    with app.test_request_context(), acting_as(None, "tests"):
        services.write_off_due(_due(ledger, "Eva", LAST_MONTH), "Died", None)
        remitted = {line.due_id for line in db.session.scalars(select(RemittanceLine))}
        assert _due(ledger, "Eva", LAST_MONTH).id not in remitted
        assert _due(ledger, "Eva", LAST_MONTH) not in services.remittable_dues(
            _agreement(ledger), LAST_MONTH)


# ---- member status in money lists ------------------------------------------------------------

def test_collection_sheet_leaves_deceased_out_and_shows_statuses(app, as_role, ledger):
    client = as_role("treasurer")
    url = (f"/contributions/collection?agreement_id={ledger['agreement_id']}"
           f"&collected_on={date.today()}")
    sheet = client.get(url).get_data(as_text=True)
    assert f'name="amount-{ledger["Dani"]}"' in sheet
    assert 'data-member-status="left"' in sheet
    assert f'name="amount-{ledger["Eva"]}"' not in sheet
    with_deceased = client.get(url + "&include_deceased=y").get_data(as_text=True)
    assert f'name="amount-{ledger["Eva"]}"' in with_deceased
    assert 'data-member-status="deceased"' in with_deceased


def test_arrears_call_list_sets_departed_apart_and_deceased_aside(app, as_role, ledger):
    client = as_role("secretary")
    page = client.get("/contributions/arrears?days=0").get_data(as_text=True)
    current = page.split('data-group="current"', 1)[1].split("</section>", 1)[0]
    departed = page.split('data-group="departed"', 1)[1].split("</section>", 1)[0]
    assert f'data-member="{ledger["Dani"]}"' in departed
    assert f'data-member="{ledger["Dani"]}"' not in current
    assert 'data-member-status="left"' in departed
    assert f'data-member="{ledger["Eva"]}"' not in page
    with_deceased = client.get("/contributions/arrears?days=0&deceased=1").get_data(
        as_text=True)
    deceased = with_deceased.split('data-group="deceased"', 1)[1].split("</section>", 1)[0]
    assert f'data-member="{ledger["Eva"]}"' in deceased
    started = client.post("/contributions/arrears/export", data={"days": "0"})
    download = client.get(started.headers["Location"] + "/download")
    book = load_workbook(io.BytesIO(download.data))
    download.close()
    assert book.sheetnames[:2] == ["Arrears", "Departed members"]
    assert "Deceased members" not in book.sheetnames
    departed_rows = list(book["Departed members"].iter_rows(min_row=2, values_only=True))
    assert [r[2] for r in departed_rows] == ["Left"]


def test_receipts_show_the_members_status(app, as_role, ledger):
    with app.test_request_context(), acting_as(None, "tests"):
        cooperative = db.session.scalar(select(Cooperative))
        receipt, _ = services.record_receipt(cooperative, receipt_input(
            db.session.get(Member, ledger["Dani"]), "600", received_on=date.today()), None)
        db.session.commit()
        receipt_id = receipt.id
    client = as_role("treasurer")
    assert 'data-member-status="left"' in client.get("/contributions/receipts").get_data(
        as_text=True)
    assert 'data-member-status="left"' in client.get(
        f"/contributions/receipts/{receipt_id}").get_data(as_text=True)


def test_member_list_filters_members_missing_a_document(app, as_role, coop, make_member):
    complete = make_member(coop, first_name="Completa")
    lacking = make_member(coop, first_name="Incompleta")
    with app.app_context(), acting_as(None, "tests"):
        from coopreg.cooperatives.models import DocumentType
        member = db.session.get(Member, complete.id)
        types = db.session.scalars(select(DocumentType).where(
            DocumentType.cooperative_id == coop.id)).all()
        member_services.set_documents(member, {t.id: date(2020, 1, 15) for t in types})
        db.session.commit()
    page = as_role("secretary").get("/members/?documents=missing").get_data(as_text=True)
    assert "Incompleta" in page and "Completa" not in page.replace("Incompleta", "")
    assert lacking.id


def test_each_reconciliation_figure_adds_up_from_the_lines_it_opens(app, ledger):
    """A partial payment is in "paid" and in the lines that figure opens (it opened the fully
    paid dues only)."""
    with app.test_request_context(), acting_as(None, "tests"):
        cooperative = db.session.scalar(select(Cooperative))
        services.record_receipt(cooperative, receipt_input(
            db.session.get(Member, ledger["Dani"]), "250", received_on=date.today()), None)
        agreement = _agreement(ledger)
        figure = next(f for f in reports.reconciliation(agreement) if f.period == START)

        def lines(kind):
            return reports.reconciliation_lines(agreement, START, kind)[0]

        assert sum(line.paid_minor for line in lines("allocated")) == figure.allocated_minor
        assert sum(line.open_minor for line in lines("open")) == figure.open_minor
        assert sum(line.due.member_share_minor for line in lines("due")) == figure.due_minor
        assert sum(line.due.total_minor for line in lines("due")) == figure.due_total_minor
        assert sum(line.due.total_minor for line in lines("remitted")) == \
            figure.remitted_minor


def test_remittance_lines_show_the_members_status(app, as_role, ledger):
    with app.test_request_context(), acting_as(None, "tests"):
        cooperative = db.session.scalar(select(Cooperative))
        services.record_receipt(cooperative, receipt_input(
            db.session.get(Member, ledger["Dani"]), "600", received_on=date.today()), None)
        db.session.commit()
    client = as_role("treasurer")
    form = client.get(f"/contributions/agreements/{ledger['agreement_id']}/remittances/new"
                      f"?period={_back(2):%Y-%m}").get_data(as_text=True)
    assert 'data-member-status="left"' in form


def test_write_off_everything_a_deceased_member_owes(app, as_role, ledger, coop):
    client = as_role("treasurer")
    url = f"/contributions/members/{ledger['Eva']}/write-off"
    statement = client.get(f"/contributions/members/{ledger['Eva']}/statement").get_data(
        as_text=True)
    assert f'href="{url}"' in statement
    arrears = client.get("/contributions/arrears?days=0&deceased=1").get_data(as_text=True)
    assert f'href="{url}"' in arrears.split('data-group="deceased"', 1)[1]
    page = client.get(url).get_data(as_text=True)
    assert "₡1,800.00" in page  # three dues of 600
    asked = client.post(url, data={"reason": "Died in a road accident"})
    assert asked.status_code == 409 and "cannot be undone" in asked.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(DueWriteOff)) == 0
    done = client.post(url, data={"reason": "Died in a road accident", "confirmed": "y"})
    assert done.status_code == 302
    with app.test_request_context():
        write_offs = db.session.scalars(select(DueWriteOff)).all()
        assert sorted(w.amount_minor for w in write_offs) == [60000] * 3
        assert reports.arrears(coop.id, group="deceased", min_days=0) == []
        assert reports.member_statement(db.session.get(Member, ledger["Eva"])
                                        ).balance_minor == 0
    again = client.post(url, data={"reason": "again", "confirmed": "y"})
    assert again.status_code == 422
