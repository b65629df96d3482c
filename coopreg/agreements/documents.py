"""What the printable member documents of the agreements area hold: a member's registration
summary and an agreement's awareness sheet. Pure reads; the pages render them (in the member's
language) and the browser prints them.

- `registration_summary(member)`: every registration of the member under the cooperative's
  agreements, with its history, coverage, institution's number or answer and the sealed
  batches that carried it; the member's dependants.
- `awareness_sheet(agreement, member=None)`: the agreement's schemes with what they give
  members and how to claim it (as the cooperative typed it), and, for one member, their
  registration in that agreement.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from coopreg.agreements.models import (
    Agreement,
    AgreementScheme,
    Branch,
    Registration,
    RegistrationEvent,
    Scheme,
)
from coopreg.agreements.services import member_registrations
from coopreg.extensions import db
from coopreg.members.models import Dependant, Member

# The languages a document can be printed in (the app's languages).


@dataclass
class RegistrationEntry:
    """One registration as the summary shows it."""

    registration: Registration
    agreement: Agreement
    schemes: list[Scheme]
    branches: list[Branch]
    events: list[RegistrationEvent]
    batches: list = field(default_factory=list)


@dataclass
class RegistrationSummary:
    member: Member
    entries: list[RegistrationEntry]
    dependants: list[Dependant]
    printed_on: date


# The sealed batches that carried each registration ({registration id: batches, by number}),
# found by the batches area, which sits above this one: the app factory connects its finder
# here (`coopreg._connect_areas`).
SEALED_BATCHES_CARRYING: dict[str, Callable[[int, list[int]], dict[int, list]]] = {}


def registration_summary(member: Member, today: date | None = None) -> RegistrationSummary:
    """Every registration of `member` (newest first), each with its status history (oldest
    first), the schemes and branches of its agreement and the sealed batches (never drafts:
    they went nowhere) that carried it; and the member's dependants."""
    registrations = member_registrations(member)
    ids = [r.id for r in registrations]
    events: dict[int, list[RegistrationEvent]] = {i: [] for i in ids}
    batches: dict[int, list] = {i: [] for i in ids}
    if ids:
        for event in db.session.scalars(
                select(RegistrationEvent).where(
                    RegistrationEvent.cooperative_id == member.cooperative_id,
                    RegistrationEvent.registration_id.in_(ids))
                .order_by(RegistrationEvent.occurred_at, RegistrationEvent.id)):
            events[event.registration_id].append(event)
        finder = SEALED_BATCHES_CARRYING.get("batches")
        if finder is not None:
            batches.update(finder(member.cooperative_id, ids))
        db.session.scalars(select(Agreement).where(
            Agreement.cooperative_id == member.cooperative_id,
            Agreement.id.in_({r.agreement_id for r in registrations})).options(
            selectinload(Agreement.scheme_links).selectinload(AgreementScheme.scheme)
            .selectinload(Scheme.branch_rows))).all()
    entries = [RegistrationEntry(registration=r, agreement=r.agreement,
                                 schemes=r.agreement.schemes, branches=r.agreement.branches,
                                 events=events[r.id], batches=batches[r.id])
               for r in registrations]
    return RegistrationSummary(member=member, entries=entries,
                               dependants=list(member.dependants),
                               printed_on=today or date.today())


@dataclass
class AwarenessSheet:
    agreement: Agreement
    schemes: list[Scheme]
    branches: list[Branch]
    member: Member | None
    registration: Registration | None
    printed_on: date

    @property
    def has_texts(self) -> bool:
        return any(s.member_benefits or s.how_to_claim for s in self.schemes)


def awareness_sheet(agreement: Agreement, member: Member | None = None,
                    today: date | None = None) -> AwarenessSheet:
    """The agreement's schemes with their texts for members; for one member, also their
    registration in the agreement (None when not enrolled). The member must belong to the
    agreement's cooperative (the caller loads both scoped)."""
    if member is not None and member.cooperative_id != agreement.cooperative_id:
        raise ValueError("the member and the agreement belong to different cooperatives")
    registration = None
    if member is not None:
        registration = db.session.scalar(select(Registration).where(
            Registration.cooperative_id == agreement.cooperative_id,
            Registration.agreement_id == agreement.id, Registration.member_id == member.id))
    return AwarenessSheet(agreement=agreement, schemes=agreement.schemes,
                          branches=agreement.branches, member=member,
                          registration=registration, printed_on=today or date.today())
