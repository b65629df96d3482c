"""The treasurer's pages through the client: receipts, collection sheet, dues generation,
remittances, reconciliation, arrears, cash-up, statement import and the CLI."""

from __future__ import annotations

import io
import re
import uuid
from datetime import date, timedelta

import pytest
from babel.dates import format_date
from openpyxl import load_workbook
from sqlalchemy import func, select

from coopreg.contributions import services
from coopreg.contributions.models import (
    Due,
    PeriodClose,
    Receipt,
    ReceiptReversal,
    Remittance,
    StatementLine,
    StatementMatch,
)
from coopreg.cooperatives.models import Cooperative
from coopreg.core.audit import acting_as
from coopreg.extensions import db
from tests.contributions.helpers import make_agreement, make_member, receipt_input, register

THIS_MONTH = date.today().replace(day=1)
LAST_MONTH = (THIS_MONTH - timedelta(days=1)).replace(day=1)


@pytest.fixture
def world(app, coop):
    """An agreement in force since last month with two registered members (no dues yet)."""
    with app.app_context(), acting_as(None, "tests"):
        agreement = make_agreement(coop, valid_from=LAST_MONTH, reference="VIEW-1")
        ana = make_member(coop, first_name="Ana", phone="8888-0001", joined_on=date(2020, 1, 1))
        beto = make_member(coop, first_name="Beto", phone="8888-0002",
                           joined_on=date(2020, 1, 1))
        for m in (ana, beto):
            register(agreement, m, LAST_MONTH)
        db.session.commit()
        return {"agreement_id": agreement.id, "ana": ana.id, "beto": beto.id}


def _generate(app, world, through=THIS_MONTH):
    with app.app_context(), acting_as(None, "tests"):
        from coopreg.agreements.models import Agreement
        agreement = db.session.get(Agreement, world["agreement_id"])
        services.generate_dues(agreement, LAST_MONTH, through)
        db.session.commit()


def _count(app, model, *where):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_generate_dues_page_previews_then_runs_the_job(app, as_role, world):
    client = as_role("treasurer")
    form = client.get("/contributions/dues/generate").get_data(as_text=True)
    assert f'value="{THIS_MONTH:%Y-%m}"' in form and 'name="from_start"' in form
    data = {"agreement_id": world["agreement_id"], "start": "", "through": f"{THIS_MONTH:%Y-%m}",
            "from_start": "y"}
    preview = client.post("/contributions/dues/generate", data=data)
    assert preview.status_code == 200
    text = preview.get_data(as_text=True)
    assert "4 dues would be created for 2 member(s)" in text
    assert f"{LAST_MONTH:%Y-%m}" in text and "Create these dues" in text
    assert _count(app, Due) == 0  # the preview writes nothing
    token = re.search(r'name="confirm" type="hidden" value="([^"]+)"', text).group(1)
    response = client.post("/contributions/dues/generate", data={**data, "confirm": token})
    assert response.status_code == 302 and "/jobs/" in response.headers["Location"]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "4 dues created for 2 period(s)." in page
    # the job page's Continue leads on to the agreement's reconciliation
    assert (f'href="/contributions/reconciliation?agreement_id={world["agreement_id"]}"'
            in page)
    assert _count(app, Due) == 4
    bad = client.post("/contributions/dues/generate", data={
        "agreement_id": world["agreement_id"], "through": "March"})
    assert bad.status_code == 422 and "year-month" in bad.get_data(as_text=True)


