"""Federations: creating one, adding cooperatives, roles in it, the cooperative's member-records
setting, and the cross-cooperative duplicate check (a registry entry of the agreements area)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import func, select

from coopreg.agreements.models import Agreement, Institution, Registration, RegistrationStatus
from coopreg.auth.models import User
from coopreg.cooperatives.models import Cooperative
from coopreg.core.errors import DomainError
from coopreg.core.tenancy import unscoped
from coopreg.extensions import db
from coopreg.federations.models import (
    Federation,
    FederationCooperative,
    FederationMembership,
    FederationRole,
    InstitutionAccount,
)
from coopreg.members.models import Member
from coopreg.members.national_ids import mask_id

CODE = re.compile(r"^[A-Z0-9][A-Z0-9_-]{1,19}$")
# "already registered or being registered": what an institution holds or is about to receive
IN_PROGRESS = (RegistrationStatus.PENDING, RegistrationStatus.READY,
               RegistrationStatus.SUBMITTED, RegistrationStatus.REGISTERED)
ACROSS = "a federation's duplicate check and roll-ups read its cooperatives together"


def find_federation(code: str) -> Federation | None:
    return db.session.scalar(select(Federation).where(
        Federation.code == (code or "").strip().upper()))


def create_federation(code: str, name: str) -> Federation:
    """A new federation; its code is 2 to 20 capitals, digits, '-' or '_', unique."""
    code = (code or "").strip().upper()
    name = (name or "").strip()
    if not CODE.match(code):
        raise DomainError(_("A federation code is 2 to 20 letters, digits, '-' or '_'."),
                          field="code")
    if not name:
        raise DomainError(_("Give the federation's name."), field="name")
    if find_federation(code) is not None:
        raise DomainError(_("There is already a federation %(code)s.", code=code), field="code")
    federation = Federation(code=code, name=name[:200])
    db.session.add(federation)
    db.session.flush()
    return federation


def federation_of(cooperative_id: int) -> FederationCooperative | None:
    """The cooperative's place in its federation, if it belongs to one."""
    return db.session.scalar(select(FederationCooperative).where(
        FederationCooperative.cooperative_id == cooperative_id))


def add_cooperative(federation: Federation, cooperative: Cooperative) -> FederationCooperative:
    """Put a cooperative in a federation; a cooperative belongs to one federation at most.
    Its member records stay closed to the federation until its admin opens them."""
    place = federation_of(cooperative.id)
    if place is not None:
        if place.federation_id == federation.id:
            raise DomainError(_("%(coop)s is already in %(federation)s.", coop=cooperative.code,
                                federation=federation.code), field="cooperative")
        raise DomainError(_("%(coop)s already belongs to another federation.",
                            coop=cooperative.code), field="cooperative")
    place = FederationCooperative(federation_id=federation.id, cooperative_id=cooperative.id,
                                  shares_member_records=False)
    db.session.add(place)
    db.session.flush()
    return place


def set_member_records_shared(cooperative: Cooperative, shared: bool) -> FederationCooperative:
    """The cooperative admin's choice: whether the federation's people may see its members by
    name (audited, as every change of the row)."""
    place = federation_of(cooperative.id)
    if place is None:
        raise DomainError(_("This cooperative belongs to no federation."))
    place.shares_member_records = bool(shared)
    db.session.flush()
    return place


def grant_federation_role(user: User, federation: Federation,
                          role: FederationRole | str) -> FederationMembership:
    """Give a user a role in a federation, replacing the one they held there."""
    try:
        role = FederationRole(role)
    except ValueError:
        raise DomainError(_("“%(role)s” is not a federation role. Roles: %(roles)s.", role=role,
                            roles=", ".join(r.value for r in FederationRole)),
                          field="role") from None
    if db.session.scalar(select(InstitutionAccount.id).where(
            InstitutionAccount.user_id == user.id)) is not None:
        raise DomainError(_("%(email)s is an institution's desk account: a federation role "
                            "needs a separate account.", email=user.email), field="email")
    membership = db.session.scalar(select(FederationMembership).where(
        FederationMembership.user_id == user.id,
        FederationMembership.federation_id == federation.id))
    if membership is None:
        membership = FederationMembership(user_id=user.id, federation_id=federation.id,
                                          role=role)
        db.session.add(membership)
    else:
        membership.role = role
    db.session.flush()
    return membership


