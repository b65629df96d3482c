"""The printable member documents: a member's registration summary and an agreement's
awareness sheet (services and pages), and the schemes' texts for members (service and form)."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import select

from coopreg.agreements import documents, services
from coopreg.agreements.models import (
    HOW_TO_CLAIM_MAX,
    MEMBER_BENEFITS_MAX,
    Agreement,
    Registration,
    RegistrationStatus,
    Scheme,
)
from coopreg.batches import services as batch_services
from coopreg.cooperatives.models import Cooperative, DocumentType
from coopreg.core.audit import acting_as
from coopreg.core.errors import DomainError
from coopreg.extensions import db
from coopreg.members import services as member_services
from coopreg.members.models import Member
from tests.agreements.conftest import FLAT
from tests.conftest import member_data

S = RegistrationStatus
BENEFITS = "Atención médica en el EBAIS y los hospitales de la Caja.\nSubsidio por incapacidad."
CLAIM = "1. Vaya al EBAIS con su cédula.\n2. Llame a la cooperativa: 2546-0000."
CONTACT = "Del parque 100 m al sur · Tel. 2546-0000"


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.fixture
def docs(app, coop):
    """CCSS with two schemes (one with texts for members, one without) in agreement CCSS-DOC;
    Ana (reads Spanish, one dependant) registered through a sealed enrolment batch; Luis
    (no language of his own) enrolled and pending."""
    with app.app_context(), acting_as(None, "tests"):
        cooperative = db.session.get(Cooperative, coop.id)
        cooperative.contact = CONTACT
        id_copy = db.session.scalar(select(DocumentType).where(
            DocumentType.cooperative_id == coop.id, DocumentType.name == "Copy of national ID"))
        institution = services.create_institution(
            cooperative, "Caja Costarricense de Seguro Social", "CCSS", "CR")
        health = services.create_scheme(institution, "Seguro de Salud",
                                        ["medical_care", "sickness"], BENEFITS, CLAIM)
        pensions = services.create_scheme(institution, "Invalidez, Vejez y Muerte",
                                          ["old_age"])
        agreement = services.create_agreement(cooperative, {
            "institution_id": institution.id, "reference": "CCSS-DOC",
            "valid_from": date(2024, 1, 1), "scheme_ids": [health.id, pensions.id],
            "document_type_ids": [id_copy.id], "member_number_pattern": r"CC-[0-9]{7}"},
            FLAT, None)
        ana = member_services.create_member(cooperative, member_data(
            first_name="Ana", last_name="Quesada", id_number="1-0555-0666", language="es"),
            confirm_duplicate=True)
        member_services.set_documents(ana, {id_copy.id: date(2024, 1, 1)})
        member_services.add_dependant(ana, "Pedro Quesada", "child", date(2015, 6, 1), None)
        luis = member_services.create_member(cooperative, member_data(
            first_name="Luis", last_name="Mora", id_number="1-0777-0888"),
            confirm_duplicate=True)
        registration = services.enrol_member(agreement, ana, None)
        services.transition_registration(registration, S.READY, None)
        services.enrol_member(agreement, luis, None)
        batch = batch_services.create_batch(cooperative, agreement, "enrolment", None,
                                            registration_ids=[registration.id])
        batch_services.seal_batch(batch, None, app.config["EXPORT_DIR"])
        services.transition_registration(registration, S.REGISTERED, None,
                                         institution_number="CC-1234567",
                                         coverage_start=date(2024, 3, 1))
        ids = {"agreement": agreement.id, "ana": ana.id, "luis": luis.id,
               "health": health.id, "pensions": pensions.id, "batch": batch.reference}
        db.session.commit()
    return ids


# ---- services -------------------------------------------------------------------------------

def test_summary_lists_each_registration_with_history_batches_and_dependants(app, docs):
    with app.app_context():
        ana = db.session.get(Member, docs["ana"])
        summary = documents.registration_summary(ana, today=date(2025, 1, 2))
        assert summary.printed_on == date(2025, 1, 2)
        [entry] = summary.entries
        assert entry.agreement.reference == "CCSS-DOC"
        assert entry.registration.status == S.REGISTERED
        assert [e.to_status for e in entry.events] == [S.PENDING, S.READY, S.SUBMITTED,
                                                       S.REGISTERED]
        assert [b.reference for b in entry.batches] == [docs["batch"]]
        assert [s.name for s in entry.schemes] == ["Invalidez, Vejez y Muerte",
                                                    "Seguro de Salud"]
        assert {b.value for b in entry.branches} == {"medical_care", "sickness", "old_age"}
        assert [d.name for d in summary.dependants] == ["Pedro Quesada"]
        luis = db.session.get(Member, docs["luis"])
        [pending] = documents.registration_summary(luis).entries
        assert pending.batches == [] and [e.to_status for e in pending.events] == [S.PENDING]


def test_awareness_sheet_for_one_member_carries_their_registration(app, docs, other_coop,
                                                                   make_member):
    with app.app_context():
        agreement = db.session.get(Agreement, docs["agreement"])
        general = documents.awareness_sheet(agreement)
        assert general.member is None and general.registration is None and general.has_texts
        sheet = documents.awareness_sheet(agreement, db.session.get(Member, docs["ana"]))
        assert sheet.registration.status == S.REGISTERED
        assert [s.member_benefits for s in sheet.schemes] == [None, BENEFITS]
    stranger = make_member(other_coop, id_type="local", id_number="123456789012")
    with app.app_context():
        agreement = db.session.get(Agreement, docs["agreement"])
        with pytest.raises(ValueError):
            documents.awareness_sheet(agreement, db.session.get(Member, stranger.id))


def test_scheme_texts_keep_their_lines_and_refuse_too_long(ctx, institution):
    scheme = services.create_scheme(institution, "Salud", ["medical_care"],
                                    "  Consultas   y\r\n\r\n\r\n\r\nexámenes \x00 ", "\n \n")
    assert scheme.member_benefits == "Consultas y\n\nexámenes"
    assert scheme.how_to_claim is None
    with pytest.raises(DomainError) as refused:
        services.update_scheme(scheme, "Salud", ["medical_care"], "ok",
                               "x" * (HOW_TO_CLAIM_MAX + 1))
    assert refused.value.field == "how_to_claim"
    assert "at most 2000 characters" in refused.value.message
    with pytest.raises(DomainError) as refused:
        services.create_scheme(institution, "Otro", ["sickness"],
                               "y" * (MEMBER_BENEFITS_MAX + 1))
    assert refused.value.field == "member_benefits"
    services.update_scheme(scheme, "Salud", ["medical_care"], "b" * MEMBER_BENEFITS_MAX,
                           "c" * HOW_TO_CLAIM_MAX)
    assert len(scheme.member_benefits) == MEMBER_BENEFITS_MAX


# ---- the registration summary page -----------------------------------------------------------

def test_summary_prints_in_the_members_spanish_with_everything(as_role, docs):
    client = as_role("secretary")
    response = client.get(f"/agreements/members/{docs['ana']}/registration-summary")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    text = _text(html)
    assert '<html lang="es">' in html, "the member reads Spanish"
    for expected in ("Ana", "Quesada", "Cooperativa de Prueba", CONTACT, "CCSS-DOC",
                     "Caja Costarricense de Seguro Social", "Seguro de Salud",
                     "Invalidez, Vejez y Muerte", "CC-1234567", docs["batch"],
                     "Pedro Quesada", "1-0555-0666"):
        assert expected in text, expected
    # headings and labels of the catalogue in Spanish, dates in the Spanish format
    for spanish in ("Número de socio", "Estado", "Dependientes", "Afiliada", "Pendiente",
                    "Atención médica", "Enfermedad", "1 mar 2024"):
        assert spanish in text, spanish
    assert "Mar 1, 2024" not in text
    assert 'data-print' in html and "js/contributions.js" in html


def test_summary_in_the_cooperatives_language_when_the_member_has_none(as_role, docs):
    html = as_role("treasurer").get(
        f"/agreements/members/{docs['luis']}/registration-summary").get_data(as_text=True)
    assert '<html lang="en">' in html
    text = _text(html)
    assert "Luis" in text and "Pending" in text and "Member number" in text


def test_viewer_sees_the_national_id_masked(as_role, docs):
    html = as_role("viewer").get(
        f"/agreements/members/{docs['ana']}/registration-summary").get_data(as_text=True)
    assert "1-0555-0666" not in html
    assert "•-••••-•666" in html


def test_documents_of_another_cooperative_answer_404(client, docs, other_coop, make_member,
                                                     make_user):
    from tests.conftest import login

    stranger = make_member(other_coop, id_type="local", id_number="210987654321")
    _uid, email = make_user(other_coop, "admin")
    login(client, email, cooperative=other_coop)
    assert client.get(f"/agreements/members/{docs['ana']}/registration-summary"
                      ).status_code == 404
    assert client.get(f"/agreements/{docs['agreement']}/awareness-sheet").status_code == 404
    assert client.get(f"/agreements/{docs['agreement']}/awareness-sheet/members/"
                      f"{stranger.id}").status_code == 404
    assert client.get(f"/agreements/members/{stranger.id}/registration-summary"
                      ).status_code == 200


# ---- the awareness sheet page ---------------------------------------------------------------

def test_awareness_sheet_shows_the_texts_as_typed_in_the_chosen_language(as_role, docs):
    client = as_role("viewer")
    html = client.get(f"/agreements/{docs['agreement']}/awareness-sheet").get_data(
        as_text=True)
    assert '<html lang="en">' in html
    text = _text(html)
    assert "What you get" in text and "How to claim" in text
    assert CONTACT in text, "the cooperative's contact heads the sheet"
    assert "Atención médica en el EBAIS y los hospitales de la Caja.<br>Subsidio" in html
    assert "1. Vaya al EBAIS con su cédula.<br>2. Llame a la cooperativa: 2546-0000." in html
    assert "Ask the cooperative's office." in html, "the scheme without texts says so"
    assert "Copy of national ID" in text, "the documents to bring"
    assert '<option value="en" selected>' in html
    spanish = client.get(f"/agreements/{docs['agreement']}/awareness-sheet?lang=es"
                         ).get_data(as_text=True)
    assert '<html lang="es">' in spanish and '<option value="es" selected>' in spanish
    assert "Atención médica" in _text(spanish) and "Vaya al EBAIS" in spanish
    french = client.get(f"/agreements/{docs['agreement']}/awareness-sheet?lang=fr"
                        ).get_data(as_text=True)
    assert '<html lang="fr">' in french
    unknown = client.get(f"/agreements/{docs['agreement']}/awareness-sheet?lang=xx")
    assert unknown.status_code == 200 and '<html lang="en">' in unknown.get_data(as_text=True)


def test_member_awareness_sheet_in_the_members_language_with_their_status(as_role, docs):
    client = as_role("secretary")
    url = f"/agreements/{docs['agreement']}/awareness-sheet/members/{docs['ana']}"
    html = client.get(url).get_data(as_text=True)
    assert '<html lang="es">' in html
    text = _text(html)
    assert "Ana" in text and "Quesada" in text
    assert "Afiliada" in text and "CC-1234567" in text and "1 mar 2024" in text
    assert '<html lang="pt">' in client.get(url + "?lang=pt").get_data(as_text=True)
    luis = client.get(f"/agreements/{docs['agreement']}/awareness-sheet/members/"
                      f"{docs['luis']}").get_data(as_text=True)
    assert "Luis" in luis and "Pending" in _text(luis)


def test_member_awareness_sheet_for_a_member_not_enrolled(app, as_role, docs, coop):
    with app.app_context(), acting_as(None, "tests"):
        cooperative = db.session.get(Cooperative, coop.id)
        rosa = member_services.create_member(cooperative, member_data(first_name="Rosa"),
                                             confirm_duplicate=True)
        db.session.commit()
        rosa_id = rosa.id
    html = as_role("viewer").get(f"/agreements/{docs['agreement']}/awareness-sheet/members/"
                                 f"{rosa_id}").get_data(as_text=True)
    assert "Rosa" in html and "not enrolled yet" in html


def test_links_to_the_documents(as_role, docs, app):
    client = as_role("viewer")
    member_page = client.get(f"/members/{docs['ana']}").get_data(as_text=True)
    assert f"/agreements/members/{docs['ana']}/registration-summary" in member_page
    assert "Print registration summary" in member_page
    assert (f"/agreements/{docs['agreement']}/awareness-sheet/members/{docs['ana']}"
            in member_page)
    with app.app_context():
        registration_id = db.session.scalar(select(Registration.id).where(
            Registration.member_id == docs["ana"]))
    registration_page = client.get(f"/agreements/registrations/{registration_id}").get_data(
        as_text=True)
    assert f"/agreements/members/{docs['ana']}/registration-summary" in registration_page
    assert "awareness-sheet/members/" in registration_page
    agreement_page = client.get(f"/agreements/{docs['agreement']}").get_data(as_text=True)
    assert f"/agreements/{docs['agreement']}/awareness-sheet" in agreement_page


# ---- the scheme form ------------------------------------------------------------------------

def test_admin_types_the_scheme_texts_and_too_long_text_is_refused(app, as_role, docs):
    client = as_role("admin")
    url = f"/agreements/schemes/{docs['pensions']}/edit"
    form = client.get(url).get_data(as_text=True)
    assert 'name="member_benefits"' in form and 'name="how_to_claim"' in form
    assert f'maxlength="{MEMBER_BENEFITS_MAX}"' in form
    too_long = "Pensión " * 200  # 1,600 characters
    response = client.post(url, data={"name": "Invalidez, Vejez y Muerte",
                                      "branches": ["old_age", "invalidity"],
                                      "member_benefits": too_long,
                                      "how_to_claim": "Pida cita en la sucursal."})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert ("At most 1500 characters, so that the sheet fits on one page: this text has "
            "1600.") in html
    assert "Pida cita en la sucursal." in html, "what was typed is kept"
    with app.app_context():
        assert db.session.get(Scheme, docs["pensions"]).member_benefits is None
    # line breaks count once each, as in the browser: exactly the limit is accepted
    at_limit = ("a" * 99 + "\r\n") * 15
    response = client.post(url, data={"name": "Invalidez, Vejez y Muerte",
                                      "branches": ["old_age", "invalidity"],
                                      "member_benefits": at_limit,
                                      "how_to_claim": "1. Pida cita.\r\n2. Lleve su cédula."})
    assert response.status_code == 302
    with app.app_context():
        scheme = db.session.get(Scheme, docs["pensions"])
        assert scheme.member_benefits == at_limit.replace("\r\n", "\n").strip()
        assert scheme.how_to_claim == "1. Pida cita.\n2. Lleve su cédula."
    form = client.get(url).get_data(as_text=True)
    assert "1. Pida cita.\n2. Lleve su cédula." in form


def test_new_scheme_with_texts(app, as_role, docs):
    from coopreg.agreements.models import Institution

    client = as_role("admin")
    with app.app_context():
        institution_id = db.session.scalar(select(Institution.id).where(
            Institution.short_name == "CCSS"))
    response = client.post(f"/agreements/institutions/{institution_id}/schemes/new",
                           data={"name": "Riesgos del Trabajo",
                                 "branches": ["employment_injury"],
                                 "member_benefits": "Atención si se accidenta trabajando.",
                                 "how_to_claim": "x" * (HOW_TO_CLAIM_MAX + 1)})
    assert response.status_code == 422
    assert "At most 2000 characters" in response.get_data(as_text=True)
    response = client.post(f"/agreements/institutions/{institution_id}/schemes/new",
                           data={"name": "Riesgos del Trabajo",
                                 "branches": ["employment_injury"],
                                 "member_benefits": "Atención si se accidenta trabajando.",
                                 "how_to_claim": "Avise a la cooperativa el mismo día."})
    assert response.status_code == 302
    with app.app_context():
        scheme = db.session.scalar(select(Scheme).where(Scheme.name == "Riesgos del Trabajo"))
        assert scheme.how_to_claim == "Avise a la cooperativa el mismo día."


# ---- the cooperative's contact (settings) ---------------------------------------------------

def test_admin_sets_the_contact_printed_on_the_documents(app, as_role, coop):
    client = as_role("admin")
    assert 'name="contact"' in client.get("/admin/settings").get_data(as_text=True)
    base = {"name": "Cooperativa de Prueba", "locale": "es", "id_label": "", "id_pattern": ""}
    response = client.post("/admin/settings", data={**base, "contact": "x" * 301})
    assert response.status_code == 200
    assert "Field cannot be longer than 300 characters." in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Cooperative, coop.id).contact is None
    response = client.post("/admin/settings", data={**base,
                                                    "contact": "  Tel. 2546-0000   · 8 a 16 h "})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Cooperative, coop.id).contact == "Tel. 2546-0000 · 8 a 16 h"


def test_contact_too_long_is_refused_by_the_service(ctx, cr):
    from coopreg.cooperatives.services import update_settings

    with pytest.raises(DomainError) as refused:
        update_settings(cr, cr.name, cr.locale, None, None, "y" * 301)
    assert refused.value.field == "contact"