def test_record_receipt_twice_with_one_key_and_print_it(app, as_role, world):
    _generate(app, world)
    client = as_role("treasurer")
    form = client.get("/contributions/receipts/new").get_data(as_text=True)
    key = re.search(r'name="idempotency_key" type="hidden" value="([^"]+)"', form).group(1)
    data = {"member_id": world["ana"], "member_query": "", "received_on": date.today(),
            "amount": "900", "method": "cash", "collector": "Tesorera", "idempotency_key": key}
    first = client.post("/contributions/receipts/new", data=data)
    assert first.status_code == 302
    second = client.post("/contributions/receipts/new", data=data)
    assert second.headers["Location"] == first.headers["Location"]
    assert _count(app, Receipt) == 1
    page = client.get(first.headers["Location"], follow_redirects=True).get_data(as_text=True)
    assert "Receipt 1" in page and "900.00" in page and "Reverse the receipt" in page
    statement = client.get(f"/contributions/members/{world['ana']}/statement")
    assert "Balance owed" in statement.get_data(as_text=True)


def test_receipt_form_errors_stay_on_the_form(app, as_role, world):
    client = as_role("treasurer")
    response = client.post("/contributions/receipts/new", data={
        "member_id": world["ana"], "received_on": date.today(), "amount": "1.500",
        "method": "cash", "idempotency_key": str(uuid.uuid4())})
    assert response.status_code == 422 and "is ambiguous" in response.get_data(as_text=True)
    assert _count(app, Receipt) == 0


def test_member_search_answers_json(as_role, world):
    client = as_role("treasurer")
    found = client.get("/contributions/members/search?q=beto").get_json()
    assert [m["id"] for m in found] == [world["beto"]]
    assert client.get("/contributions/members/search?q=").get_json() == []


def test_reverse_receipt_page(app, as_role, world):
    _generate(app, world)
    client = as_role("treasurer")
    with app.app_context(), acting_as(None, "tests"):
        coop = db.session.scalar(select(Cooperative))
        from coopreg.members.models import Member
        member = db.session.get(Member, world["ana"])
        receipt, _ = services.record_receipt(coop, receipt_input(member, "100",
                                                                 received_on=date.today()),
                                             None)
        db.session.commit()
        receipt_id = receipt.id
    response = client.post(f"/contributions/receipts/{receipt_id}/reverse",
                           data={"reason": "Wrong member", "confirmed": "y"}, follow_redirects=True)
    assert "reversed" in response.get_data(as_text=True)
    assert _count(app, ReceiptReversal) == 1
    again = client.post(f"/contributions/receipts/{receipt_id}/reverse",
                        data={"reason": "Again", "confirmed": "y"}, follow_redirects=True)
    assert "already reversed" in again.get_data(as_text=True)
    assert _count(app, ReceiptReversal) == 1


def test_collection_sheet_needs_matching_control_figures(app, as_role, world):
    _generate(app, world)
    client = as_role("treasurer")
    sheet = client.get(f"/contributions/collection?agreement_id={world['agreement_id']}"
                       f"&collected_on={date.today()}").get_data(as_text=True)
    assert f'name="amount-{world["ana"]}"' in sheet and "1200.00" in sheet
    key = re.search(r'id="idempotency_key" name="idempotency_key" type="hidden" value="([^"]+)"',
                    sheet).group(1)
    data = {"agreement_id": world["agreement_id"], "collected_on": date.today().isoformat(),
            "locality": "", "collector": "Meeting", "method": "cash",
            "member": [world["ana"], world["beto"]],
            f"amount-{world['ana']}": "1200.00", f"amount-{world['beto']}": "500",
            "idempotency_key": key, "control_count": "2", "control_total": "1600"}
    wrong = client.post("/contributions/collection", data=data)
    assert wrong.status_code == 422
    assert "do not match" in wrong.get_data(as_text=True)
    assert _count(app, Receipt) == 0
    data["control_total"] = "1700"
    posted = client.post("/contributions/collection", data=data)
    assert posted.status_code == 302
    assert _count(app, Receipt) == 2
    again = client.post("/contributions/collection", data=data)  # a double click
    assert again.status_code == 302 and _count(app, Receipt) == 2
    page = client.get(posted.headers["Location"]).get_data(as_text=True)
    assert "1,700.00" in page  # collected this month


