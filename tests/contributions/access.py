"""Access matrix entries of the contributions area (see tests/core/test_access_matrix.py).

Everyone reads the ledger (reconciliation, receipts, statements of members, remittances,
cash-up); arrears (with phone numbers, for follow-up calls) are for the office roles; only
treasurers and admins handle money (receipts, reversals, collection sheets, remittances,
closing periods, statement imports, dues generation)."""

from __future__ import annotations

from datetime import date

from tests.access_levels import ADMIN, ALL, EDITORS, MONEY, OFFICE  # noqa: F401

ACCESS: dict = {
    "contributions.index": ALL,
    "contributions.generate_dues": MONEY,
    "contributions.receipts": ALL,
    "contributions.member_search": MONEY,
    "contributions.new_receipt": MONEY,
    "contributions.view_receipt": ALL,
    "contributions.print_receipt": ALL,
    "contributions.reverse_receipt": MONEY,
    "contributions.member_statement": ALL,
    "contributions.collection_sheet": MONEY,
    "contributions.remittances": ALL,
    "contributions.new_remittance": MONEY,
    "contributions.view_remittance": ALL,
    "contributions.acknowledge_remittance": MONEY,
    "contributions.close_period": MONEY,
    "contributions.reconciliation": ALL,
    "contributions.reconciliation_lines": ALL,
    "contributions.reconciliation_xlsx": ALL,
    "contributions.write_off": MONEY,
    "contributions.write_off_member": MONEY,
    "contributions.arrears": OFFICE,
    "contributions.arrears_xlsx": OFFICE,
    "contributions.cash_up": ALL,
    "contributions.statements_page": MONEY,
    "contributions.statement_mapping": MONEY,
    "contributions.view_statement": MONEY,
    "contributions.statement_queue": MONEY,
    "contributions.link_line": MONEY,
    "contributions.receipt_from_line": MONEY,
    "contributions.payers_page": ALL,
    "contributions.reverse_third_party_payment": MONEY,
}

STATEMENT_CSV = b"Date,Amount,Reference,Payer\n2024-02-03,999.00,UNMATCHED-1,nobody\n"


def make_ids(app, cooperative, factories) -> dict:
    """A receipt, a remittance, an imported statement with a waiting line (and the member
    statement's member), all in `cooperative`."""
    from coopreg.contributions import payers, services, statements
    from coopreg.contributions.models import StatementLine
    from coopreg.cooperatives.models import Cooperative
    from coopreg.core.audit import acting_as
    from coopreg.extensions import db
    from tests.contributions.helpers import (
        FLAT,
        make_agreement,
        make_member,
        receipt_input,
        register,
    )

    with app.test_request_context(), acting_as(None, "tests"):
        coop = db.session.get(Cooperative, cooperative.id)
        agreement = make_agreement(coop, {**FLAT, "payers": [
            {"kind": "state", "name": "Estado", "share_percent": "10"}]}, reference="ACCESS-C")
        member = make_member(coop, joined_on=date(2020, 1, 1))
        register(agreement, member, date(2024, 1, 1))
        services.generate_dues(agreement, date(2024, 1, 1), date(2024, 1, 1))
        receipt, _ = services.record_receipt(coop, receipt_input(member, "600"), None)
        remittance = services.record_remittance(agreement, date(2024, 1, 1), date(2024, 2, 5),
                                                "900", "R-1", None)
        source = statements.find_or_create_source(coop, "Bank", "bank_transfer")
        statements.save_mapping(source, ["Date", "Amount", "Reference", "Payer"],
                                {"date_column": "Date", "amount_column": "Amount",
                                 "reference_column": "Reference", "member_column": "Payer"},
                                "ymd")
        statement = statements.import_statement(coop, source, STATEMENT_CSV, "bank.csv", None)
        line_id = db.session.scalar(db.select(StatementLine.id).where(
            StatementLine.statement_id == statement.id))
        due_id = db.session.scalar(db.select(services.Due.id).where(
            services.Due.agreement_id == agreement.id))
        third = payers.record_third_party_payment(agreement, "Estado", date(2024, 1, 1),
                                                  date(2024, 2, 1), "50", "RES-1", None, None)
        ids = {"third_party_payment_id": third.id, "receipt_id": receipt.id,
               "remittance_id": remittance.id, "due_id": due_id,
               "statement_id": statement.id, "statement_line_id": line_id}
        db.session.commit()
    return ids
