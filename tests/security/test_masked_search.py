"""Issue 15, item 2: people who see national IDs masked (viewers) cannot rebuild an ID by
searching for parts of it: their ID searches match only the whole number, on the member
list, the campaign, the not-enrolled list and the receipts."""

from __future__ import annotations

from datetime import date

import pytest

from coopreg.contributions import services as money
from coopreg.cooperatives.models import Cooperative
from coopreg.core.audit import acting_as
from coopreg.extensions import db
from tests.contributions.helpers import make_agreement, make_member, receipt_input, register

# IDs "0102340567" (enrolled) and "0202340567" (not enrolled) once normalised; {p} is the
# first digit; a viewer's page shows only their last digits
WHOLE = ["{p}-0234-0567", "0{p}-0234-0567", "0{p}02340567"]
PARTS = ["0234", "02340567", "{p}023405", "2340567", "40567", "0234-0567", "{p}-0234-05"]
# the receipts page reads digits alone as a receipt number: its member search is by text
RECEIPT_PARTS = ["0234-0567", "{p}-0234-05", "34-0567", "02 3405 67"]
# page: (address, the name that shows when the member is found, the ID's first digit)
PAGES = {"members": ("/members/?q={q}", "Inscrito", "1"),
         "campaign": ("/agreements/{agreement}/campaign?status=registered&q={q}", "Inscrito",
                      "1"),
         "not_enrolled": ("/agreements/{agreement}/not-enrolled?q={q}", "Esperando", "2"),
         "receipts": ("/contributions/receipts?q={q}", "Inscrito", "1")}


@pytest.fixture
def world(app, coop):
    with app.app_context(), acting_as(None, "tests"):
        agreement = make_agreement(coop, valid_from=date(2024, 1, 1))
        enrolled = make_member(coop, first_name="Zacarías", last_name="Inscrito",
                               id_number="1-0234-0567")
        register(agreement, enrolled, date(2024, 1, 1))
        make_member(coop, first_name="Wilfrido", last_name="Esperando",
                    id_number="2-0234-0567")
        cooperative = db.session.get(Cooperative, coop.id)
        money.record_receipt(cooperative, receipt_input(enrolled, "100"), None)
        db.session.commit()
        return {"agreement": agreement.id, "number": enrolled.member_number}


def _search(world, page: str, typed: str) -> tuple[str, str]:
    address, name, first = PAGES[page]
    return address.format(agreement=world["agreement"], q=typed.format(p=first)), name


@pytest.mark.parametrize("page", list(PAGES))
def test_a_viewer_finds_an_id_only_by_the_whole_number(as_role, world, page):
    client = as_role("viewer")
    for q in RECEIPT_PARTS if page == "receipts" else PARTS:
        url, name = _search(world, page, q)
        response = client.get(url)
        assert response.status_code == 200, url
        assert name not in response.get_data(as_text=True), url
    for q in WHOLE[:2] if page == "receipts" else WHOLE:
        url, name = _search(world, page, q)
        assert name in client.get(url).get_data(as_text=True), url


@pytest.mark.parametrize("page", list(PAGES))
def test_people_who_see_ids_still_find_them_by_a_part(as_role, world, page):
    client = as_role("admin")
    url, name = _search(world, page, "0234-0567")
    assert name in client.get(url).get_data(as_text=True), url


def test_a_viewer_still_finds_by_name_phone_and_member_number(as_role, world):
    client = as_role("viewer")
    for q in ("zacarias", "Inscrito", "8888-1234", world["number"]):
        assert "Inscrito" in client.get(f"/members/?q={q}").get_data(as_text=True), q
