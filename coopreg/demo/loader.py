"""Demo data: three cooperatives in three countries and currencies (Costa Rica, the
Philippines, Argentina), users for every role, a few hundred realistic members each, and a
federation per country. Idempotent: what exists is left as it is."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from flask_babel import gettext as _
from sqlalchemy import func, select

from coopreg.auth import services as auth_services
from coopreg.auth.models import Role
from coopreg.cooperatives.models import Cooperative, DocumentType
from coopreg.cooperatives.services import create_cooperative, find_cooperative
from coopreg.core.languages import speaking
from coopreg.core.text import fold
from coopreg.demo.people import people
from coopreg.extensions import db
from coopreg.members import services as member_services
from coopreg.members.divisions import divisions_of
from coopreg.members.models import Member, MemberStatus

DEMO_PASSWORD = "coopreg-demo-2026"  # noqa: S105 - printed on the console on purpose

DEMO_COOPERATIVES = (
    {"code": "CRAGRO", "name": "Cooperativa Agrícola Los Santos R.L.", "country": "CR",
     "currency": "CRC", "locale": "es", "id_label": None, "id_pattern": None},
    {"code": "PHCOOP", "name": "Nueva Vizcaya Farmers Multi-Purpose Cooperative",
     "country": "PH", "currency": "PHP", "locale": "en", "id_label": "PhilSys number",
     "id_pattern": "[0-9]{12}"},
    {"code": "ARCOOP", "name": "Cooperativa de Trabajo Textil Manos Unidas Ltda.",
     "country": "AR", "currency": "ARS", "locale": "es", "id_label": None, "id_pattern": None},
)
# the cooperatives' own tax numbers (the employer's on institutions' forms): made up, in each
# country's form (ARCOOP's CUIT has a valid check digit)
DEMO_TAX_NUMBERS = {"CRAGRO": "3004045117", "PHCOOP": "004567890000",
                    "ARCOOP": "30716543214"}
# Los Santos, where CRAGRO's members live: the cantons of Tarrazú, Dota and León Cortés
_CR_CANTONS = ("105", "117", "120")
_CIVIL = ("single", "married", "married", "common_law", "separated", "widowed")

DEMO_USERS = (
    ("admin@demo.coop", "Ana Admin", {"CRAGRO": Role.ADMIN, "PHCOOP": Role.ADMIN,
                                       "ARCOOP": Role.ADMIN}),
    ("secretaria@cragro.demo", "Sonia Secretaria", {"CRAGRO": Role.SECRETARY}),
    ("tesorero@cragro.demo", "Tomás Tesorero", {"CRAGRO": Role.TREASURER}),
    ("viewer@cragro.demo", "Vilma Veedora", {"CRAGRO": Role.VIEWER}),
    ("secretary@phcoop.demo", "Sheila Secretary", {"PHCOOP": Role.SECRETARY}),
    ("treasurer@phcoop.demo", "Teodoro Treasurer", {"PHCOOP": Role.TREASURER}),
    ("viewer@phcoop.demo", "Virgilio Viewer", {"PHCOOP": Role.VIEWER}),
    ("admin@arcoop.demo", "Andrea Administradora", {"ARCOOP": Role.ADMIN}),
    ("secretaria@arcoop.demo", "Silvina Secretaria", {"ARCOOP": Role.SECRETARY}),
    ("tesorero@arcoop.demo", "Tobías Tesorero", {"ARCOOP": Role.TREASURER}),
)


@dataclass
class DemoReport:
    lines: list[str] = field(default_factory=list)
    logins: list[tuple[str, str]] = field(default_factory=list)


def _ensure_cooperative(spec: dict, report: DemoReport) -> Cooperative:
    cooperative = find_cooperative(spec["code"])
    if cooperative is None:
        cooperative = create_cooperative(**spec)
        cooperative.tax_number = DEMO_TAX_NUMBERS.get(cooperative.code)
        report.lines.append(f"Created cooperative {cooperative.code}: {cooperative.name}")
    return cooperative


def _record_details(country: str, person, rng: random.Random) -> dict:
    """What institutions' forms ask beyond the register's first fields: civil status,
    nationality, tax number, email, a PH name extension and mother's maiden name, CR's
    province, canton and district. Drawn from a generator of its own, so the people and
    the rest of the demo stay as they were."""
    divisions = divisions_of(country)
    details = {"civil_status": rng.choice(_CIVIL), "nationality": country}
    if country in ("CR", "AR") and person.id_number:
        details["tax_number"] = person.id_number  # a person's tax number is their ID there
    elif country == "PH" and rng.random() < 0.4:
        details["tax_number"] = f"{rng.randrange(100_000_000, 999_999_999)}000"
    if country == "PH":
        details["mothers_maiden_name"] = person.middle_name  # the Filipino middle name
        if person.sex == "male" and rng.random() < 0.06:
            details["name_extension"] = rng.choice(("Jr.", "Sr.", "III"))
    if divisions and country == "CR":
        canton = rng.choice(_CR_CANTONS)
        districts = [code for code, division in divisions.items()
                     if division.level == "district" and division.parent == canton]
        details["district_code"] = rng.choice(districts)
    if rng.random() < 0.3:
        local = fold(f"{person.first_name}.{person.last_name}").replace(" ", "")
        details["email"] = f"{local}{rng.randrange(10, 99)}@example.org"
    return details


def _ensure_users(cooperatives: dict[str, Cooperative], report: DemoReport) -> None:
    for email, name, roles in DEMO_USERS:
        user = auth_services.find_user_by_email(email)
        if user is None:
            user = auth_services.create_user(email, name, DEMO_PASSWORD)
        for code, role in roles.items():
            if user.role_in(cooperatives[code].id) is None:
                auth_services.grant_role(user, cooperatives[code], role)
        report.logins.append((email, ", ".join(f"{r.value} in {c}" for c, r in roles.items())))


def _load_members(cooperative: Cooperative, count: int, seed: int, report: DemoReport) -> None:
    existing = db.session.scalar(select(func.count()).select_from(Member).where(
        Member.cooperative_id == cooperative.id))
    if existing:
        report.lines.append(f"{cooperative.code}: {existing} members already there; kept.")
        return
    rng = random.Random(seed)
    details_rng = random.Random(seed * 7877)
    today = date.today()
    document_types = db.session.scalars(select(DocumentType).where(
        DocumentType.cooperative_id == cooperative.id)).all()
    created = 0
    for person in people(cooperative.country, count, seed=seed):
        consent = rng.random() < 0.85
        data = {
            "first_name": person.first_name, "middle_name": person.middle_name,
            "last_name": person.last_name, "second_last_name": person.second_last_name,
            "sex": person.sex, "date_of_birth": person.date_of_birth,
            "id_type": person.id_type,
            "id_number": person.id_number if rng.random() < 0.95 else None,
            "phone": person.phone, "address": person.address, "locality": person.locality,
            "sector": person.sector, "occupation": person.occupation,
            "declared_income": str(person.declared_income),
            "joined_on": min(person.joined_on, today),
            "consent_given": consent,
            "consent_date": min(person.joined_on, today) if consent else None,
            "consent_method": "signed_form" if consent else None,
            **_record_details(cooperative.country, person, details_rng),
        }
        member = member_services.create_member(cooperative, data, confirm_duplicate=True)
        created += 1
        for name, relation, dob in person.dependants:
            member_services.add_dependant(member, name, relation, min(dob, today), None)
        held = {t.id: member.joined_on for t in document_types if rng.random() < 0.8}
        if held:
            member_services.set_documents(member, held)
        roll = rng.random()
        when = max(member.joined_on, today - timedelta(days=rng.randint(1, 300)))
        if roll < 0.04:
            member_services.change_member_status(member, MemberStatus.SUSPENDED, when,
                                                 _("Unpaid dues for six months"), None)
        elif roll < 0.08:
            member_services.change_member_status(member, MemberStatus.LEFT, when,
                                                 _("Moved to another region"), None)
        elif roll < 0.09:
            member_services.change_member_status(member, MemberStatus.DECEASED, when,
                                                 _("Reported by family"), None)
    report.lines.append(f"{cooperative.code}: added {created} members.")


def _set_arcoop_monotributo(cooperative: Cooperative) -> str:
    """ARCOOP's agreement follows the Monotributo social: the state's share, the categories and
    the families at the member's cost (idempotent: a second run changes nothing)."""
    from coopreg.agreements.models import Agreement
    from coopreg.demo.monotributo import set_monotributo_social

    agreement = db.session.scalar(select(Agreement).where(
        Agreement.cooperative_id == cooperative.id).order_by(Agreement.id).limit(1))
    if agreement is None:
        return ""
    with speaking(cooperative.locale):
        said = set_monotributo_social(agreement)
    return (f"{cooperative.code}: Monotributo social on {agreement.reference} "
            f"({said.placed} members placed in a category)")


