"""Demo agreements: CCSS-DEMO for CRAGRO (seasonal, a rate of a presumed income, amended once,
the state paying a quarter straight to the CCSS) and PHIC-DEMO for PHCOOP (monthly, PhilHealth's
5 % of income between PHP 10,000 and 100,000, half paid by the cooperative), with
registrations in every status. Idempotent: an
agreement that exists is kept as it is."""

from __future__ import annotations

import random
from datetime import date, timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from coopreg.agreements import services
from coopreg.agreements.demo_texts import COOPERATIVE_CONTACTS, SCHEME_TEXTS
from coopreg.agreements.models import (
    Agreement,
    DependantRegistration,
    DependantStatus,
    Institution,
    Registration,
    RegistrationStatus,
    Scheme,
)
from coopreg.cooperatives.models import Cooperative, DocumentType
from coopreg.cooperatives.services import DEFAULT_DOCUMENTS
from coopreg.core.models import utcnow
from coopreg.extensions import db
from coopreg.members.models import Member, MemberStatus

S = RegistrationStatus

REJECTIONS = (
    "The ID number does not match the civil registry",
    "Already insured through an employer",
    "Date of birth differs from the institution's records",
    "The enrolment form is not signed",
)
# the Costa Rican fund answers in Spanish
REJECTIONS_ES = (
    "El número de cédula no coincide con el Registro Civil",
    "Ya está asegurado por un patrono",
    "La fecha de nacimiento no coincide con los registros de la Caja",
    "La boleta de afiliación no está firmada",
)
# the demo's reasons, said in the cooperative's language (the demo runs in it)
DEMO_REASONS = {"Enrolment batch (demo)": _l("Enrolment batch (demo)"),
                "Contributions unpaid for three months":
                    _l("Contributions unpaid for three months"),
                "Now insured through an employer": _l("Now insured through an employer")}


def _said(registration: Registration, text: str) -> str:
    """Demo texts in the cooperative's own language (the demo runs in it)."""
    return str(DEMO_REASONS.get(text, text))

