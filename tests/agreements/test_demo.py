"""`coopreg demo` adds an institution and an agreement for each demo cooperative, with
registrations in every status, and stays idempotent."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from coopreg.agreements import services
from coopreg.agreements.models import Agreement, Registration, RegistrationStatus, Schedule
from coopreg.cooperatives.models import Cooperative
from coopreg.extensions import db


def test_demo_agreements(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["demo", "--members", "40"])
    assert result.exit_code == 0, result.output
    assert "CRAGRO: agreement CCSS-DEMO with" in result.output
    assert "PHCOOP: agreement PHIC-DEMO with" in result.output
    with app.app_context():
        agreements = {a.reference: a for a in db.session.scalars(select(Agreement))}
        ccss, phic = agreements["CCSS-DEMO"], agreements["PHIC-DEMO"]
        assert db.session.get(Cooperative, ccss.cooperative_id).code == "CRAGRO"
        assert db.session.get(Cooperative, phic.cooperative_id).code == "PHCOOP"
        assert ccss.terms[-1].schedule == Schedule.SEASONAL and len(ccss.terms) == 2
        assert phic.terms[-1].schedule == Schedule.MONTHLY
        # the awareness sheet has something to show: Spanish in Costa Rica, English in PH
        assert all(s.member_benefits and s.how_to_claim for s in ccss.schemes + phic.schemes)
        assert "EBAIS" in ccss.schemes[-1].how_to_claim
        assert "PhilHealth" in phic.schemes[0].how_to_claim
        assert "2546-0000" in db.session.get(Cooperative, ccss.cooperative_id).contact
        for agreement in (ccss, phic):
            statuses = set(db.session.scalars(select(Registration.status).where(
                Registration.agreement_id == agreement.id)))
            assert statuses == set(RegistrationStatus), agreement.reference
            registered = db.session.scalars(select(Registration).where(
                Registration.agreement_id == agreement.id,
                Registration.institution_member_number.is_not(None))).all()
            assert all(re.fullmatch(agreement.member_number_pattern,
                                    r.institution_member_number) for r in registered)
            rejected = db.session.scalars(select(Registration).where(
                Registration.agreement_id == agreement.id,
                Registration.status == RegistrationStatus.REJECTED)).all()
            assert all(r.rejection_reason for r in rejected)
            for registration in db.session.scalars(select(Registration).where(
                    Registration.agreement_id == agreement.id,
                    Registration.status == RegistrationStatus.READY)):
                assert services.readiness_problems(registration) == []
        count = db.session.scalar(select(func.count()).select_from(Registration))
    again = runner.invoke(args=["demo", "--members", "40"])
    assert again.exit_code == 0
    assert "agreement CCSS-DEMO already there; kept." in again.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Registration)) == count


def test_the_demo_speaks_each_cooperatives_language(app):
    """CRAGRO (Spanish) gets Spanish document names, status reasons, history and notes; the
    Philippine cooperative English ones."""
    from coopreg.agreements.models import AgreementTerms, RegistrationEvent
    from coopreg.contributions.models import ReceiptReversal
    from coopreg.cooperatives.models import DocumentType
    from coopreg.members.models import Member

    runner = app.test_cli_runner()
    result = runner.invoke(args=["demo", "--members", "40"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        coops = {c.code: c.id for c in db.session.scalars(select(Cooperative))}

        def values(column, where_coop, code):
            return set(db.session.scalars(select(column).where(where_coop == coops[code])))

        documents = values(DocumentType.name, DocumentType.cooperative_id, "CRAGRO")
        assert documents == {"Copia de la cédula", "Boleta de afiliación firmada",
                             "Comprobante de domicilio"}
        assert "Copy of national ID" in values(DocumentType.name, DocumentType.cooperative_id,
                                               "PHCOOP")
        reasons = values(Member.status_reason, Member.cooperative_id, "CRAGRO") - {None}
        assert reasons and reasons <= {"Seis meses de cuotas sin pagar",
                                       "Se mudó a otra región", "Informado por la familia"}
        typed = values(RegistrationEvent.reason, RegistrationEvent.cooperative_id,
                       "CRAGRO") - {None}
        english = {"Enrolment batch (demo)", "Contributions unpaid for three months",
                   "Now insured through an employer",
                   "Registered before the member left (demo history)"}
        assert typed and not typed & english
        notes = values(AgreementTerms.note, AgreementTerms.cooperative_id, "CRAGRO") - {None}
        assert notes == {"Renovación anual: nueva base mínima contributiva"}
        reversals = values(ReceiptReversal.reason, ReceiptReversal.cooperative_id, "CRAGRO")
        assert reversals <= {"Registrado a nombre de otro socio (demo)"}


def test_the_demo_enrols_families_and_records_cover_outside(app):
    """Both demo agreements cover families: dependants registered with their members, some
    rejected with a reason, some sent in the demo batch (CCSS a line each, PhilHealth in
    columns) and answered; some members covered outside the cooperative."""
    from coopreg.agreements.coverage import coverage_report
    from coopreg.agreements.models import (
        DependantRegistration,
        DependantStatus,
        FamilyRule,
        OutsideCoverage,
    )
    from coopreg.batches.models import Batch, BatchLine

    result = app.test_cli_runner().invoke(args=["demo", "--members", "60"])
    assert result.exit_code == 0, result.output
    assert "Families:" in result.output
    with app.app_context():
        for reference, mode in (("CCSS-DEMO", "lines"), ("PHIC-DEMO", "columns")):
            agreement = db.session.scalar(select(Agreement).where(
                Agreement.reference == reference))
            rules = db.session.scalars(select(FamilyRule.relation).where(
                FamilyRule.cooperative_id == agreement.cooperative_id)).all()
            assert {r.value for r in rules} == {"spouse", "child", "parent"}
            statuses = dict(db.session.execute(
                select(DependantRegistration.status, func.count())
                .join(Registration, Registration.id == DependantRegistration.registration_id)
                .where(Registration.agreement_id == agreement.id)
                .group_by(DependantRegistration.status)).all())
            assert statuses.get(DependantStatus.REGISTERED, 0) > 0, reference
            assert statuses.get(DependantStatus.REJECTED, 0) > 0, reference
            rejected = db.session.scalars(select(DependantRegistration).join(
                Registration, Registration.id == DependantRegistration.registration_id).where(
                Registration.agreement_id == agreement.id,
                DependantRegistration.status == DependantStatus.REJECTED)).all()
            assert all(r.rejection_reason for r in rejected)
            batch = db.session.scalar(select(Batch).where(Batch.agreement_id == agreement.id))
            assert batch.layout_snapshot["dependants_mode"] == mode
            answered = db.session.scalar(select(func.count()).select_from(
                DependantRegistration).where(DependantRegistration.batch_id == batch.id,
                                             DependantRegistration.status.in_([
                                                 DependantStatus.REGISTERED,
                                                 DependantStatus.REJECTED])))
            assert answered > 0, reference
            if mode == "lines":
                assert db.session.scalar(select(func.count()).select_from(BatchLine).where(
                    BatchLine.batch_id == batch.id, BatchLine.dependant_id.is_not(None))) > 0
            outside = db.session.scalar(select(func.count()).select_from(
                OutsideCoverage).where(
                OutsideCoverage.cooperative_id == agreement.cooperative_id))
            assert outside > 0, reference
            report = coverage_report(agreement.cooperative_id)
            assert report.dependants_covered > 0 and report.covered_outside_any > 0
    again = app.test_cli_runner().invoke(args=["demo", "--members", "60"])
    assert again.exit_code == 0 and "Families:" not in again.output
