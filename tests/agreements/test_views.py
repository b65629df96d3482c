"""The agreements pages through the client: admin setup, the campaign and its bulk actions,
one registration's page, the member page's section, and masking for viewers."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import select

from coopreg.agreements import services
from coopreg.agreements.models import (
    Agreement,
    AgreementTerms,
    Institution,
    Registration,
    RegistrationStatus,
    Scheme,
)
from coopreg.cooperatives.models import Cooperative, DocumentType
from coopreg.core.audit import acting_as
from coopreg.extensions import db
from coopreg.members import services as member_services
from coopreg.members.models import Member
from tests.agreements.conftest import FLAT
from tests.conftest import member_data
from tests.sql_log import statements_run

S = RegistrationStatus


def _flashes(html: str) -> list[str]:
    return [re.sub(r"\s+", " ", m).strip() for m in
            re.findall(r'<p class="flash[^"]*" role="status">(.*?)</p>', html, re.S)]


@pytest.fixture
def seeded(app, coop):
    """An institution, a scheme, an agreement requiring the ID copy, and members: two ready
    (one in crafts), one missing everything."""
    with app.app_context(), acting_as(None, "tests"):
        cooperative = db.session.get(Cooperative, coop.id)
        id_copy = db.session.scalar(select(DocumentType).where(
            DocumentType.cooperative_id == coop.id, DocumentType.name == "Copy of national ID"))
        institution = services.create_institution(cooperative, "Caja", "CCSS", "CR")
        scheme = services.create_scheme(institution, "Salud", ["medical_care", "maternity"])
        agreement = services.create_agreement(cooperative, {
            "institution_id": institution.id, "reference": "CCSS-V", "valid_from":
            date(2024, 1, 1), "scheme_ids": [scheme.id], "document_type_ids": [id_copy.id],
            "member_number_pattern": r"CC-[0-9]{7}"}, FLAT, None)
        ids = {"agreement": agreement.id, "institution": institution.id, "scheme": scheme.id,
               "id_copy": id_copy.id}
        for key, ready, extra in (("ana", True, {"first_name": "Ana", "id_number":
                                                 "1-0555-0666"}),
                                  ("rosa", True, {"first_name": "Rosa", "sector": "crafts",
                                                  "id_number": "1-0777-0888"}),
                                  ("zoe", False, {"first_name": "Zoe", "id_number": "",
                                                  "consent_given": False,
                                                  "consent_date": None,
                                                  "consent_method": ""})):
            member = member_services.create_member(cooperative, member_data(**extra),
                                                   confirm_duplicate=True)
            if ready:
                member_services.set_documents(member, {id_copy.id: date(2024, 1, 1)})
            ids[key] = member.id
        db.session.commit()
    return ids


def _registration(app, member_id: int) -> Registration:
    with app.app_context():
        registration = db.session.scalar(select(Registration).where(
            Registration.member_id == member_id))
        if registration is not None:
            db.session.expunge(registration)
        return registration


def test_admin_sets_up_an_institution_scheme_agreement_and_amends_it(app, as_role, coop):
    client = as_role("admin")
    response = client.post("/agreements/institutions/new", data={
        "name": "Philippine Health Insurance Corporation", "short_name": "PHIC",
        "country": "ph"})
    assert response.status_code == 302
    with app.app_context():
        institution = db.session.scalar(select(Institution))
        assert (institution.short_name, institution.country) == ("PHIC", "PH")
    again = client.post("/agreements/institutions/new", data={
        "name": "Again", "short_name": "phic", "country": "PH"})
    assert again.status_code == 422
    assert "already exists" in again.get_data(as_text=True)

    assert client.post(f"/agreements/institutions/{institution.id}/schemes/new",
                       data={"name": "NHIP"}).status_code == 422  # no branch chosen
    response = client.post(f"/agreements/institutions/{institution.id}/schemes/new",
                           data={"name": "NHIP", "branches": ["medical_care", "maternity"]})
    assert response.status_code == 302
    with app.app_context():
        scheme = db.session.scalar(select(Scheme))
        assert [b.value for b in scheme.branches] == ["medical_care", "maternity"]
    response = client.post(f"/agreements/schemes/{scheme.id}/edit",
                           data={"name": "NHIP", "branches": ["medical_care"]})
    assert response.status_code == 302

    form = {"institution_id": institution.id, "reference": "PHIC-2025",
            "valid_from": "2025-01-01", "signed_on": "2024-12-01",
            "member_number_pattern": "[0-9]{2}-[0-9]{9}-[0-9]", "scheme_ids": [scheme.id],
            "rule_kind": "flat", "flat_amount": "500", "member_share_percent": "50",
            "schedule": "monthly", "due_day": "10", "grace_days": "5",
            "remittance_deadline_days": "15"}
    bad = client.post("/agreements/new", data={**form, "flat_amount": ""})
    assert bad.status_code == 422
    assert "Amount per period is required" in bad.get_data(as_text=True)
    response = client.post("/agreements/new", data=form)
    assert response.status_code == 302
    with app.app_context():
        agreement = db.session.scalar(select(Agreement))
        agreement_id = agreement.id
    view = client.get(f"/agreements/{agreement_id}").get_data(as_text=True)
    assert "PHIC-2025" in view and "₡500.00" in view and "Medical care" in view

    amend = {"effective_from": "2025-01-01", "rule_kind": "flat", "flat_amount": "600",
             "member_share_percent": "40", "schedule": "seasonal", "due_months": ["3", "4"],
             "due_day": "10", "grace_days": "0", "remittance_deadline_days": "15",
             "note": "Renewal"}
    refused = client.post(f"/agreements/{agreement_id}/terms/new", data=amend)
    assert refused.status_code == 422
    assert "after the latest one" in refused.get_data(as_text=True)
    response = client.post(f"/agreements/{agreement_id}/terms/new",
                           data={**amend, "effective_from": "2026-01-01"})
    assert response.status_code == 302
    with app.app_context():
        terms = db.session.scalars(select(AgreementTerms).order_by(
            AgreementTerms.effective_from)).all()
        assert [(t.flat_amount_minor, t.due_months) for t in terms] == [(50000, None),
                                                                        (60000, "3,4")]
    # the edit form keeps the terms out of reach
    page = client.get(f"/agreements/{agreement_id}/edit")
    assert page.status_code == 200 and "flat_amount" not in page.get_data(as_text=True)
    response = client.post(f"/agreements/{agreement_id}/edit", data={
        **form, "valid_to": "2025-12-31", "reference": "PHIC-2025-R"})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Agreement, agreement_id).reference == "PHIC-2025-R"


def test_secretary_enrols_selected_and_all_matching(app, as_role, seeded):
    client = as_role("secretary")
    agreement = seeded["agreement"]
    page = client.get(f"/agreements/{agreement}/not-enrolled").get_data(as_text=True)
    assert "Ana" in page and "Zoe" in page and "Enrol selected" in page
    response = client.post(f"/agreements/{agreement}/enrol",
                           data={"member_id": [seeded["ana"]], "scope": "selected"},
                           follow_redirects=True)
    assert "1 member enrolled in CCSS-V (pending)." in _flashes(response.get_data(as_text=True))
    # all matching a filter: crafts only
    response = client.post(f"/agreements/{agreement}/enrol",
                           data={"scope": "all", "sector": "crafts"}, follow_redirects=True)
    assert "1 member enrolled in CCSS-V (pending)." in _flashes(response.get_data(as_text=True))
    assert _registration(app, seeded["rosa"]).status == S.PENDING
    assert _registration(app, seeded["zoe"]) is None
    # enrolling someone again is reported, not an error
    response = client.post(f"/agreements/{agreement}/enrol",
                           data={"member_id": [seeded["ana"], seeded["zoe"]]},
                           follow_redirects=True)
    flashes = _flashes(response.get_data(as_text=True))
    assert "1 member enrolled in CCSS-V (pending)." in flashes
    assert "1 member was left out:" in flashes
    assert any("Already enrolled (pending)." in f for f in flashes)


def test_secretary_marks_selected_ready_and_sees_who_is_missing_what(app, as_role, seeded):
    client = as_role("secretary")
    agreement = seeded["agreement"]
    client.post(f"/agreements/{agreement}/enrol", data={"scope": "all"})
    campaign = client.get(f"/agreements/{agreement}/campaign?status=pending")
    html = campaign.get_data(as_text=True)
    assert "Consent to share data with the institution is not recorded." in html
    assert "Document missing: Copy of national ID." in html
    assert "Nothing: can be marked ready" in html
    ids = [_registration(app, seeded[k]).id for k in ("ana", "rosa", "zoe")]
    response = client.post(f"/agreements/{agreement}/mark-ready",
                           data={"registration_id": ids}, follow_redirects=True)
    flashes = _flashes(response.get_data(as_text=True))
    assert "2 registrations marked ready." in flashes
    assert "1 member was left out:" in flashes
    assert any(f.startswith(f"{_member_number(app, seeded['zoe'])} Zoe") and
               "No national ID number is recorded." in f for f in flashes)
    assert _registration(app, seeded["ana"]).status == S.READY
    assert _registration(app, seeded["zoe"]).status == S.PENDING
    funnel = client.get(f"/agreements/{agreement}/campaign?status=ready").get_data(as_text=True)
    assert "Ana" in funnel and "Zoe" not in funnel


def _member_number(app, member_id):
    with app.app_context():
        return db.session.get(Member, member_id).member_number


def test_one_registration_through_its_page(app, as_role, seeded):
    client = as_role("secretary")
    response = client.post(f"/agreements/members/{seeded['ana']}/enrol",
                           data={"agreement_id": seeded["agreement"]})
    assert response.status_code == 302
    url = response.headers["Location"]
    page = client.get(url).get_data(as_text=True)
    assert "Everything the agreement requires is in place." in page
    registration_id = int(url.rsplit("/", 1)[1])
    post = f"/agreements/registrations/{registration_id}/transition"
    assert client.post(post, data={"ready-to_status": "ready"}).status_code == 302
    assert client.post(post, data={"submitted-to_status": "submitted"}).status_code == 302
    bad = client.post(post, data={"registered-to_status": "registered",
                                  "registered-institution_member_number": "12",
                                  "registered-coverage_start": "2025-02-01"})
    assert bad.status_code == 422
    assert "is not in the form CCSS uses" in bad.get_data(as_text=True)
    refused = client.post(post, data={"to_status": "suspended", "reason": "x"})
    assert refused.status_code == 422
    assert "cannot become suspended" in refused.get_data(as_text=True)
    good = client.post(post, data={"registered-to_status": "registered",
                                   "registered-institution_member_number": "CC-0000123",
                                   "registered-coverage_start": "2025-02-01"},
                       follow_redirects=True)
    html = good.get_data(as_text=True)
    assert "Registration is now Registered." in _flashes(html)
    assert "CC-0000123" in html
    # the history, with who did it
    assert html.count("Test User") >= 4
    # the member page shows the registration and the branches covered
    member_page = client.get(f"/members/{seeded['ana']}").get_data(as_text=True)
    assert "Social security registrations" in member_page
    section = member_page.split('id="registrations"')[1].split("</section>")[0]
    assert "CCSS-V" in section and "CC-0000123" in section
    assert "Medical care" in section and "Maternity" in section


def test_member_page_offers_enrolment_only_to_editors(app, as_role, seeded):
    client = as_role("viewer")
    page = client.get(f"/members/{seeded['ana']}").get_data(as_text=True)
    assert "Not enrolled in any agreement." in page
    assert "no branch of social protection yet" in page
    assert f"/agreements/members/{seeded['ana']}/enrol" not in page


def test_viewers_see_masked_ids_and_no_bulk_actions(app, as_role, seeded):
    with app.app_context(), acting_as(None, "tests"):
        agreement = db.session.get(Agreement, seeded["agreement"])
        services.enrol_member(agreement, db.session.get(Member, seeded["ana"]), None)
        db.session.commit()
    client = as_role("viewer")
    for url in (f"/agreements/{seeded['agreement']}/campaign",
                f"/agreements/{seeded['agreement']}/not-enrolled"):
        html = client.get(url).get_data(as_text=True)
        assert "0555-0666" not in html and "0777-0888" not in html
        assert "•" in html or "*" in html
        assert 'type="checkbox"' not in html.split('<main', 1)[1]  # the page, not the menu
    registration = _registration(app, seeded["ana"])
    html = client.get(f"/agreements/registrations/{registration.id}").get_data(as_text=True)
    assert "0555-0666" not in html and "Mark ready" not in html


def test_leaving_flags_the_registration_on_the_campaign(app, as_role, seeded):
    client = as_role("secretary")
    client.post(f"/agreements/members/{seeded['ana']}/enrol",
                data={"agreement_id": seeded["agreement"]})
    response = client.post(f"/members/{seeded['ana']}/status", data={
        "status": "left", "effective_on": date.today().isoformat(),
        "reason": "Moved to the city"})
    assert response.status_code == 302
    flagged = client.get(f"/agreements/{seeded['agreement']}/campaign?status=flagged")
    html = flagged.get_data(as_text=True)
    assert "Ana" in html and "Moved to the city" in html
    registration = _registration(app, seeded["ana"])
    page = client.get(f"/agreements/registrations/{registration.id}").get_data(as_text=True)
    assert "Flagged for exit" in page


def test_lists_and_pages_answer(app, as_role, seeded):
    client = as_role("treasurer")
    for url in ("/agreements/", "/agreements/institutions",
                f"/agreements/{seeded['agreement']}",
                f"/agreements/{seeded['agreement']}/campaign?status=rejected",
                f"/agreements/{seeded['agreement']}/campaign?status=bogus",
                f"/agreements/{seeded['agreement']}/not-enrolled?q=ana&sex=female"):
        assert client.get(url).status_code == 200, url
    page = client.get("/agreements/").get_data(as_text=True)
    assert "CCSS-V" in page


def test_campaign_pages_by_name(app, as_role, seeded, monkeypatch):
    client = as_role("secretary")
    client.post(f"/agreements/{seeded['agreement']}/enrol", data={"scope": "all"})
    with app.app_context():
        agreement = db.session.get(Agreement, seeded["agreement"])
        first, cursor = services.registrations_page(agreement, "pending", {}, per_page=2)
        rest, end = services.registrations_page(agreement, "pending", {}, after=cursor,
                                                per_page=2)
        names = [r.member.first_name for r in first + rest]
    assert names == ["Ana", "Rosa", "Zoe"] and end is None


def test_campaign_funnel_counts_the_rows_it_opens_with_the_filters(app, as_role, seeded):
    """Issue 14: the funnel counted the whole agreement while the list below it kept only
    the members the filters chose (a figure that disagrees with its own list)."""
    from coopreg.agreements.models import Agreement, RegistrationStatus
    from coopreg.members.models import Member
    from tests.contributions.helpers import register

    with app.app_context(), acting_as(None, "tests"):
        agreement = db.session.get(Agreement, seeded["agreement"])
        for key in ("ana", "rosa"):
            register(agreement, db.session.get(Member, seeded[key]), date(2024, 1, 1),
                     status=RegistrationStatus.PENDING)
        db.session.commit()
    client = as_role("secretary")
    base = f"/agreements/{seeded['agreement']}"
    page = client.get(f"{base}/campaign?status=pending&sector=crafts").get_data(as_text=True)
    funnel = page.split('class="funnel"', 1)[1].split("</nav>", 1)[0]
    pending = re.search(r'href="([^"]*status=pending[^"]*)">\s*<span class="num">(\d+)',
                        funnel)
    assert "sector=crafts" in pending.group(1).replace("&amp;", "&")
    rows = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    assert int(pending.group(2)) == rows.count('name="registration_id"') == 1
    not_enrolled = re.search(r'href="([^"]*not-enrolled[^"]*|[^"]*not_enrolled[^"]*)">\s*'
                             r'<span class="num">(\d+)', funnel)
    assert int(not_enrolled.group(2)) == 0  # Zoe is not in crafts
    unfiltered = client.get(f"{base}/campaign?status=pending").get_data(as_text=True)
    assert re.search(r'status=pending">\s*<span class="num">2<', unfiltered)


def test_terminating_a_registration_asks_for_confirmation(app, as_role, seeded):
    client = as_role("secretary")
    response = client.post(f"/agreements/members/{seeded['ana']}/enrol",
                           data={"agreement_id": seeded["agreement"]})
    url = response.headers["Location"]
    registration_id = int(url.rsplit("/", 1)[1])
    page = client.get(url).get_data(as_text=True)
    assert "Terminating ends this registration" in page
    post = f"/agreements/registrations/{registration_id}/transition"
    # other transitions need no confirmation
    assert client.post(post, data={"ready-to_status": "ready"}).status_code == 302
    data = {"terminated-to_status": "terminated", "terminated-reason": "Left the cooperative"}
    asked = client.post(post, data=data)
    assert asked.status_code == 409
    assert "Terminating ends this registration" in asked.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Registration, registration_id).status.value == "ready"
    done = client.post(post, data={**data, "confirmed": "y"})
    assert done.status_code == 302
    with app.app_context():
        assert db.session.get(Registration, registration_id).status.value == "terminated"


def test_the_not_enrolled_page_counts_its_list_once(app, as_role, seeded):
    """Issue 25: the page counted the not-enrolled members for its heading and again for the
    funnel, each a read of the whole register; the figure is the same, counted once."""

    client = as_role("secretary")
    url = f"/agreements/{seeded['agreement']}/not-enrolled?sex=female"
    with app.app_context():
        engine = db.engine
    with statements_run(engine) as ran:
        page = client.get(url).get_data(as_text=True)
    anti_joins = [r.sql for r in ran if "NOT (EXISTS" in r.sql and "count(" in r.sql.lower()]
    assert len(anti_joins) == 1, anti_joins
    assert "Ana" in page and "Zoe" in page