DEMO_AGREEMENTS = {
    "CRAGRO": {
        "institution": ("Caja Costarricense de Seguro Social", "CCSS", "CR"),
        "schemes": (("Seguro de Salud", ("medical_care", "sickness", "maternity")),
                    ("Invalidez, Vejez y Muerte", ("invalidity", "old_age", "survivors"))),
        "reference": "CCSS-DEMO",
        "pattern": r"CC-[0-9]{7}",
        "documents": DEFAULT_DOCUMENTS[:2],
        # coffee harvest in Los Santos: November to February. The insured pay on a presumed
        # income (the floor: the minimum contribution base) and the state contributes its
        # part straight to the CCSS, as in the collective insurance agreements
        "terms": ({"rule_kind": "rate", "rate_percent": "10", "floor": "300000",
                   "ceiling": "2500000", "member_share_percent": "60",
                   "schedule": "seasonal", "due_months": [11, 12, 1, 2], "due_day": 15,
                   "grace_days": 10, "remittance_deadline_days": 20,
                   "payers": [{"kind": "state", "name": "Estado (FODESAF)",
                               "share_percent": "25", "through_cooperative": False}]},
                  {"rate_percent": "10.5", "floor": "319000",
                   "note": _l("Yearly renewal: new minimum contribution base")}),
        "number": lambda i: f"CC-{1_000_000 + i:07d}",
        # the health insurance's family cover (seguro familiar): spouse or partner, children
        # up to 18 (25 while studying, any age with a disability), dependent parents
        "families": {"Seguro de Salud": (("spouse", {}),
                                         ("child", {"max_age": 18, "student_max_age": 25,
                                                    "disabled_any_age": True}),
                                         ("parent", {}))},
        # cédulas in their stored form (0P-TTTT-AAAA without dashes)
        "dependant_id": lambda i: f"0{1 + i % 7}{(i * 37) % 10000:04d}{(i * 91) % 10000:04d}",
    },
    "PHCOOP": {
        "institution": ("Philippine Health Insurance Corporation", "PHIC", "PH"),
        "schemes": (("National Health Insurance Program", ("medical_care", "maternity")),),
        "reference": "PHIC-DEMO",
        "pattern": r"[0-9]{2}-[0-9]{9}-[0-9]",
        "documents": DEFAULT_DOCUMENTS[:1],
        # PhilHealth's premium for self-earning members: 5 % of the monthly income, on at
        # least PHP 10,000 and at most PHP 100,000 (PHP 500 to 5,000 a month). The scheme
        # bills it all to the member; this cooperative pays half, as an employer would
        # (the demo's choice, said in the terms' note)
        "terms": ({"rule_kind": "rate", "rate_percent": "5", "floor": "10000",
                   "ceiling": "100000", "member_share_percent": "50",
                   "schedule": "monthly", "due_day": 10, "grace_days": 5,
                   "remittance_deadline_days": 15,
                   "note": _l("PhilHealth: a rate of 5 %, on monthly income, floor PHP 10,000, "
                              "ceiling PHP 100,000; the cooperative pays half, as an "
                              "employer would")},),
        "number": lambda i: f"12-{100_000_000 + i:09d}-{i % 10}",
        # PhilHealth's qualified dependants: the spouse, children under 21, parents
        "families": {"National Health Insurance Program": (("spouse", {}),
                                                           ("child", {"max_age": 20,
                                                                      "disabled_any_age": True}),
                                                           ("parent", {}))},
        "dependant_id": lambda i: f"{900_000_000_000 + i:012d}",
    },
    # Monotributo social: the state pays the tax and pension components and half of the
    # obra social; the member pays the other half (plain terms here: see below)
    "ARCOOP": {
        "institution": ("Agencia de Recaudación y Control Aduanero (ex AFIP)", "ARCA", "AR"),
        "schemes": (("Monotributo social – obra social", ("medical_care", "maternity")),
                    ("Monotributo social – componente previsional",
                     ("old_age", "invalidity", "survivors"))),
        "reference": "MS-DEMO",
        "pattern": r"RNE-[0-9]{7}",
        "documents": DEFAULT_DOCUMENTS[:1],
        "terms": ({"rule_kind": "flat", "flat_amount": "9000", "member_share_percent": "50",
                   "schedule": "monthly", "due_day": 20, "grace_days": 10,
                   "remittance_deadline_days": 10},),
        "number": lambda i: f"RNE-{2_000_000 + i:07d}",
        # the obra social's adherentes: spouse or partner, children under 21 (25 while
        # studying, any age with a disability)
        "families": {"Monotributo social – obra social": (
            ("spouse", {}), ("child", {"max_age": 20, "student_max_age": 25,
                                       "disabled_any_age": True}))},
        "dependant_id": lambda i: _cuil(f"20{50_000_000 + i:08d}"),
    },
}


def _cuil(head: str) -> str:
    """A CUIL from its prefix and DNI, with the check digit python-stdnum computes."""
    from stdnum.ar import cuit

    return head + cuit.calc_check_digit(head)


# The share of enrolled members aimed at each status (the rest stay pending).
TARGETS = ((S.REGISTERED, 0.50), (S.SUBMITTED, 0.10), (S.READY, 0.10), (S.REJECTED, 0.10),
           (S.SUSPENDED, 0.04), (S.TERMINATED, 0.04))


def _institution(cooperative: Cooperative, spec: dict) -> Institution:
    name, short_name, country = spec["institution"]
    institution = db.session.scalar(select(Institution).where(
        Institution.cooperative_id == cooperative.id, Institution.short_name == short_name))
    if institution is None:
        institution = services.create_institution(cooperative, name, short_name, country)
    return institution


def _schemes(institution: Institution, spec: dict, code: str) -> list[Scheme]:
    schemes = []
    for name, branches in spec["schemes"]:
        scheme = next((s for s in institution.schemes if s.name == name), None)
        if scheme is None:
            scheme = services.create_scheme(institution, name, branches,
                                            *SCHEME_TEXTS.get((code, name), (None, None)))
        schemes.append(scheme)
    return schemes


def _fill_scheme_texts(cooperative: Cooperative) -> None:
    """Give the demo schemes their texts for members, and the cooperative its contact, when
    they have none (a demo loaded before the member documents existed); what someone typed
    is kept."""
    if not cooperative.contact:
        cooperative.contact = COOPERATIVE_CONTACTS.get(cooperative.code)
    for (code, name), (benefits, claim) in SCHEME_TEXTS.items():
        if code != cooperative.code:
            continue
        for scheme in db.session.scalars(select(Scheme).where(
                Scheme.cooperative_id == cooperative.id, Scheme.name == name)):
            if not scheme.member_benefits and not scheme.how_to_claim:
                scheme.member_benefits, scheme.how_to_claim = benefits, claim
    db.session.flush()