def grant_federation_role_to(email: str, name: str, password: str, federation: Federation,
                             role: FederationRole | str) -> FederationMembership:
    """The pages' grant: a role in the federation for the person with this email, creating
    their account when there is none (then a name and a first password are needed, which the
    person changes in their account)."""
    from coopreg.auth import services as auth_services

    email = auth_services.normalise_email(email)
    user = auth_services.find_user_by_email(email)
    if user is None:
        if not (name or "").strip() or not password:
            raise DomainError(_("There is no account for %(email)s yet: give the person's name "
                                "and a first password to create it.", email=email),
                              field="password")
        user = auth_services.create_user(email, name.strip(), password)
    return grant_federation_role(user, federation, role)


def memberships_of(federation: Federation) -> list[FederationMembership]:
    """The people holding a role in the federation, by email."""
    return list(db.session.scalars(
        select(FederationMembership).join(User)
        .where(FederationMembership.federation_id == federation.id).order_by(User.email)))


def membership_in(federation: Federation, membership_id: int) -> FederationMembership | None:
    """A role held in this federation (None for one of another federation: the page answers
    404)."""
    return db.session.scalar(select(FederationMembership).where(
        FederationMembership.id == membership_id,
        FederationMembership.federation_id == federation.id))


def revoke_federation_role(membership: FederationMembership) -> None:
    """Take a person's role in a federation away (audited as the row's deletion); their
    account and any cooperative role stay."""
    db.session.delete(membership)
    db.session.flush()


def federations_overview() -> list[tuple[Federation, int, int]]:
    """Every federation of the installation with its number of cooperatives and of people
    holding a role in it (the platform admin's list)."""
    cooperatives = (select(func.count()).select_from(FederationCooperative)
                    .where(FederationCooperative.federation_id == Federation.id)
                    .correlate(Federation).scalar_subquery())
    people = (select(func.count()).select_from(FederationMembership)
              .where(FederationMembership.federation_id == Federation.id)
              .correlate(Federation).scalar_subquery())
    return [tuple(row) for row in db.session.execute(
        select(Federation, cooperatives, people).order_by(Federation.code)
        .execution_options(**unscoped(ACROSS)))]


def institution_codes(federation: Federation) -> set[str]:
    """The codes (short names, in capitals) of the institutions the federation's cooperatives
    deal with, and of its catalogue's: those a federation admin may give a desk account."""
    from coopreg.federations.models import CatalogueInstitution

    ids = select(FederationCooperative.cooperative_id).where(
        FederationCooperative.federation_id == federation.id)
    codes = set(db.session.scalars(
        select(func.upper(Institution.short_name)).where(Institution.cooperative_id.in_(ids))
        .execution_options(**unscoped(ACROSS))))
    codes |= set(db.session.scalars(select(func.upper(CatalogueInstitution.short_name)).where(
        CatalogueInstitution.federation_id == federation.id)))
    return codes


def federation_role_of(user_id: int) -> FederationMembership | None:
    """The user's federation role (the first federation, should they hold several)."""
    return db.session.scalar(select(FederationMembership).where(
        FederationMembership.user_id == user_id).order_by(FederationMembership.id).limit(1))


def federation_home(user: User) -> str | None:
    """For `coopreg.auth.access.OUTSIDE_ROLES`: a federation role is held outside any
    cooperative; its home is the federation's page."""
    return "federations.home" if federation_role_of(user.id) is not None else None


def cooperatives_of(federation: Federation) -> list[FederationCooperative]:
    return list(db.session.scalars(
        select(FederationCooperative).join(Cooperative)
        .where(FederationCooperative.federation_id == federation.id)
        .order_by(Cooperative.code).execution_options(**unscoped(ACROSS))))