def test_remittance_acknowledgement_close_and_reconciliation(app, as_role, world):
    _generate(app, world, through=LAST_MONTH)
    with app.app_context(), acting_as(None, "tests"):
        coop = db.session.scalar(select(Cooperative))
        from coopreg.members.models import Member
        services.record_receipt(coop, receipt_input(db.session.get(Member, world["ana"]),
                                                    "600", received_on=date.today()), None)
        db.session.commit()
    client = as_role("treasurer")
    url = f"/contributions/agreements/{world['agreement_id']}/remittances/new"
    preview = client.get(f"{url}?period={LAST_MONTH:%Y-%m}").get_data(as_text=True)
    assert "1 fully paid due(s)" in preview
    wrong = client.post(url, data={"period": f"{LAST_MONTH:%Y-%m}",
                                   "remitted_on": date.today(), "amount": "999"})
    assert wrong.status_code == 422 and _count(app, Remittance) == 0
    done = client.post(url, data={"period": f"{LAST_MONTH:%Y-%m}", "remitted_on": date.today(),
                                  "amount": "1000", "reference": "TR-9"})
    assert done.status_code == 302
    remittance_page = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "TR-9" in remittance_page and "Record the confirmation" in remittance_page
    ack = client.post(done.headers["Location"] + "/acknowledge", data={
        "acknowledged_on": date.today(), "amount": "990", "confirmed": "y"}, follow_redirects=True)
    assert "differs" in ack.get_data(as_text=True)
    closed = client.post(f"/contributions/agreements/{world['agreement_id']}/close",
                         data={"period": f"{LAST_MONTH:%Y-%m}", "confirmed": "y"},
                         follow_redirects=True)
    assert _count(app, PeriodClose) == 1
    page = closed.get_data(as_text=True)
    assert "closed" in page and "acknowledged ₡990.00 for a remittance of ₡1,000.00" in page
    lines = client.get(f"/contributions/agreements/{world['agreement_id']}/lines"
                       f"?period={LAST_MONTH:%Y-%m}&kind=open").get_data(as_text=True)
    assert "Beto" in lines and "Ana" not in lines


def test_the_remittance_form_proposes_last_month_on_any_day(app, as_role, world, monkeypatch):
    """Last month is what is usually remitted, also on the 29th to the 31st (it used to say
    "today minus 28 days", which is this month on those days)."""
    import coopreg.contributions.views as views

    class March31(date):
        @classmethod
        def today(cls):
            return cls(2026, 3, 31)

    monkeypatch.setattr(views, "date", March31)
    client = as_role("treasurer")
    page = client.get(f"/contributions/agreements/{world['agreement_id']}/remittances/new")
    assert 'value="2026-02"' in page.get_data(as_text=True)


def test_the_remittance_form_shows_the_month_asked_or_says_why_it_cannot(as_role, world):
    client = as_role("treasurer")
    url = f"/contributions/agreements/{world['agreement_id']}/remittances/new"
    asked = client.get(url + f"?period={LAST_MONTH:%Y-%m}").get_data(as_text=True)
    assert f"To remit for {format_date(LAST_MONTH, 'MMM y', locale='en')}" in asked
    unreadable = client.get(url + "?period=marzo")
    page = unreadable.get_data(as_text=True)
    assert unreadable.status_code == 200
    assert "Give the month as year-month, for example 2025-03." in page
    assert 'value="marzo"' in page and "To remit for" not in page


def test_arrears_page_and_xlsx_keep_phones_as_text(app, as_role, world):
    _generate(app, world, through=LAST_MONTH)
    client = as_role("secretary")
    page = client.get("/contributions/arrears?days=0").get_data(as_text=True)
    # last month's due fell on the 10th, its grace ended on the 15th: overdue today
    assert "8888 0001" in page  # the national form
    assert 'action="/contributions/arrears/export"' in page
    started = client.post("/contributions/arrears/export", data={"days": "0"})
    assert started.status_code == 302
    response = client.get(started.headers["Location"] + "/download")
    assert response.headers["Content-Disposition"].startswith("attachment")
    sheet = load_workbook(io.BytesIO(response.data))["Arrears"]
    response.close()
    phones = {row[3].value for row in sheet.iter_rows(min_row=2)}
    assert phones == {"8888 0001", "8888 0002"}
    assert all(row[3].data_type == "s" for row in sheet.iter_rows(min_row=2))
    assert "8888 0001" not in client.get("/contributions/arrears?days=3650").get_data(
        as_text=True)


