"""Demo batches: for each demo agreement, a sealed enrolment batch answered by the
institution (most accepted, one rejected), and some `ready` registrations left waiting for the
next batch. Idempotent: an agreement that has batches is left as it is."""

from __future__ import annotations

from datetime import date

from flask import current_app
from sqlalchemy import select

from coopreg.agreements import families
from coopreg.agreements import services as agreement_services
from coopreg.agreements.models import Agreement, Registration, RegistrationStatus
from coopreg.batches import acks, services
from coopreg.batches.models import Batch, BatchLine
from coopreg.cooperatives.models import Cooperative
from coopreg.extensions import db
from coopreg.members.models import Member

ANSWER_WORDS = {
    "es": {"headers": ("Cédula", "Número de asegurado", "Resultado", "Motivo",
                       "Fecha de vigencia"),
           "accepted": "ACEPTADO", "rejected": "RECHAZADO", "date": "%d/%m/%Y",
           "reason": "La fecha de nacimiento no coincide con el Registro Civil"},
    "en": {"headers": ("ID Number", "PIN", "Status", "Remarks", "Effectivity Date"),
           "accepted": "APPROVED", "rejected": "DENIED", "date": "%m/%d/%Y",
           "reason": "Date of birth differs from the civil registry"},
}


# how each demo agreement's enrolment file carries the dependants: CCSS a line each (in
# Spanish, as the fund's forms), PhilHealth columns on the member's line
DEPENDANTS_IN_FILE = {
    "CCSS-DEMO": ("lines", (("Tipo (A/D)", "line.kind"), ("Dependiente", "dependant.name"),
                            ("Parentesco", "dependant.relation"),
                            ("Cédula del dependiente", "dependant.id_number"),
                            ("Nacimiento del dependiente", "dependant.date_of_birth"))),
    "PHIC-DEMO": ("columns", tuple(
        (f"Dependent {n} {title}", f"dependants.{n}.{field}")
        for n in (1, 2, 3) for title, field in (("name", "name"), ("relationship", "relation"),
                                                ("ID", "id_number")))),
}


def _carry_dependants(agreement: Agreement) -> None:
    """The demo's enrolment layout carries the dependants enrolled with each member."""
    mode, columns = DEPENDANTS_IN_FILE.get(agreement.reference, ("none", ()))
    layout = services.layout_for(agreement, "enrolment")
    if mode == "none" or layout.dependants_mode != "none":
        return
    for header, source in columns:
        services.add_column(layout, {"header": header, "source": source})
    layout.dependants_mode = mode
    db.session.flush()
# The built-in layouts each demo agreement uses, after the institution's own forms (the other
# kinds get the generic ones when first needed)
DEMO_LAYOUTS = {
    "CRAGRO": {"remittance": "ccss_collective_agreement"},
    "PHCOOP": {"enrolment": "philhealth_pmrf", "remittance": "philhealth_rf1"},
    "ARCOOP": {"enrolment": "monotributo_social"},
}


def set_demo_layouts(cooperative: Cooperative, agreement: Agreement) -> None:
    for kind, built_in in DEMO_LAYOUTS.get(cooperative.code, {}).items():
        if services.layout_for(agreement, kind, create=False) is None:
            services.create_layout(agreement, kind, built_in)


def load_demo_batches(cooperative: Cooperative) -> str:
    from coopreg.agreements.demo import DEMO_AGREEMENTS

    spec = DEMO_AGREEMENTS.get(cooperative.code)
    agreement = spec and db.session.scalar(select(Agreement).where(
        Agreement.cooperative_id == cooperative.id, Agreement.reference == spec["reference"]))
    if agreement is None:
        return f"{cooperative.code}: no demo agreement, so no demo batch."
    if db.session.scalar(select(Batch.id).where(Batch.cooperative_id == cooperative.id,
                                           Batch.agreement_id == agreement.id).limit(1)):
        return f"{cooperative.code}: batches of {agreement.reference} already there; kept."
    set_demo_layouts(cooperative, agreement)
    def ready_ids() -> list[int]:
        return list(db.session.scalars(select(Registration.id).where(
            Registration.cooperative_id == cooperative.id,
            Registration.agreement_id == agreement.id,
            Registration.status == RegistrationStatus.READY).order_by(Registration.id)))

    ready = ready_ids()
    if len(ready) < 6:  # a small demo: bring forward pending registrations that can be ready
        pending = db.session.scalars(select(Registration.id).where(
            Registration.cooperative_id == cooperative.id,
            Registration.agreement_id == agreement.id,
            Registration.status == RegistrationStatus.PENDING)).all()
        agreement_services.mark_ready_many(agreement, pending, None)
        ready = ready_ids()
    if len(ready) < 3:
        return f"{cooperative.code}: too few ready registrations for a demo batch."
    _carry_dependants(agreement)
    batch = services.create_batch(cooperative, agreement, "enrolment", None,
                                  registration_ids=ready[: max(2, len(ready) // 2)])
    path = services.seal_batch(batch, None, current_app.config["EXPORT_DIR"])
    services.mark_sent(batch, date.today(), "portal", "Demo: uploaded to the portal")

    members = db.session.scalars(select(Member).join(BatchLine).where(
        BatchLine.cooperative_id == cooperative.id, BatchLine.batch_id == batch.id,
        BatchLine.included.is_(True), BatchLine.dependant_id.is_(None))
        .order_by(BatchLine.line_no)).all()
    # the answer as the institution writes it (a title row, its own words and date form):
    # read with no mapping typed, as a real one is
    words = ANSWER_WORDS.get(cooperative.locale, ANSWER_WORDS["en"])
    start = date.today().replace(day=1).strftime(words["date"])
    rows = [f"{agreement.institution.name} — {batch.reference}", ";".join(words["headers"])]
    n = 500_000
    for index, member in enumerate(members):
        if index == len(members) - 1:
            rows.append(f"{member.id_number};;{words['rejected']};{words['reason']};")
            continue
        while True:
            n += 1
            number = spec["number"](n)
            if not db.session.scalar(select(Registration.id).where(
                    Registration.cooperative_id == cooperative.id,
                    Registration.agreement_id == agreement.id,
                    Registration.institution_member_number == number)):
                break
        rows.append(f"{member.id_number};{number};{words['accepted']};;{start}")
    # the institution turns down one dependant on a row of their own (the others follow
    # their member's answer)
    sent = families.submitted_by_id(cooperative.id, batch.id)
    if sent:
        first = next(iter(sent.values()))
        reason = ("Falta la constancia de nacimiento" if agreement.cooperative.locale == "es"
                  else "Birth certificate missing")
        rows.append(f"{first.dependant.id_number};;{words['rejected']};{reason};")
    answer = ("\r\n".join(rows) + "\r\n").encode("utf-8")
    ack = acks.upload_acknowledgement(batch, answer, f"answer-{batch.reference}.csv", None)
    acks.apply_acknowledgement(ack, None)
    left = len(ready) - len(members)
    return (f"{cooperative.code}: batch {batch.reference} sealed ({path.name}) and answered "
            f"({ack.accepted_count} accepted, {ack.rejected_count} rejected); {left} ready "
            "registration(s) wait for the next batch.")
