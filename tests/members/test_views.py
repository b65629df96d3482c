"""The member register's pages, through the test client."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from coopreg.cooperatives.models import DocumentType
from coopreg.cooperatives.services import set_document_type_active
from coopreg.core.audit import AuditEvent, acting_as
from coopreg.extensions import db
from coopreg.members import services
from coopreg.members.models import Dependant, Member, MemberDocument, MemberStatus
from tests.conftest import login, member_data

TODAY = date.today()


def form_data(**overrides) -> dict[str, str]:
    """member_data() as a browser would post it: dates as YYYY-MM-DD, a ticked box as "y"."""
    posted = {}
    for name, value in member_data(**overrides).items():
        if isinstance(value, bool):
            if value:
                posted[name] = "y"
        elif isinstance(value, date):
            posted[name] = value.isoformat()
        else:
            posted[name] = "" if value is None else str(value)
    return posted


# The test body has no application context of its own: every request gets a fresh one, as
# in production. Rows are read back in a short application context of their own.

def members_of(app, cooperative) -> list[Member]:
    with app.app_context():
        return db.session.scalars(select(Member).where(Member.cooperative_id == cooperative.id)
                                  .order_by(Member.id)).all()


def get_member(app, member_id: int) -> Member:
    """The member with its status history and dependants loaded."""
    with app.app_context():
        return db.session.scalars(select(Member).where(Member.id == member_id).options(
            selectinload(Member.status_changes), selectinload(Member.dependants))).one()


def dependants_of(app, member) -> list[Dependant]:
    with app.app_context():
        return db.session.scalars(select(Dependant).where(Dependant.member_id == member.id)
                                  .order_by(Dependant.id)).all()


def dependant_exists(app, dependant_id: int) -> bool:
    with app.app_context():
        return db.session.get(Dependant, dependant_id) is not None


def error_on(html: str, field: str) -> list[str]:
    """The error messages shown next to a form field."""
    return re.findall(rf'<span class="error" id="{field}-error">([^<]*)</span>', html)


def flashes(html: str) -> list[str]:
    return re.findall(r'<p class="flash flash-\w+" role="status">([^<]*)</p>', html)


@pytest.fixture
def make_dependant(app):
    def factory(member, name="Lucía", relation="child", id_number=None):
        with app.app_context(), acting_as(None, "tests"):
            dependant = services.add_dependant(db.session.get(Member, member.id), name,
                                               relation, date(2015, 1, 1), id_number)
            db.session.commit()
            return dependant.id
    return factory


def document_types(app, cooperative) -> list[DocumentType]:
    with app.app_context():
        return db.session.scalars(select(DocumentType).where(
            DocumentType.cooperative_id == cooperative.id)
            .order_by(DocumentType.position, DocumentType.id)).all()


# ---- the list -------------------------------------------------------------------------------

def test_list_shows_the_members(as_role, coop, other_coop, make_member):
    member = make_member(coop, first_name="Rosa", middle_name="", last_name="Quesada",
                         second_last_name="Mora", phone="8888-1234", locality="Upala")
    stranger = make_member(other_coop, last_name="Forastero", id_number="")
    client = as_role("secretary")
    response = client.get("/members/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Quesada Mora, Rosa" in html
    assert f'href="/members/{member.id}"' in html
    assert "8888 1234" in html  # the national form
    assert "Upala" in html
    assert "Forastero" not in html
    assert f'href="/members/{stranger.id}"' not in html
    assert 'href="/members/new"' in html


def test_list_search_and_filters(as_role, coop, make_member):
    maria = make_member(coop, first_name="María", last_name="Núñez", locality="San José",
                        sector="fishing")
    other = make_member(coop, first_name="Pedro", last_name="Arias", locality="Upala",
                        sector="crafts")
    client = as_role("viewer")
    html = client.get("/members/?q=nunez").get_data(as_text=True)
    assert f'/members/{maria.id}"' in html and f'/members/{other.id}"' not in html
    html = client.get("/members/?sector=crafts").get_data(as_text=True)
    assert f'/members/{other.id}"' in html and f'/members/{maria.id}"' not in html
    html = client.get("/members/?locality=san+jose").get_data(as_text=True)
    assert f'/members/{maria.id}"' in html and f'/members/{other.id}"' not in html
    html = client.get("/members/?q=zzzz").get_data(as_text=True)
    assert "No member matches." in html


def test_list_pages(as_role, coop, make_member, app, monkeypatch):
    monkeypatch.setitem(app.config, "MEMBERS_PER_PAGE", 2)
    made = [make_member(coop, first_name="Luis", last_name="Campos", second_last_name="")
            for _ in range(5)]
    client = as_role("secretary")
    seen = []
    url = "/members/?sort=recent"
    while url:
        html = client.get(url).get_data(as_text=True)
        seen += [int(i) for i in re.findall(r'<td[^>]*><a href="/members/(\d+)">', html)]
        nxt = re.search(r'<a rel="next" href="([^"]+)"', html)
        url = nxt.group(1).replace("&amp;", "&") if nxt else None
    assert seen == [m.id for m in reversed(made)]
    # a broken cursor shows the first page
    html = client.get("/members/?sort=recent&after=garbage").get_data(as_text=True)
    assert re.findall(r'<td[^>]*><a href="/members/(\d+)">', html) == [str(made[4].id),
                                                                   str(made[3].id)]


# ---- adding a member ------------------------------------------------------------------------

def test_create_member(app, as_role, coop):
    client = as_role("secretary")
    assert client.get("/members/new").status_code == 200
    response = client.post("/members/new", data=form_data(
        first_name="Rosa", middle_name="", last_name="Quesada", second_last_name="Mora",
        id_number="1-0234-0567", phone="8888 1234", declared_income="1500.50",
        sector="crafts", consent_method="digital"))
    [member] = members_of(app, coop)
    assert response.status_code == 302
    assert response.headers["Location"] == f"/members/{member.id}"
    assert member.full_name == "Rosa Quesada Mora"
    assert member.member_number == "1"
    assert member.id_number == "0102340567"
    assert member.phone == "+50688881234"
    assert member.declared_income_minor == 150050
    assert member.consent_given is True
    assert member.consent_method.value == "digital"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Member 1 added." in flashes(page)
    assert "Rosa Quesada Mora" in page
    assert "01-0234-0567" in page
    assert "₡1,500.50" in page


def test_the_creation_is_audited_as_the_user(as_role, app, coop):
    client = as_role("secretary")
    client.post("/members/new", data=form_data())
    [member] = members_of(app, coop)
    with app.app_context():
        [event] = db.session.scalars(select(AuditEvent).where(
            AuditEvent.entity == "members", AuditEvent.entity_id == member.id)).all()
    assert event.action == "create"
    assert event.actor_id is not None
    assert event.actor_label.endswith("@example.org")


def test_a_service_error_is_shown_next_to_its_field(app, as_role, coop):
    client = as_role("secretary")
    response = client.post("/members/new", data=form_data(
        first_name="Rosa", last_name="Quesada", phone="8888-12AB", address="Barrio Norte",
        declared_income="12.5"))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert error_on(html, "phone") == [
        "A phone number holds digits, spaces, dashes, dots or brackets, and + only at the "
        "start."]
    # what was typed is still there
    assert 'value="8888-12AB"' in html
    assert 'value="Rosa"' in html
    assert 'value="Barrio Norte"' in html
    assert 'value="1980-05-17"' in html
    assert members_of(app, coop) == []


@pytest.mark.parametrize(("overrides", "field", "message"), [
    ({"id_number": "1-0234-05677"}, "id_number", "it has the wrong number of digits"),
    ({"declared_income": "-1"}, "declared_income", "The amount cannot be negative."),
    ({"consent_date": ""}, "consent_date", "Give the date the member consented."),
    ({"consent_method": ""}, "consent_method", "Say how the member consented."),
    ({"joined_on": (TODAY + timedelta(days=1)).isoformat()}, "joined_on",
     "The joining date is in the future."),
    ({"date_of_birth": "1980-02-30"}, "date_of_birth", "Not a valid date value."),
    ({"first_name": ""}, "first_name", "This field is required."),
    ({"sex": "unknown"}, "sex", "Not a valid choice."),
    ({"member_number": "#1"}, "member_number", "up to 20 letters, digits"),
    ({"id_type": "br_cpf", "id_number": "390.533.447-05"}, "id_type", "Not a valid choice."),
])
def test_errors_on_the_form(app, as_role, coop, overrides, field, message):
    client = as_role("secretary")
    response = client.post("/members/new", data=form_data(**overrides))
    assert response.status_code == 422
    errors = error_on(response.get_data(as_text=True), field)
    assert any(message in e for e in errors), errors
    assert members_of(app, coop) == []


def test_duplicate_national_id_names_the_other_member(app, as_role, coop, make_member):
    owner = make_member(coop, first_name="Ana", middle_name="", last_name="Rojas",
                        second_last_name="", id_number="1-0234-0567")
    client = as_role("secretary")
    response = client.post("/members/new", data=form_data(first_name="Eva",
                                                          id_number="102340567"))
    assert response.status_code == 422
    assert error_on(response.get_data(as_text=True), "id_number") == [
        f"This ID number already belongs to member {owner.member_number}, Ana Rojas."]
    assert len(members_of(app, coop)) == 1


def test_duplicate_warning_then_confirm(app, as_role, coop, make_member):
    twin = make_member(coop, first_name="María", last_name="Núñez",
                       date_of_birth=date(1980, 5, 17))
    client = as_role("secretary")
    data = form_data(first_name="Maria", last_name="Nunez", date_of_birth=date(1980, 5, 17),
                     second_last_name="Otra")
    response = client.post("/members/new", data=data)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "A member with the same name and date of birth is already in the register" in html
    assert f'href="/members/{twin.id}"' in html
    assert re.search(r'name="confirm_duplicate" type="hidden" value="yes"', html)
    assert "Save anyway" in html
    assert len(members_of(app, coop)) == 1

    response = client.post("/members/new", data={**data, "confirm_duplicate": "yes"})
    assert response.status_code == 302
    assert len(members_of(app, coop)) == 2
    assert members_of(app, coop)[1].second_last_name == "Otra"


def test_numbers_given_through_the_page_are_sequential(app, as_role, coop):
    client = as_role("secretary")
    for n in range(3):
        client.post("/members/new", data=form_data(first_name=f"Persona{n}"))
    assert [m.member_number for m in members_of(app, coop)] == ["1", "2", "3"]


# ---- editing --------------------------------------------------------------------------------

def test_edit_member(app, as_role, coop, make_member):
    member = make_member(coop, first_name="Rosa", phone="8888-1234", declared_income="1000")
    client = as_role("secretary")
    response = client.get(f"/members/{member.id}/edit")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'value="Rosa"' in html
    assert 'value="8888 1234"' in html
    assert 'value="1000.00"' in html
    assert f'value="{member.member_number}"' in html

    response = client.post(f"/members/{member.id}/edit", data=form_data(
        first_name="Rosalía", phone="7777-0000", member_number=member.member_number))
    assert response.status_code == 302
    assert response.headers["Location"] == f"/members/{member.id}"
    saved = get_member(app, member.id)
    assert saved.first_name == "Rosalía"
    assert saved.phone == "+50677770000"
    page = client.get(f"/members/{member.id}").get_data(as_text=True)
    assert "Changes saved." in flashes(page)


def test_edit_with_an_error_changes_nothing(app, as_role, coop, make_member):
    member = make_member(coop, first_name="Rosa")
    client = as_role("secretary")
    response = client.post(f"/members/{member.id}/edit", data=form_data(
        first_name="Rosalía", date_of_birth=TODAY + timedelta(days=1)))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert error_on(html, "date_of_birth") == ["The date of birth is in the future."]
    assert 'value="Rosalía"' in html
    assert get_member(app, member.id).first_name == "Rosa"


def test_edit_into_a_duplicate_asks_for_confirmation(app, as_role, coop, make_member):
    make_member(coop, first_name="Luis", last_name="Mora", date_of_birth=date(1970, 1, 1))
    member = make_member(coop, first_name="Carlos", last_name="Mora",
                         date_of_birth=date(1970, 1, 1))
    client = as_role("secretary")
    data = form_data(first_name="Luis", last_name="Mora", date_of_birth=date(1970, 1, 1))
    response = client.post(f"/members/{member.id}/edit", data=data)
    assert response.status_code == 422
    assert "same name and date of birth" in response.get_data(as_text=True)
    assert get_member(app, member.id).first_name == "Carlos"
    response = client.post(f"/members/{member.id}/edit",
                           data={**data, "confirm_duplicate": "yes"})
    assert response.status_code == 302
    assert get_member(app, member.id).first_name == "Luis"


# ---- the member page and its status ---------------------------------------------------------

def test_member_page(as_role, coop, make_member, make_dependant):
    member = make_member(coop, first_name="Rosa", last_name="Quesada", notes="Line one\nTwo")
    make_dependant(member, name="Lucía Quesada")
    client = as_role("secretary")
    response = client.get(f"/members/{member.id}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Rosa" in html and "Quesada" in html
    assert "Lucía Quesada" in html
    assert "Line one<br>Two" in html
    assert "Copy of national ID" in html
    assert f'href="/members/{member.id}/edit"' in html
    assert f'href="/members/{member.id}/status"' in html
    assert "Active since joining" in html


def test_change_status(app, as_role, coop, make_member):
    member = make_member(coop, joined_on=date(2020, 1, 1))
    client = as_role("secretary")
    response = client.get(f"/members/{member.id}/status")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert re.findall(r'<option[^>]*value="(\w+)"', html) == ["suspended", "left", "deceased"]

    response = client.post(f"/members/{member.id}/status", data={
        "status": "left", "effective_on": "2023-04-05", "reason": "Moved to the city"})
    assert response.status_code == 302
    saved = get_member(app, member.id)
    assert saved.status is MemberStatus.LEFT
    assert saved.left_on == date(2023, 4, 5)
    [change] = saved.status_changes
    assert change.reason == "Moved to the city"
    assert change.changed_by_id is not None
    page = client.get(f"/members/{member.id}").get_data(as_text=True)
    assert "Status changed to Left." in flashes(page)
    assert "Moved to the city" in page


@pytest.mark.parametrize(("data", "field", "message"), [
    ({"status": "left", "effective_on": "2999-01-01", "reason": "x"}, "effective_on",
     "The date is in the future."),
    ({"status": "left", "effective_on": "2019-12-31", "reason": "x"}, "effective_on",
     "The date is before the member joined."),
    ({"status": "left", "effective_on": "", "reason": "x"}, "effective_on",
     "This field is required."),
    ({"status": "left", "effective_on": "2021-02-30", "reason": "x"}, "effective_on",
     "Not a valid date value."),
    ({"status": "left", "effective_on": "2021-01-01", "reason": ""}, "reason",
     "This field is required."),
    ({"status": "active", "effective_on": "2021-01-01", "reason": "x"}, "status",
     "Not a valid choice."),
])
def test_change_status_errors(app, as_role, coop, make_member, data, field, message):
    member = make_member(coop, joined_on=date(2020, 1, 1))
    client = as_role("secretary")
    response = client.post(f"/members/{member.id}/status", data=data)
    assert response.status_code == 422
    assert message in error_on(response.get_data(as_text=True), field)
    assert get_member(app, member.id).status is MemberStatus.ACTIVE


def test_a_deceased_members_status_cannot_change(as_role, coop, make_member):
    member = make_member(coop, joined_on=date(2020, 1, 1))
    client = as_role("secretary")
    client.post(f"/members/{member.id}/status", data={
        "status": "deceased", "effective_on": "2022-01-01", "reason": "Death certificate"})
    response = client.get(f"/members/{member.id}/status")
    assert response.status_code == 302
    page = client.get(f"/members/{member.id}").get_data(as_text=True)
    assert "This member&#39;s status can no longer change." in flashes(page)
    assert f'href="/members/{member.id}/status"' not in page


# ---- dependants -----------------------------------------------------------------------------

def test_add_and_remove_a_dependant(app, as_role, coop, make_member):
    member = make_member(coop, id_number="3-0456-0789")
    client = as_role("secretary")
    response = client.post(f"/members/{member.id}/dependants", data={
        "name": "Lucía", "relation": "child", "date_of_birth": "2015-04-01",
        "id_number": "1-0234-0567"})
    assert response.status_code == 302
    assert response.headers["Location"] == f"/members/{member.id}#dependants"
    [dependant] = dependants_of(app, member)
    assert dependant.name == "Lucía"
    assert dependant.id_number == "0102340567"
    page = client.get(f"/members/{member.id}").get_data(as_text=True)
    assert "Dependant added." in flashes(page)
    assert "01-0234-0567" in page

    response = client.post(f"/members/{member.id}/dependants/{dependant.id}/remove",
                           data={"confirmed": "y"})
    assert response.status_code == 302
    assert dependants_of(app, member) == []
    page = client.get(f"/members/{member.id}").get_data(as_text=True)
    assert "Dependant removed." in flashes(page)
    assert "No dependants recorded." in page


@pytest.mark.parametrize(("data", "message"), [
    ({"name": "Lucía", "relation": "child", "id_number": "1-0234-05677"},
     "it has the wrong number of digits"),
    ({"name": "Lucía", "relation": "child",
      "date_of_birth": (TODAY + timedelta(days=1)).isoformat()},
     "The date of birth is in the future."),
    ({"name": "Lucía", "relation": "cousin"}, "Not a valid choice."),
    ({"name": "", "relation": "child"}, "This field is required."),
])
def test_a_bad_dependant_is_not_added(app, as_role, coop, make_member, data, message):
    member = make_member(coop)
    client = as_role("secretary")
    response = client.post(f"/members/{member.id}/dependants", data=data,
                           follow_redirects=True)
    assert response.status_code == 200
    [flash] = flashes(response.get_data(as_text=True))
    assert flash.startswith("The dependant was not added: ")
    assert message in flash
    assert dependants_of(app, member) == []


def test_a_dependant_of_another_member_answers_404(app, as_role, coop, make_member,
                                                  make_dependant):
    member, other = make_member(coop), make_member(coop)
    dependant_id = make_dependant(other)
    client = as_role("secretary")
    response = client.post(f"/members/{member.id}/dependants/{dependant_id}/remove")
    assert response.status_code == 404
    assert dependant_exists(app, dependant_id)


# ---- documents checklist --------------------------------------------------------------------

def held(app, member) -> dict[int, date]:
    with app.app_context():
        return {d.document_type_id: d.received_on for d in db.session.scalars(
            select(MemberDocument).where(MemberDocument.member_id == member.id))}


def test_documents_checklist(app, as_role, coop, make_member):
    member = make_member(coop)
    id_copy, form, address = document_types(app, coop)
    client = as_role("secretary")
    response = client.post(f"/members/{member.id}/documents", data={
        f"doc_{id_copy.id}": "1", f"doc_{id_copy.id}_date": "2020-01-15",
        f"doc_{form.id}": "1", f"doc_{form.id}_date": "",
        f"doc_{address.id}_date": "2020-01-01"})  # a date without the tick is not held
    assert response.status_code == 302
    assert response.headers["Location"] == f"/members/{member.id}#documents"
    assert held(app, member) == {id_copy.id: date(2020, 1, 15), form.id: TODAY}
    page = client.get(f"/members/{member.id}").get_data(as_text=True)
    assert "Documents checklist saved." in flashes(page)
    assert re.search(rf'name="doc_{id_copy.id}" value="1" checked', page)
    assert re.search(rf'name="doc_{address.id}" value="1">', page)

    # a date change; unticking by leaving the box out; a ticked box with no date keeps its date
    client.post(f"/members/{member.id}/documents", data={
        f"doc_{id_copy.id}": "1", f"doc_{id_copy.id}_date": "",
        f"doc_{address.id}": "1", f"doc_{address.id}_date": "2021-03-03"})
    assert held(app, member) == {id_copy.id: date(2020, 1, 15), address.id: date(2021, 3, 3)}
    client.post(f"/members/{member.id}/documents", data={
        f"doc_{id_copy.id}": "1", f"doc_{id_copy.id}_date": "2022-02-02"})
    assert held(app, member) == {id_copy.id: date(2022, 2, 2)}


@pytest.mark.parametrize(("day", "message"), [
    ((TODAY + timedelta(days=1)).isoformat(), "A document cannot be received in the future."),
    ("2020-02-30", "“2020-02-30” is not a date; nothing was changed."),
])
def test_documents_checklist_errors_change_nothing(app, as_role, coop, make_member, day, message):
    member = make_member(coop)
    id_copy, form, _address = document_types(app, coop)
    client = as_role("secretary")
    client.post(f"/members/{member.id}/documents", data={f"doc_{form.id}": "1",
                                                         f"doc_{form.id}_date": "2020-01-01"})
    response = client.post(f"/members/{member.id}/documents", data={
        f"doc_{id_copy.id}": "1", f"doc_{id_copy.id}_date": day}, follow_redirects=True)
    assert message in flashes(response.get_data(as_text=True))
    assert held(app, member) == {form.id: date(2020, 1, 1)}


def test_saving_the_checklist_keeps_a_retired_document(as_role, app, coop, make_member):
    member = make_member(coop)
    id_copy, form, address = document_types(app, coop)
    client = as_role("secretary")
    client.post(f"/members/{member.id}/documents", data={
        f"doc_{address.id}": "1", f"doc_{address.id}_date": "2020-01-01"})
    with app.app_context(), acting_as(None, "tests"):
        set_document_type_active(db.session.get(DocumentType, address.id), False)
        db.session.commit()
    page = client.get(f"/members/{member.id}").get_data(as_text=True)
    assert f'name="doc_{address.id}"' not in page  # the retired item is not on the page
    client.post(f"/members/{member.id}/documents", data={
        f"doc_{id_copy.id}": "1", f"doc_{id_copy.id}_date": "2020-02-02"})
    assert held(app, member) == {id_copy.id: date(2020, 2, 2), address.id: date(2020, 1, 1)}


# ---- roles ----------------------------------------------------------------------------------

@pytest.mark.parametrize("role", ["viewer", "secretary"])
def test_national_ids_are_masked_for_viewers(as_role, coop, make_member, make_dependant,
                                             role):
    member = make_member(coop, id_number="1-0234-0567")
    make_dependant(member, id_number="2-0345-0678")
    client = as_role(role)
    pages = {"list": client.get("/members/").get_data(as_text=True),
             "member": client.get(f"/members/{member.id}").get_data(as_text=True)}
    for name, html in pages.items():
        if role == "viewer":
            assert "••-••••-•567" in html, name
            assert "01-0234-0567" not in html, name
            assert "0102340567" not in html, name
        else:
            assert "01-0234-0567" in html, name
            assert "••" not in html, name
    if role == "viewer":
        assert "••-••••-•678" in pages["member"]
        assert "02-0345-0678" not in pages["member"]
    else:
        assert "02-0345-0678" in pages["member"]


@pytest.mark.parametrize("role", ["viewer", "treasurer", "secretary", "admin"])
def test_every_role_may_read(as_role, coop, make_member, role):
    member = make_member(coop)
    client = as_role(role)
    assert client.get("/members/").status_code == 200
    page = client.get(f"/members/{member.id}")
    assert page.status_code == 200
    can_edit = role in ("secretary", "admin")
    assert (f'href="/members/{member.id}/edit"' in page.get_data(as_text=True)) is can_edit
    assert ('href="/members/new"' in client.get("/members/").get_data(as_text=True)) is can_edit


def editing_routes(member_id: int, dependant_id: int, type_id: int):
    return [
        ("get", "/members/new", None),
        ("post", "/members/new", form_data()),
        ("get", f"/members/{member_id}/edit", None),
        ("post", f"/members/{member_id}/edit", form_data(first_name="Changed")),
        ("get", f"/members/{member_id}/status", None),
        ("post", f"/members/{member_id}/status",
         {"status": "left", "effective_on": "2021-01-01", "reason": "x"}),
        ("post", f"/members/{member_id}/dependants", {"name": "New", "relation": "child"}),
        ("post", f"/members/{member_id}/dependants/{dependant_id}/remove", {"confirmed": "y"}),
        ("post", f"/members/{member_id}/documents",
         {f"doc_{type_id}": "1", f"doc_{type_id}_date": "2020-01-01"}),
    ]


@pytest.mark.parametrize("role", ["viewer", "treasurer"])
def test_readers_cannot_change_the_register(app, as_role, coop, make_member, make_dependant, role):
    member = make_member(coop, first_name="Rosa")
    dependant_id = make_dependant(member)
    type_id = document_types(app, coop)[0].id
    client = as_role(role)
    for method, url, data in editing_routes(member.id, dependant_id, type_id):
        response = getattr(client, method)(url, data=data)
        assert response.status_code == 403, (method, url)
    saved = get_member(app, member.id)
    assert saved.first_name == "Rosa"
    assert saved.status is MemberStatus.ACTIVE
    assert len(members_of(app, coop)) == 1
    assert [d.id for d in saved.dependants] == [dependant_id]
    assert held(app, saved) == {}


def test_a_member_of_another_cooperative_answers_404(app, as_role, coop, other_coop, make_member,
                                                   make_dependant):
    stranger = make_member(other_coop, first_name="Extraña", id_number="")
    dependant_id = make_dependant(stranger)
    type_id = document_types(app, other_coop)[0].id
    client = as_role("secretary")
    routes = [("get", f"/members/{stranger.id}", None)] + [
        r for r in editing_routes(stranger.id, dependant_id, type_id)
        if "/new" not in r[1]]
    assert len(routes) == 8
    for method, url, data in routes:
        response = getattr(client, method)(url, data=data)
        assert response.status_code == 404, (method, url)
        assert "Extraña" not in response.get_data(as_text=True)
    saved = get_member(app, stranger.id)
    assert saved.first_name == "Extraña"
    assert saved.status is MemberStatus.ACTIVE
    assert [d.id for d in saved.dependants] == [dependant_id]
    assert held(app, saved) == {}


def test_an_unknown_member_answers_404(as_role):
    client = as_role("secretary")
    assert client.get("/members/987654321").status_code == 404
    assert client.get("/members/987654321/edit").status_code == 404


def test_a_dependant_of_another_cooperative_answers_404(app, as_role, coop, other_coop,
                                                       make_member, make_dependant):
    member = make_member(coop)
    foreign_dependant = make_dependant(make_member(other_coop, id_number=""))
    client = as_role("secretary")
    response = client.post(f"/members/{member.id}/dependants/{foreign_dependant}/remove")
    assert response.status_code == 404
    assert dependant_exists(app, foreign_dependant)


def test_the_pages_need_a_login(client, coop, make_member):
    member = make_member(coop)
    for url in ("/members/", f"/members/{member.id}", "/members/new"):
        response = client.get(url)
        assert response.status_code == 302
        assert "/login" in response.headers["Location"]


def test_a_user_of_both_cooperatives_sees_each_in_turn(client, coop, other_coop, make_user,
                                                      make_member, app):
    mine = make_member(coop, first_name="Local")
    theirs = make_member(other_coop, first_name="Remote", id_number="")
    user_id, email = make_user(coop, "secretary")
    from coopreg.auth import services as auth_services
    from coopreg.auth.models import User
    with app.app_context(), acting_as(None, "tests"):
        auth_services.grant_role(db.session.get(User, user_id),
                                 db.session.get(type(other_coop), other_coop.id), "viewer")
        db.session.commit()
    login(client, email, cooperative=coop)
    assert client.get(f"/members/{mine.id}").status_code == 200
    assert client.get(f"/members/{theirs.id}").status_code == 404
    with client.session_transaction() as session:
        session["cooperative_id"] = other_coop.id
    assert client.get(f"/members/{theirs.id}").status_code == 200
    assert client.get(f"/members/{mine.id}").status_code == 404
    assert client.get(f"/members/{theirs.id}/edit").status_code == 403  # a viewer there


def test_the_member_form_asks_the_sex_and_marks_required_fields(app, as_role):
    client = as_role("secretary")
    html = client.get("/members/new").get_data(as_text=True)
    sex = re.search(r'<select[^>]*name="sex".*?</select>', html, re.S).group(0)
    assert "selected" not in sex.replace('selected value=""', "")  # nothing chosen for them
    assert re.search(r'<option (selected )?value="">Choose…</option>', sex)
    # required fields are marked (beside the label, so the label keeps its name)
    assert re.search(r'<label for="first_name">First name</label><span class="req"', html)
    assert re.search(r'<label for="middle_name">Middle name</label>\s*<input', html)
    response = client.post("/members/new", data=form_data(sex=""))
    assert response.status_code in (200, 422)
    assert "This field is required." in response.get_data(as_text=True)


def test_ticking_documents_from_a_registration_goes_back_to_it(app, as_role, coop, make_member):
    member = make_member(coop)
    id_copy, _form, _address = document_types(app, coop)
    client = as_role("secretary")
    back = "/agreements/registrations/12345"
    page = client.get(f"/members/{member.id}?back={back}").get_data(as_text=True)
    assert f'<input type="hidden" name="next" value="{back}">' in page
    data = {f"doc_{id_copy.id}": "1", f"doc_{id_copy.id}_date": "2020-01-15"}
    response = client.post(f"/members/{member.id}/documents", data={**data, "next": back})
    assert response.status_code == 302 and response.headers["Location"] == back
    # only a path of this site is followed
    for elsewhere in ("https://evil.example/", "//evil.example/x"):
        response = client.post(f"/members/{member.id}/documents",
                               data={**data, "next": elsewhere})
        assert response.headers["Location"].endswith(f"/members/{member.id}#documents")


def test_the_member_list_says_how_many_and_folds_its_filters(app, as_role, coop, make_member):
    for _ in range(3):
        make_member(coop)
    client = as_role("secretary")
    html = client.get("/members/").get_data(as_text=True)
    assert '<p class="list-total">3 members</p>' in html
    # on a phone the filters beyond the search fold behind "More filters" (no script)
    assert 'id="show-filters" class="fold-toggle visually-hidden">' in html
    assert html.count('class="field more"') == 5  # status, sector, locality, documents, sort
    filtered = client.get("/members/?status=active").get_data(as_text=True)
    # a filtered list counts what the filters match, every page of it
    assert '<p class="list-total">3 members match</p>' in filtered
    assert "0 members match" in client.get("/members/?status=left").get_data(as_text=True)
    assert 'class="fold-toggle visually-hidden" checked>' in filtered  # its filters stay open
    make_member(coop)
    assert "4 members" in client.get("/members/").get_data(as_text=True)


def test_the_form_takes_and_the_page_shows_the_record_institutions_ask_for(app, as_role,
                                                                             coop):
    client = as_role("secretary")
    form = client.get("/members/new").get_data(as_text=True)
    for name in ("name_extension", "mothers_maiden_name", "civil_status", "nationality",
                 "tax_number", "email", "province_code", "canton_code", "district_code"):
        assert f'name="{name}"' in form, name
    assert '<option value="10501">10501 Tarrazú · San Marcos</option>' in form
    response = client.post("/members/new", data=form_data(
        first_name="Rosa", last_name="Quesada", name_extension="", civil_status="widowed",
        nationality="CR", tax_number="1-0234-0567", email="rosa@example.org",
        district_code="10501", phone="8888 1234", mothers_maiden_name="Mora"))
    assert response.status_code == 302
    [member] = members_of(app, coop)
    assert (member.civil_status.value, member.nationality, member.tax_number) == (
        "widowed", "CR", "0102340567")
    assert (member.province_code, member.canton_code, member.district_code) == (
        "1", "105", "10501")
    page = client.get(f"/members/{member.id}").get_data(as_text=True)
    assert "Widowed" in page and "Costa Rica" in page and "rosa@example.org" in page
    assert "San José, Tarrazú, San Marcos" in page and "8888 1234" in page
    refused = client.post("/members/new", data=form_data(
        first_name="Ana", last_name="Mora", tax_number="20-12345678-7",
        email="ana@"))
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert error_on(html, "tax_number") and 'value="20-12345678-7"' in html


def test_a_viewer_sees_the_tax_number_masked_like_the_id(app, as_role, coop, make_member):
    member = make_member(coop, tax_number="1-0234-0567")
    page = as_role("viewer").get(f"/members/{member.id}").get_data(as_text=True)
    assert "0102340567" not in page and "•••••••567" in page
