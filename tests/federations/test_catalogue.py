"""The shared catalogue: the federation keeps an institution and its schemes once; a
cooperative adopts it (its own copy, linked to the source) and is told when the federation's
version changed, with "update my copy"."""

from __future__ import annotations

from sqlalchemy import select

from coopreg.agreements.models import Institution, Scheme
from coopreg.extensions import db
from coopreg.federations.models import Adoption, CatalogueInstitution
from tests.conftest import login
from tests.federations.helpers import federation_of, federation_user


def _institutions(app, cooperative_id):
    with app.app_context():
        return {i.short_name: sorted((s.name, tuple(b.value for b in s.branches))
                                     for s in db.session.scalars(select(Scheme).where(
                                         Scheme.cooperative_id == cooperative_id,
                                         Scheme.institution_id == i.id)))
                for i in db.session.scalars(select(Institution).where(
                    Institution.cooperative_id == cooperative_id))}


def test_adopt_then_update_my_copy(app, client, coop, make_user):
    federation_id = federation_of(app, coop)
    login(client, federation_user(app, federation_id, "federation_admin"))
    response = client.post("/federation/catalogue", data={
        "name": "Caja Costarricense de Seguro Social", "short_name": "CCSS", "country": "cr"},
        follow_redirects=True)
    assert "CCSS added to the catalogue" in response.get_data(as_text=True)
    with app.app_context():
        item_id = db.session.scalar(select(CatalogueInstitution.id))
    client.post("/federation/catalogue/scheme", data={
        "item": item_id, f"s{item_id}-name": "Seguro de Salud",
        f"s{item_id}-branches": ["medical_care", "sickness"]})
    # bad input: no branch, another federation's item
    refused = client.post("/federation/catalogue/scheme", data={
        "item": item_id, f"s{item_id}-name": "Pensiones"}, follow_redirects=True)
    assert "branch" in refused.get_data(as_text=True)
    assert client.post("/federation/catalogue/scheme", data={"item": 999999}).status_code == 404
    client.post("/logout")

    _uid, admin = make_user(coop, "admin")
    login(client, admin, cooperative=coop)
    page = client.get("/federation/adopt").get_data(as_text=True)
    assert "not adopted" in page
    response = client.post("/federation/adopt", data={"item": item_id}, follow_redirects=True)
    assert "CCSS adopted" in response.get_data(as_text=True)
    assert _institutions(app, coop.id) == {
        "CCSS": [("Seguro de Salud", ("medical_care", "sickness"))]}
    again = client.post("/federation/adopt", data={"item": item_id}, follow_redirects=True)
    assert "already adopted" in again.get_data(as_text=True)
    client.post("/logout")

    # the federation changes the scheme: the cooperative is told, and updates when it chooses
    login(client, federation_user(app, federation_id, "federation_admin", "fed2@example.org"))
    client.post("/federation/catalogue/scheme", data={
        "item": item_id, f"s{item_id}-name": "Seguro de Salud",
        f"s{item_id}-branches": ["medical_care", "sickness", "maternity"]})
    client.post("/logout")
    login(client, admin, cooperative=coop)
    assert "1 copy to update" in client.get("/admin/settings").get_data(as_text=True)
    page = client.get("/federation/adopt").get_data(as_text=True)
    assert "The federation changed it" in page and "Update my copy" in page
    assert _institutions(app, coop.id)["CCSS"] == [("Seguro de Salud",
                                                    ("medical_care", "sickness"))]
    response = client.post("/federation/adopt/update", data={"item": item_id},
                           follow_redirects=True)
    assert "up to date" in response.get_data(as_text=True)
    assert _institutions(app, coop.id)["CCSS"] == [
        ("Seguro de Salud", ("medical_care", "sickness", "maternity"))]
    with app.app_context():
        adoption = db.session.scalar(select(Adoption))
        assert adoption.version == db.session.get(CatalogueInstitution, item_id).version


def test_a_cooperative_outside_the_federation_cannot_adopt_its_items(app, client, coop,
                                                                    other_coop, make_user):
    federation_id = federation_of(app, coop)
    login(client, federation_user(app, federation_id, "federation_admin"))
    client.post("/federation/catalogue", data={"name": "CCSS", "short_name": "CCSS",
                                               "country": "CR"})
    client.post("/logout")
    with app.app_context():
        item_id = db.session.scalar(select(CatalogueInstitution.id))
    _uid, admin = make_user(other_coop, "admin")
    login(client, admin, cooperative=other_coop)
    response = client.post("/federation/adopt", data={"item": item_id}, follow_redirects=True)
    assert "Choose an institution of your federation" in response.get_data(as_text=True)
    assert _institutions(app, other_coop.id) == {}


