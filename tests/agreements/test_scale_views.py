"""Scales through the pages (issue 17): an amendment that makes the rule a table of categories
or income brackets (typed one row a line, refused with the line's fault and nothing lost), the
scale shown in the terms list, and the agreement page's forms that place a member in a
category or record a member's income from a date."""

from __future__ import annotations

import re
from datetime import date

from sqlalchemy import select

from coopreg.agreements import services
from coopreg.agreements.models import Agreement, CategoryPlacement, RuleKind
from coopreg.core.audit import acting_as
from coopreg.extensions import db
from coopreg.members import services as member_services
from coopreg.members.models import IncomeDeclaration, Member
from tests.contributions.helpers import make_agreement, make_member, register

TERMS = {"rule_kind": "category", "member_share_percent": "25", "schedule": "monthly",
         "due_day": "10", "grace_days": "5", "remittance_deadline_days": "15",
         "payer1_kind": "state", "payer1_name": "Estado", "payer1_share_percent": "75",
         "payer1_direct": "y"}


def _flashes(html: str) -> list[str]:
    return [re.sub(r"\s+", " ", m).strip() for m in
            re.findall(r'<p class="flash[^"]*" role="status">(.*?)</p>', html, re.S)]


def _setup(app, coop):
    with app.app_context(), acting_as(None, "tests"):
        agreement = make_agreement(coop, reference="MONO")
        member = make_member(coop, declared_income="100000")
        register(agreement, member, date(2024, 1, 1))
        db.session.commit()
        return agreement.id, member.id, member.member_number


def test_an_amendment_makes_the_rule_categories_and_members_are_placed(app, as_role, coop):
    agreement_id, member_id, number = _setup(app, coop)
    client = as_role("admin")
    amend = {**TERMS, "effective_from": "2025-01-01",
             "scale": "A;;16000;37.5;62.5\nB;;20000;30;70\nB;;24000"}
    refused = client.post(f"/agreements/{agreement_id}/terms/new", data=amend)
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert "the code B is there twice" in page
    assert "A;;16000;37.5;62.5" in page  # what was typed stays in the form
    scale = "A;;16000;37.5;62.5\nB;;20000;30;70\nC;;24000"
    response = client.post(f"/agreements/{agreement_id}/terms/new",
                           data={**amend, "scale": scale})
    assert response.status_code == 302
    with app.app_context():
        terms = db.session.get(Agreement, agreement_id).terms[-1]
        assert terms.rule_kind == RuleKind.CATEGORY
        assert [r.code for r in terms.scale_rows] == ["A", "B", "C"]
    view = client.get(f"/agreements/{agreement_id}").get_data(as_text=True)
    assert "Scale of categories" in view and "₡16,000.00" in view and "37.5 %" in view
    assert "Place the member" in view
    # the amendment form starts from the scale as it is
    again = client.get(f"/agreements/{agreement_id}/terms/new").get_data(as_text=True)
    assert "A; ; 16000; 37.5; 62.5" in again

    wrong = client.post(f"/agreements/{agreement_id}/categories",
                        data={"member_number": "NOPE", "code": "B",
                              "effective_from": "2025-02-01"}, follow_redirects=True)
    assert any("not recorded" in f and "NOPE" in f for f in _flashes(wrong.get_data(as_text=True)))
    done = client.post(f"/agreements/{agreement_id}/categories",
                       data={"member_number": number, "code": "B",
                             "effective_from": "2025-02-01"}, follow_redirects=True)
    assert any("Category recorded" in f for f in _flashes(done.get_data(as_text=True)))
    with app.app_context():
        placement = db.session.scalar(select(CategoryPlacement))
        assert (placement.member_id, placement.code, placement.effective_from) == (
            member_id, "B", date(2025, 2, 1))
    assert number in client.get(f"/agreements/{agreement_id}").get_data(as_text=True)


def test_a_members_income_is_recorded_from_a_date_on_a_bracket_scale(app, as_role, coop):
    agreement_id, member_id, number = _setup(app, coop)
    client = as_role("admin")
    response = client.post(f"/agreements/{agreement_id}/terms/new", data={
        **TERMS, "rule_kind": "scale", "floor": "300000", "effective_from": "2025-01-01",
        "scale": "A; 0; 10%; 40; 50\nB; 600000; 11.5%; 60; 30"})
    assert response.status_code == 302
    secretary = as_role("secretary")
    view = secretary.get(f"/agreements/{agreement_id}").get_data(as_text=True)
    assert "Scale of income brackets" in view and "Record the income" in view
    bad = secretary.post(f"/agreements/{agreement_id}/incomes",
                         data={"member_number": number, "income": "lots",
                               "effective_from": "2025-03-01"}, follow_redirects=True)
    assert any("not recorded" in f for f in _flashes(bad.get_data(as_text=True)))
    good = secretary.post(f"/agreements/{agreement_id}/incomes",
                          data={"member_number": number, "income": "700000",
                                "effective_from": "2025-03-01"}, follow_redirects=True)
    assert any("Income recorded" in f for f in _flashes(good.get_data(as_text=True)))
    with app.app_context():
        rows = db.session.scalars(select(IncomeDeclaration).order_by(
            IncomeDeclaration.effective_from)).all()
        assert [r.income_minor for r in rows] == [10_000_000, 70_000_000]
        member = db.session.get(Member, member_id)
        agreement = db.session.get(Agreement, agreement_id)
        assert member_services.income_on(member, date(2025, 2, 1)) == 10_000_000
        # February: the floor (300,000) in A at 10 %; March: 700,000 in B at 11.5 %
        assert services.due_shares_for(agreement, member, date(2025, 2, 1))[0] == 3_000_000
        assert services.due_shares_for(agreement, member, date(2025, 3, 1))[0] == 8_050_000