def _target(rng: random.Random) -> RegistrationStatus:
    roll = rng.random()
    for status, share in TARGETS:
        if roll < share:
            return status
        roll -= share
    return S.PENDING


def _advance(registration: Registration, target: RegistrationStatus, number: str,
             coverage_start: date, rng: random.Random) -> None:
    go = services.transition_registration
    go(registration, S.READY, None)
    if target == S.READY:
        return
    go(registration, S.SUBMITTED, None, reason=_said(registration, "Enrolment batch (demo)"))
    if target == S.SUBMITTED:
        return
    if target == S.REJECTED:
        spanish = registration.agreement.cooperative.locale == "es"
        go(registration, S.REJECTED, None,
           rejection_reason=rng.choice(REJECTIONS_ES if spanish else REJECTIONS))
        return
    go(registration, S.REGISTERED, None, institution_number=number,
       coverage_start=coverage_start)
    if target == S.SUSPENDED:
        go(registration, S.SUSPENDED, None,
           reason=_said(registration, "Contributions unpaid for three months"))
    elif target == S.TERMINATED:
        go(registration, S.TERMINATED, None,
           reason=_said(registration, "Now insured through an employer"))


def load_demo_agreement(cooperative: Cooperative, seed: int) -> str:
    """Create the cooperative's demo agreement and its registrations, unless it exists."""
    spec = DEMO_AGREEMENTS.get(cooperative.code)
    if spec is None:
        return f"{cooperative.code}: no demo agreement."
    if db.session.scalar(select(Agreement.id).where(
            Agreement.cooperative_id == cooperative.id,
            Agreement.reference == spec["reference"])):
        _fill_scheme_texts(cooperative)
        agreement = db.session.scalar(select(Agreement).where(
            Agreement.cooperative_id == cooperative.id,
            Agreement.reference == spec["reference"]))
        families_said = load_demo_families(cooperative, agreement, spec, seed)
        return (f"{cooperative.code}: agreement {spec['reference']} already there; kept."
                + (f" {families_said}" if families_said else ""))
    rng = random.Random(seed * 7919)
    today = date.today()
    institution = _institution(cooperative, spec)
    schemes = _schemes(institution, spec, cooperative.code)
    _fill_scheme_texts(cooperative)
    documents = db.session.scalars(select(DocumentType.id).where(
        DocumentType.cooperative_id == cooperative.id,
        DocumentType.name.in_([str(name) for name in spec["documents"]]))).all()
    start = date(today.year - 1, 1, 1)
    first, *amendments = spec["terms"]
    agreement = services.create_agreement(
        cooperative, {"institution_id": institution.id, "reference": spec["reference"],
                      "signed_on": start - timedelta(days=30), "valid_from": start,
                      "member_number_pattern": spec["pattern"],
                      "scheme_ids": [s.id for s in schemes], "document_type_ids": documents},
        {k: str(v) if k == "note" else v for k, v in first.items()}, None)
    for amendment in amendments:
        amendment = {k: str(v) if k == "note" else v for k, v in amendment.items()}
        services.amend_terms(agreement, {**first, "note": None, **amendment,
                                         "effective_from": date(today.year, 1, 1)}, None)

    members = db.session.scalars(select(Member).where(
        Member.cooperative_id == cooperative.id).order_by(Member.id)).all()
    active = [m for m in members if m.status == MemberStatus.ACTIVE]
    enrolled = [m for m in active if rng.random() < 0.85]
    result = services.enrol_members(agreement, [m.id for m in enrolled], None)
    problems = services.readiness_problems_many(result.done)
    counter = 0
    # the first members who can go further show every status; the rest are drawn at random
    first_ones = [S.REGISTERED, S.SUBMITTED, S.READY, S.REJECTED, S.SUSPENDED, S.TERMINATED]
    for registration in result.done:
        if problems[registration.id]:
            continue
        target = first_ones.pop(0) if first_ones else _target(rng)
        if target == S.PENDING:
            continue
        counter += 1
        coverage_start = max(start, today - timedelta(days=rng.randint(30, 400)))
        _advance(registration, target, spec["number"](counter), coverage_start, rng)

    # members who left or died while registered: their registrations await the exit
    flagged = 0
    for member in members:
        if member.status in (MemberStatus.LEFT, MemberStatus.DECEASED) and rng.random() < 0.7:
            counter += 1
            registration = Registration(
                cooperative_id=cooperative.id, member_id=member.id, agreement_id=agreement.id,
                status=S.REGISTERED, institution_member_number=spec["number"](counter),
                coverage_start=start, status_changed_at=utcnow())
            db.session.add(registration)
            db.session.flush()
            services._event(registration, None, S.REGISTERED,
                            _("Registered before the member left (demo history)"), None)
            flagged += services.flag_registrations_for_exit(
                member, member.status_reason or _("Left the cooperative"),
                member.status_date or today)
    db.session.flush()
    families_said = load_demo_families(cooperative, agreement, spec, seed)
    return (f"{cooperative.code}: agreement {agreement.reference} with "
            f"{len(result.done) + flagged} registrations. {families_said}")