def test_an_analyst_reads_the_catalogue_but_does_not_change_it(app, client, coop):
    federation_id = federation_of(app, coop)
    login(client, federation_user(app, federation_id, "federation_analyst"))
    assert client.get("/federation/catalogue").status_code == 200
    assert client.post("/federation/catalogue", data={"name": "X", "short_name": "X",
                                                      "country": "CR"}).status_code == 403


def test_a_layout_is_published_adopted_and_its_copy_updated(app, client, coop, other_coop,
                                                            make_user, make_cooperative):
    from coopreg.auth import services as auth_services
    from coopreg.batches import services as batch_services
    from coopreg.batches.models import FileLayout
    from coopreg.cooperatives.models import Cooperative
    from coopreg.core.audit import acting_as
    from coopreg.federations.models import CatalogueLayout, LayoutAdoption
    from tests.federations.helpers import agreement_with

    second = make_cooperative("CRSEG", name="Cooperativa Segunda")
    federation_id = federation_of(app, coop, second)
    with app.test_request_context(), acting_as(None, "tests"):
        source = batch_services.layout_for(agreement_with(
            db.session.get(Cooperative, coop.id), "CCSS", "AG-SRC"), "enrolment")
        source_id = source.id
        target_agreement = agreement_with(db.session.get(Cooperative, second.id), "CCSS",
                                          "AG-DST").id
        db.session.commit()
    # a cooperative admin who is not the federation's admin cannot publish
    _uid, plain_admin = make_user(coop, "admin")
    login(client, plain_admin, cooperative=coop)
    refused = client.post("/federation/adopt/layout/publish", data={"layout": source_id},
                          follow_redirects=True)
    assert "Only an admin of the federation" in refused.get_data(as_text=True)
    client.post("/logout")
    # the federation's admin, also this cooperative's admin, publishes
    email = federation_user(app, federation_id, "federation_admin")
    with app.app_context(), acting_as(None, "tests"):
        auth_services.grant_role(auth_services.find_user_by_email(email),
                                 db.session.get(Cooperative, coop.id), "admin")
        db.session.commit()
    login(client, email, cooperative=coop)
    published = client.post("/federation/adopt/layout/publish", data={"layout": source_id},
                            follow_redirects=True)
    assert "is in the federation&#39;s catalogue (version 1)" in published.get_data(as_text=True)
    with app.app_context():
        item_id = db.session.scalar(select(CatalogueLayout.id))
    client.post("/logout")

    _uid, second_admin = make_user(second, "admin")
    login(client, second_admin, cooperative=second)
    taken = client.post("/federation/adopt/layout", data={"item": item_id,
                                                          "agreement": target_agreement},
                        follow_redirects=True)
    assert "Layout" in taken.get_data(as_text=True) and "adopted" in taken.get_data(True)
    again = client.post("/federation/adopt/layout", data={"item": item_id,
                                                          "agreement": target_agreement},
                        follow_redirects=True)
    assert "already has a layout of this kind" in again.get_data(as_text=True)

    def columns(layout_id):
        with app.app_context():
            layout = db.session.get(FileLayout, layout_id)
            return [(c.header, c.source) for c in layout.columns]

    with app.app_context():
        copy_id = db.session.scalar(select(LayoutAdoption.layout_id))
    assert columns(copy_id) == columns(source_id)
    client.post("/logout")

    # the source changes and is published again: the copy is told, and updated on request
    with app.test_request_context(), acting_as(None, "tests"):
        layout = db.session.get(FileLayout, source_id)
        batch_services.remove_column(layout.columns[-1])
        db.session.commit()
    login(client, email, cooperative=coop)
    client.post("/federation/adopt/layout/publish", data={"layout": source_id})
    client.post("/logout")
    login(client, second_admin, cooperative=second)
    page = client.get("/federation/adopt").get_data(as_text=True)
    assert "The federation changed it (version 2; your copy is version 1)" in page
    updated = client.post("/federation/adopt/layout/update", data={"item": item_id},
                          follow_redirects=True)
    assert "1 copy of the layout is up to date" in updated.get_data(as_text=True)
    assert columns(copy_id) == columns(source_id)