def test_cash_up_groups_by_collector_and_method(app, as_role, world):
    _generate(app, world)
    with app.app_context(), acting_as(None, "tests"):
        coop = db.session.scalar(select(Cooperative))
        from coopreg.members.models import Member
        ana = db.session.get(Member, world["ana"])
        today = date.today()
        services.record_receipt(coop, receipt_input(ana, "10", received_on=today,
                                                     collector="Luis"), None)
        services.record_receipt(coop, receipt_input(ana, "5", received_on=today,
                                                     collector="Luis", method="mobile_money",
                                                     external_reference="MM-1"), None)
        db.session.commit()
    page = as_role("viewer").get("/contributions/cash-up").get_data(as_text=True)
    assert "Luis" in page and "15.00" in page


STATEMENT = ("Fecha;Monto;Referencia;Cliente;Detalle\n"
             "{d};600,00;TRX-100;;Pago cuota\n"
             "{d};250,00;;88880002;Deposito\n"
             "{d};-30,00;;;Comision\n"
             "{d};77,00;;desconocido;Deposito\n")


def test_statement_import_matches_and_queues_and_reimports_nothing(app, as_role, world):
    _generate(app, world)
    today = date.today()
    with app.app_context(), acting_as(None, "tests"):
        coop = db.session.scalar(select(Cooperative))
        from coopreg.members.models import Member
        services.record_receipt(coop, receipt_input(
            db.session.get(Member, world["ana"]), "600", received_on=today,
            method="bank_transfer", external_reference="TRX-100"), None)
        services.record_receipt(coop, receipt_input(
            db.session.get(Member, world["beto"]), "250", received_on=today), None)
        db.session.commit()
    client = as_role("treasurer")
    content = STATEMENT.format(d=today.strftime("%d/%m/%Y")).encode()
    upload = client.post("/contributions/statements", data={
        "source_name": "Banco Nacional", "method": "bank_transfer",
        "file": (io.BytesIO(content), "extracto.csv")}, content_type="multipart/form-data")
    assert upload.status_code == 302 and upload.headers["Location"].endswith("/mapping")
    mapped = client.post("/contributions/statements/mapping", data={
        "date_column": "Fecha", "amount_column": "Monto", "reference_column": "Referencia",
        "member_column": "Cliente", "description_column": "Detalle", "date_order": "dmy"})
    assert mapped.status_code == 302
    assert _count(app, StatementLine) == 3 and _count(app, StatementMatch) == 2
    # the mapping is kept: the same file again imports directly, and adds nothing
    again = client.post("/contributions/statements", data={
        "source_name": "banco nacional", "method": "bank_transfer",
        "file": (io.BytesIO(content), "extracto.csv")}, content_type="multipart/form-data")
    assert "/contributions/statements/" in again.headers["Location"]
    assert _count(app, StatementLine) == 3
    queue = client.get("/contributions/statements/queue").get_data(as_text=True)
    assert "desconocido" in queue
    with app.app_context():
        line_id = db.session.scalar(select(StatementLine.id).where(
            StatementLine.member_text == "desconocido"))
    form = client.get(f"/contributions/statement-lines/{line_id}/receipt").get_data(
        as_text=True)
    key = re.search(r'name="idempotency_key" type="hidden" value="([^"]+)"', form).group(1)
    recorded = client.post(f"/contributions/statement-lines/{line_id}/receipt", data={
        "member_id": world["beto"], "idempotency_key": key})
    assert recorded.status_code == 302
    assert _count(app, StatementMatch) == 3
    assert "Every line is matched" in client.get("/contributions/statements/queue").get_data(
        as_text=True)