def _other_cooperative_ids(cooperative_id: int) -> list[int]:
    place = federation_of(cooperative_id)
    if place is None:
        return []
    return list(db.session.scalars(select(FederationCooperative.cooperative_id).where(
        FederationCooperative.federation_id == place.federation_id,
        FederationCooperative.cooperative_id != cooperative_id)
        .execution_options(**unscoped(ACROSS))))


def registered_elsewhere(agreement: Agreement, member_ids: list[int]) -> set[int]:
    """Of these members of the agreement's cooperative, those whose national ID is registered
    or being registered with the same institution (same institution code) through another
    cooperative of the federation. Says nothing else about the other registration."""
    others = _other_cooperative_ids(agreement.cooperative_id)
    if not others or not member_ids:
        return set()
    numbers: dict[str, set[int]] = {}
    for member_id, number in db.session.execute(select(Member.id, Member.id_number).where(
            Member.cooperative_id == agreement.cooperative_id, Member.id.in_(member_ids),
            Member.id_number.is_not(None))):
        numbers.setdefault(number, set()).add(member_id)
    if not numbers:
        return set()
    code = func.upper(agreement.institution.short_name)
    found = db.session.scalars(
        _in_progress(others, Member.id_number).distinct()
        .where(func.upper(Institution.short_name) == code,
               Member.id_number.in_(list(numbers))))
    return {member_id for number in found for member_id in numbers[number]}


def _in_progress(cooperative_ids: list[int], *columns):
    """The registrations in progress (with their member's national ID, their institution) of
    these cooperatives, read together (the duplicate check's one statement)."""
    return (select(*columns).select_from(Registration)
            .join(Member, (Member.id == Registration.member_id)
                  & (Member.cooperative_id == Registration.cooperative_id))
            .join(Agreement, (Agreement.id == Registration.agreement_id)
                  & (Agreement.cooperative_id == Registration.cooperative_id))
            .join(Institution, (Institution.id == Agreement.institution_id)
                  & (Institution.cooperative_id == Agreement.cooperative_id))
            .where(Registration.cooperative_id.in_(list(cooperative_ids)),
                   Registration.status.in_(IN_PROGRESS), Member.id_number.is_not(None))
            .execution_options(**unscoped(ACROSS)))


@dataclass
class DuplicateHolder:
    cooperative: str
    status: str
    member: str | None  # number and name, only where the cooperative shares its records


@dataclass
class Duplicate:
    institution: str
    national_id: str  # masked
    holders: list[DuplicateHolder] = field(default_factory=list)


def duplicates(federation: Federation) -> list[Duplicate]:
    """National IDs registered or being registered with one institution (by code) through two
    or more cooperatives of the federation. A cooperative's member is named only where it
    shares its member records with the federation."""
    places = {p.cooperative_id: p for p in cooperatives_of(federation)}
    if len(places) < 2:
        return []
    code = func.upper(Institution.short_name).label("code")

    def base(*columns):
        return _in_progress(list(places), *columns)

    twice = (base(code, Member.id_number)
             .group_by(code, Member.id_number)
             .having(func.count(func.distinct(Registration.cooperative_id)) > 1)
             .subquery())
    rows = db.session.execute(
        base(code, Member.id_number, Registration.cooperative_id, Registration.status,
             Member.member_number, Member.first_name, Member.last_name)
        .join(twice, (twice.c.code == func.upper(Institution.short_name))
              & (twice.c.id_number == Member.id_number))
        .order_by(code, Member.id_number, Registration.cooperative_id)
        .execution_options(**unscoped(ACROSS)))
    found: dict[tuple[str, str], Duplicate] = {}
    for row in rows:
        duplicate = found.setdefault((row.code, row.id_number),
                                     Duplicate(row.code, mask_id(row.id_number)))
        place = places[row.cooperative_id]
        member = (f"{row.member_number} {row.first_name} {row.last_name}"
                  if place.shares_member_records else None)
        duplicate.holders.append(DuplicateHolder(place.cooperative.name,
                                                 RegistrationStatus(row.status).value, member))
    return list(found.values())