def test_an_agreement_made_from_a_template_follows_its_new_version(app, client, coop,
                                                                   make_user):
    from datetime import date

    from coopreg.agreements.models import Agreement, AgreementTerms
    from coopreg.federations.models import CatalogueTemplate, TemplateAdoption

    federation_id = federation_of(app, coop)
    fed_admin = federation_user(app, federation_id, "federation_admin")
    login(client, fed_admin)
    client.post("/federation/catalogue", data={"name": "Caja", "short_name": "CCSS",
                                               "country": "CR"})
    with app.app_context():
        item_id = db.session.scalar(select(CatalogueInstitution.id))
    client.post("/federation/catalogue/scheme", data={
        "item": item_id, f"s{item_id}-name": "Salud", f"s{item_id}-branches": ["medical_care"]})
    terms = {"name": "Convenio agrícola", "institution_id": item_id, "rule_kind": "flat",
             "flat_amount": "500", "member_share_percent": "50", "schedule": "monthly",
             "due_day": 10, "grace_days": 5, "remittance_deadline_days": 15}
    bad = client.post("/federation/catalogue/template", data=dict(terms, flat_amount="0"),
                      follow_redirects=True)
    assert "more than zero" in bad.get_data(as_text=True)
    saved = client.post("/federation/catalogue/template", data=terms, follow_redirects=True)
    assert "Template Convenio agrícola saved (version 1)" in saved.get_data(as_text=True)
    with app.app_context():
        template_id = db.session.scalar(select(CatalogueTemplate.id))
    client.post("/logout")

    _uid, admin = make_user(coop, "admin")
    login(client, admin, cooperative=coop)
    form = {"item": template_id, f"t{template_id}-reference": "CCSS-2026",
            f"t{template_id}-valid_from": "2026-01-01"}
    first = client.post("/federation/adopt/template", data=form, follow_redirects=True)
    assert "Adopt the institution CCSS first" in first.get_data(as_text=True)
    client.post("/federation/adopt", data={"item": item_id})
    made = client.post("/federation/adopt/template", data=form, follow_redirects=True)
    assert "Agreement made from the template" in made.get_data(as_text=True)
    client.post("/logout")

    login(client, fed_admin)
    client.post("/federation/catalogue/template", data=dict(terms, flat_amount="650"))
    client.post("/logout")
    login(client, admin, cooperative=coop)
    page = client.get("/federation/adopt").get_data(as_text=True)
    assert "The federation changed it (version 2; your copy is version 1)" in page
    with app.app_context():
        adoption_id = db.session.scalar(select(TemplateAdoption.id))
    followed = client.post("/federation/adopt/template/follow", data={
        "adoption": adoption_id, f"f{adoption_id}-effective_from": "2026-07-01"},
        follow_redirects=True)
    assert "follows the template&#39;s version 2" in followed.get_data(as_text=True)
    with app.app_context():
        agreement = db.session.scalar(select(Agreement).where(
            Agreement.cooperative_id == coop.id, Agreement.reference == "CCSS-2026"))
        amounts = [(t.effective_from, t.flat_amount_minor) for t in db.session.scalars(
            select(AgreementTerms).where(AgreementTerms.cooperative_id == coop.id,
                                         AgreementTerms.agreement_id == agreement.id)
            .order_by(AgreementTerms.effective_from))]
        assert amounts == [(date(2026, 1, 1), 50000), (date(2026, 7, 1), 65000)]
        assert [s.name for s in agreement.schemes] == ["Salud"]