def test_link_line_to_a_receipt(app, as_role, world):
    today = date.today()
    with app.app_context(), acting_as(None, "tests"):
        coop = db.session.scalar(select(Cooperative))
        from coopreg.contributions import statements
        from coopreg.members.models import Member
        receipt, _ = services.record_receipt(coop, receipt_input(
            db.session.get(Member, world["ana"]), "77", received_on=today), None)
        source = statements.find_or_create_source(coop, "Wallet", "mobile_money")
        statements.save_mapping(source, ["d", "a"], {"date_column": "d", "amount_column": "a"},
                                "ymd")
        statements.import_statement(coop, source, f"d,a\n{today},77\n".encode(), "w.csv", None)
        line_id = db.session.scalar(select(StatementLine.id))
        number = receipt.number
        db.session.commit()
    client = as_role("treasurer")
    client.post(f"/contributions/statement-lines/{line_id}/link",
                data={"receipt_number": "999"})
    assert _count(app, StatementMatch) == 0
    client.post(f"/contributions/statement-lines/{line_id}/link",
                data={"receipt_number": str(number)})
    assert _count(app, StatementMatch) == 1


def test_pages_render_for_a_viewer(app, as_role, world):
    _generate(app, world)
    client = as_role("viewer")
    for url in ("/contributions/", "/contributions/receipts",
                f"/contributions/reconciliation?agreement_id={world['agreement_id']}",
                f"/contributions/remittances?agreement_id={world['agreement_id']}",
                f"/contributions/agreements/{world['agreement_id']}/lines?kind=collected"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "Record a payment" not in response.get_data(as_text=True), url


def test_cli_generates_dues_and_refuses_bad_arguments(app, coop, world):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["dues", "generate", "--cooperative", "CRTEST", "--agreement",
                                 "view-1", "--through", f"{THIS_MONTH:%Y-%m}", "--from-start"])
    assert result.exit_code == 0, result.output
    assert "4 dues created" in result.output
    for args, said in (
            (["--agreement", "NOPE", "--through", "2025-01"], "No agreement 'NOPE' in CRTEST."),
            (["--agreement", "VIEW-1", "--through", "2025-13"],
             "--through '2025-13' is not a month (YYYY-MM)."),
            (["--agreement", "VIEW-1", "--from", "May"], "--from 'May' is not a month (YYYY-MM)."),
            (["--agreement", "VIEW-1", "--through", "2020-01", "--from", "2021-01"],
             "--through is before --from.")):
        bad = runner.invoke(args=["dues", "generate", "--cooperative", "CRTEST", *args])
        assert bad.exit_code != 0 and f"Error: {said}" in bad.output, bad.output
    assert _count(app, Due) == 4



def test_receipt_and_statement_print_in_the_members_language(app, client, coop, make_user):
    from datetime import date

    from coopreg.contributions import services as contribution_services
    from coopreg.cooperatives.models import Cooperative
    from coopreg.core.audit import acting_as
    from coopreg.extensions import db
    from coopreg.members import services as member_services
    from tests.conftest import login, member_data

    with app.app_context(), acting_as(None, "tests"):
        cooperative = db.session.get(Cooperative, coop.id)
        member = member_services.create_member(cooperative, member_data(language="es"),
                                               confirm_duplicate=True)
        receipt, _created = contribution_services.record_receipt(
            cooperative, contribution_services.ReceiptInput(
                member_id=member.id, received_on=date.today(), amount="1000", method="cash",
                collector="Ana", idempotency_key="5b0f3c1e-8a8e-4d55-9a53-3f0f4d3b2a10"),
            None)
        db.session.commit()
        member_id, receipt_id = member.id, receipt.id
    _uid, email = make_user(coop, "treasurer")
    login(client, email, cooperative=coop)
    page = client.get(f"/contributions/receipts/{receipt_id}").get_data(as_text=True)
    assert "Receipt number" in page and "In the member" in page
    page = client.get(f"/contributions/receipts/{receipt_id}?lang=member").get_data(
        as_text=True)
    assert "Número de recibo" in page, "the slip prints in the member's Spanish"
    statement = client.get(f"/contributions/members/{member_id}/statement").get_data(
        as_text=True)
    assert "Record a payment" not in statement
    assert "Registrar un pago" in statement, "the statement prints in the member's Spanish"


