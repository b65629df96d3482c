"""Demo data: two cooperatives in different countries and currencies, users for every role,
a few hundred realistic members each, and a federation per country. Idempotent: what exists
is left as it is."""

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
from coopreg.demo.people import people
from coopreg.extensions import db
from coopreg.members import services as member_services
from coopreg.members.models import Member, MemberStatus

DEMO_PASSWORD = "coopreg-demo-2026"  # noqa: S105 - printed on the console on purpose

DEMO_COOPERATIVES = (
    {"code": "CRAGRO", "name": "Cooperativa Agrícola Los Santos R.L.", "country": "CR",
     "currency": "CRC", "locale": "es", "id_label": None, "id_pattern": None},
    {"code": "PHCOOP", "name": "Nueva Vizcaya Farmers Multi-Purpose Cooperative",
     "country": "PH", "currency": "PHP", "locale": "en", "id_label": "PhilSys number",
     "id_pattern": "[0-9]{12}"},
)

DEMO_USERS = (
    ("admin@demo.coop", "Ana Admin", {"CRAGRO": Role.ADMIN, "PHCOOP": Role.ADMIN}),
    ("secretaria@cragro.demo", "Sonia Secretaria", {"CRAGRO": Role.SECRETARY}),
    ("tesorero@cragro.demo", "Tomás Tesorero", {"CRAGRO": Role.TREASURER}),
    ("viewer@cragro.demo", "Vilma Veedora", {"CRAGRO": Role.VIEWER}),
    ("secretary@phcoop.demo", "Sheila Secretary", {"PHCOOP": Role.SECRETARY}),
    ("treasurer@phcoop.demo", "Teodoro Treasurer", {"PHCOOP": Role.TREASURER}),
    ("viewer@phcoop.demo", "Virgilio Viewer", {"PHCOOP": Role.VIEWER}),
)


@dataclass
class DemoReport:
    lines: list[str] = field(default_factory=list)
    logins: list[tuple[str, str]] = field(default_factory=list)


def _ensure_cooperative(spec: dict, report: DemoReport) -> Cooperative:
    cooperative = find_cooperative(spec["code"])
    if cooperative is None:
        cooperative = create_cooperative(**spec)
        report.lines.append(f"Created cooperative {cooperative.code}: {cooperative.name}")
    return cooperative


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
    for seed, cooperative in enumerate(cooperatives.values(), start=1):
        with speaking(cooperative.locale):
            report.lines.append(load_demo_contributions(cooperative, seed))
    from coopreg.federations.demo import load_demo_federations

    lines, logins = load_demo_federations(list(cooperatives.values()), DEMO_PASSWORD)
    report.lines.extend(lines)
    report.logins.extend(logins)
    return report