def test_a_template_carries_its_payers_and_scale_into_the_agreement(app, client, coop,
                                                                    make_user):
    """The terms negotiated once include who else pays (the state's share) and the scale;
    an agreement made from the template gets them, and so does the amendment that follows a
    new version."""
    from datetime import date

    from coopreg.agreements.models import Agreement, AgreementTerms
    from coopreg.federations.models import CatalogueTemplate, TemplateAdoption

    federation_id = federation_of(app, coop)
    fed_admin = federation_user(app, federation_id, "federation_admin")
    login(client, fed_admin)
    client.post("/federation/catalogue", data={"name": "Caja", "short_name": "CCSS",
                                               "country": "CR"})
    with app.app_context():
        item_id = db.session.scalar(select(CatalogueInstitution.id))
    client.post("/federation/catalogue/scheme", data={
        "item": item_id, f"s{item_id}-name": "Salud", f"s{item_id}-branches": ["medical_care"]})
    terms = {"name": "Trabajador independiente", "institution_id": item_id,
             "rule_kind": "scale", "member_share_percent": "60", "schedule": "monthly",
             "due_day": 10, "grace_days": 5, "remittance_deadline_days": 15,
             "scale": "A; 0; 5000\nB; 100000; 7%; 40; 50",
             "payer1_kind": "state", "payer1_name": "Estado", "payer1_share_percent": "30",
             "payer2_kind": "third_party", "payer2_name": "Municipalidad",
             "payer2_fixed_amount": "1000", "payer2_direct": "y"}
    bad = client.post("/federation/catalogue/template",
                      data=dict(terms, scale="A; 500; 5000"), follow_redirects=True)
    assert "Template Trabajador independiente saved" not in bad.get_data(as_text=True)
    saved = client.post("/federation/catalogue/template", data=terms, follow_redirects=True)
    assert "Template Trabajador independiente saved (version 1)" in saved.get_data(as_text=True)
    page = client.get("/federation/catalogue").get_data(as_text=True)
    assert "Estado, Municipalidad" in page and "2 rows" in page
    with app.app_context():
        template = db.session.scalar(select(CatalogueTemplate))
        template_id = template.id
        assert [p["name"] for p in template.terms["payers"]] == ["Estado", "Municipalidad"]
        assert template.terms["payers"][1]["through_cooperative"] is False
    client.post("/logout")

    _uid, admin = make_user(coop, "admin")
    login(client, admin, cooperative=coop)
    client.post("/federation/adopt", data={"item": item_id})
    offer = client.get("/federation/adopt").get_data(as_text=True)
    assert "Other payers: Estado, Municipalidad." in offer and "A scale of 2 rows." in offer
    made = client.post("/federation/adopt/template", data={
        "item": template_id, f"t{template_id}-reference": "CCSS-IND",
        f"t{template_id}-valid_from": "2026-01-01"}, follow_redirects=True)
    assert "Agreement made from the template" in made.get_data(as_text=True)
    client.post("/logout")

    def terms_of_agreement():
        with app.app_context():
            agreement = db.session.scalar(select(Agreement).where(
                Agreement.cooperative_id == coop.id, Agreement.reference == "CCSS-IND"))
            return [(t.effective_from, t.rule_kind.value, t.member_share_bp,
                     [(p.kind.value, p.name, p.share_bp, p.fixed_minor, p.through_cooperative)
                      for p in t.third_payers],
                     [(r.code, r.income_from_minor, r.amount_minor, r.rate_bp,
                       r.member_share_bp, r.payer1_share_bp) for r in t.scale_rows])
                    for t in db.session.scalars(select(AgreementTerms).where(
                        AgreementTerms.cooperative_id == coop.id,
                        AgreementTerms.agreement_id == agreement.id)
                        .order_by(AgreementTerms.effective_from))]

    first = terms_of_agreement()
    assert first == [(date(2026, 1, 1), "scale", 6000,
                      [("state", "Estado", 3000, None, True),
                       ("third_party", "Municipalidad", None, 100000, False)],
                      [("A", 0, 500000, None, None, None),
                       ("B", 10000000, None, 700, 4000, 5000)])]

    # the federation raises the state's share: the agreement follows from July
    login(client, fed_admin)
    client.post("/federation/catalogue/template", data=dict(terms, payer1_share_percent="35"))
    client.post("/logout")
    login(client, admin, cooperative=coop)
    with app.app_context():
        adoption_id = db.session.scalar(select(TemplateAdoption.id))
    followed = client.post("/federation/adopt/template/follow", data={
        "adoption": adoption_id, f"f{adoption_id}-effective_from": "2026-07-01"},
        follow_redirects=True)
    assert "follows the template&#39;s version 2" in followed.get_data(as_text=True)
    both = terms_of_agreement()
    assert both[0] == first[0]
    assert both[1][0] == date(2026, 7, 1)
    assert both[1][3][0] == ("state", "Estado", 3500, None, True)
    assert both[1][4] == first[0][4]