def test_the_receipts_today_tile_agrees_with_the_cash_up(app, as_role, world):
    """The landing's "Receipts today" leaves reversed receipts out, as the cash-up it links
    to does."""
    from coopreg.members.models import Member

    with app.app_context(), acting_as(None, "tests"):
        coop = db.session.scalar(select(Cooperative))
        ana, beto = (db.session.get(Member, world[k]) for k in ("ana", "beto"))
        services.record_receipt(coop, receipt_input(ana, "600", received_on=date.today()),
                                None)
        wrong, _created = services.record_receipt(
            coop, receipt_input(beto, "450", received_on=date.today()), None)
        services.reverse_receipt(wrong, "Typed for the wrong member", None)
        db.session.commit()
    page = as_role("treasurer").get("/contributions/").get_data(as_text=True)
    tile = re.search(r'<span class="num">(\d+)</span>\s*<span class="label">[^<]*· ([^<]+)</span>',
                     page)
    assert tile is not None, page
    assert tile.group(1) == "1" and "600.00" in tile.group(2)


def test_a_receipt_is_reversed_only_once_the_treasurer_confirms(app, as_role, world):
    _generate(app, world)
    client = as_role("treasurer")
    with app.app_context(), acting_as(None, "tests"):
        from coopreg.members.models import Member
        coop = db.session.scalar(select(Cooperative))
        receipt, _ = services.record_receipt(
            coop, receipt_input(db.session.get(Member, world["ana"]), "100",
                                received_on=date.today()), None)
        db.session.commit()
        receipt_id = receipt.id
    page = client.get(f"/contributions/receipts/{receipt_id}").get_data(as_text=True)
    assert 'name="confirmed" value="y" required' in page
    assert "The receipt is reversed for good" in page
    # the box not ticked: a confirmation page stating the consequence, nothing reversed
    asked = client.post(f"/contributions/receipts/{receipt_id}/reverse",
                        data={"reason": "Wrong member"})
    assert asked.status_code == 409
    html = asked.get_data(as_text=True)
    assert "Please confirm" in html and "The receipt is reversed for good" in html
    assert 'type="hidden" name="reason" value="Wrong member"' in html
    assert _count(app, ReceiptReversal) == 0
    done = client.post(f"/contributions/receipts/{receipt_id}/reverse",
                       data={"reason": "Wrong member", "confirmed": "y"})
    assert done.status_code == 302
    assert _count(app, ReceiptReversal) == 1


def test_a_period_is_closed_only_once_confirmed(app, as_role, world):
    _generate(app, world)
    client = as_role("treasurer")
    url = f"/contributions/agreements/{world['agreement_id']}/close"
    asked = client.post(url, data={"period": f"{LAST_MONTH:%Y-%m}"})
    assert asked.status_code == 409 and "Closing is final" in asked.get_data(as_text=True)
    assert _count(app, PeriodClose) == 0
    client.post(url, data={"period": f"{LAST_MONTH:%Y-%m}", "confirmed": "y"})
    assert _count(app, PeriodClose) == 1


def test_each_arrears_row_offers_to_record_a_payment(app, as_role, world):
    _generate(app, world, through=LAST_MONTH)
    client = as_role("treasurer")
    page = client.get("/contributions/arrears?days=0").get_data(as_text=True)
    assert f'href="/contributions/receipts/new?member_id={world["ana"]}"' in page
    assert "Record a payment" in page
    # the secretary follows arrears up but does not take money
    client.post("/logout")
    page = as_role("secretary").get("/contributions/arrears?days=0").get_data(as_text=True)
    assert "/contributions/receipts/new?member_id=" not in page