def load_demo(member_count: int = 300) -> DemoReport:
    """Create what is missing of the demo; never changes or removes existing data."""
    report = DemoReport()
    cooperatives = {spec["code"]: _ensure_cooperative(spec, report)
                    for spec in DEMO_COOPERATIVES}
    _ensure_users(cooperatives, report)
    from coopreg.agreements.demo import load_demo_agreement
    from coopreg.batches.demo import load_demo_batches
    from coopreg.contributions.demo import load_demo_contributions

    # each cooperative's demo speaks its language: notes, reasons, documents, history
    for seed, cooperative in enumerate(cooperatives.values(), start=1):
        with speaking(cooperative.locale):
            _load_members(cooperative, member_count, seed, report)
    for seed, cooperative in enumerate(cooperatives.values(), start=1):
        with speaking(cooperative.locale):
            report.lines.append(load_demo_agreement(cooperative, seed))
    for cooperative in cooperatives.values():
        with speaking(cooperative.locale):
            report.lines.append(load_demo_batches(cooperative))
    # after the batches, whose answers register members: each registered member is placed
    if "ARCOOP" in cooperatives:
        report.lines.append(_set_arcoop_monotributo(cooperatives["ARCOOP"]))
    for seed, cooperative in enumerate(cooperatives.values(), start=1):
        with speaking(cooperative.locale):
            report.lines.append(load_demo_contributions(cooperative, seed))
    from coopreg.federations.demo import load_demo_federations

    lines, logins = load_demo_federations(list(cooperatives.values()), DEMO_PASSWORD)
    report.lines.extend(lines)
    report.logins.extend(logins)
    return report