# members' dependants turned down by the institution, in the cooperative's language
DEPENDANT_REJECTIONS = {"es": ("Falta la constancia de nacimiento",
                               "No demuestra la dependencia económica"),
                        "en": ("Birth certificate missing",
                               "Proof of dependency missing")}
# where demo members say they are covered outside the cooperative: (source, branches)
OUTSIDE = (("employer", ("medical_care", "sickness", "employment_injury")),
           ("spouse", ("medical_care", "maternity")),
           ("state", ("old_age",)),
           ("other_scheme", ("medical_care", "old_age", "invalidity")))


def load_demo_families(cooperative: Cooperative, agreement: Agreement, spec: dict,
                       seed: int) -> str:
    """The agreement's family rules, and families enrolled with its registrations: the
    dependants of registered members registered (some rejected with a reason), those of
    submitted members sent, of ready and pending members enrolled; and some members covered
    outside the cooperative. Skipped when the agreement already has dependants enrolled
    (idempotent)."""
    from coopreg.agreements import families

    if db.session.scalar(select(DependantRegistration.id).join(
            Registration, Registration.id == DependantRegistration.registration_id).where(
            DependantRegistration.cooperative_id == cooperative.id,
            Registration.cooperative_id == cooperative.id,
            Registration.agreement_id == agreement.id).limit(1)):
        return ""
    rng = random.Random(seed * 104_729)
    for scheme in agreement.schemes:
        for relation, rule in spec.get("families", {}).get(scheme.name, ()):
            families.set_family_rule(scheme, relation, **rule)
    reasons = DEPENDANT_REJECTIONS["es" if cooperative.locale == "es" else "en"]
    registrations = db.session.scalars(select(Registration).where(
        Registration.cooperative_id == cooperative.id,
        Registration.agreement_id == agreement.id,
        Registration.status.in_([S.REGISTERED, S.SUBMITTED, S.READY, S.PENDING]))
        .order_by(Registration.id)).all()
    counts = dict.fromkeys(DependantStatus, 0)
    n = 0
    for registration in registrations:
        for dependant in registration.member.dependants:
            if families.eligibility_problem(dependant, agreement) is not None:
                continue
            n += 1
            if dependant.id_number is None:
                dependant.id_number = spec["dependant_id"](n)  # the demo's people had none
            enrolled = families.enrol_dependant(registration, dependant)
            if registration.status in (S.REGISTERED, S.SUBMITTED):
                families.transition_dependant(enrolled, DependantStatus.SUBMITTED)
            if registration.status == S.REGISTERED:
                if rng.random() < 0.15:
                    families.transition_dependant(enrolled, DependantStatus.REJECTED,
                                                  rejection_reason=rng.choice(reasons))
                else:
                    families.transition_dependant(
                        enrolled, DependantStatus.REGISTERED,
                        coverage_start=registration.coverage_start)
            counts[enrolled.status] += 1
    outside = 0
    members = db.session.scalars(select(Member).where(
        Member.cooperative_id == cooperative.id,
        Member.status == MemberStatus.ACTIVE).order_by(Member.id)).all()
    for member in members:
        if rng.random() < 0.12:
            source, branches = rng.choice(OUTSIDE)
            if member.sex.value != "female":
                branches = tuple(b for b in branches if b != "maternity")
            families.record_outside_coverage(member, source, branches,
                                             declared_on=date.today() - timedelta(days=30))
            outside += 1
    db.session.flush()
    return (f"Families: {counts[DependantStatus.REGISTERED]} dependants registered, "
            f"{counts[DependantStatus.REJECTED]} rejected, "
            f"{counts[DependantStatus.SUBMITTED]} sent, {counts[DependantStatus.ENROLLED]} "
            f"enrolled; {outside} members covered outside.")
