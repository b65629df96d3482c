"""The federation's shared catalogue: institutions and their schemes kept once; a cooperative
adopts one (a copy of its own, linked to the source and to the version it copied) and is told
when the federation's version moved on, with "update my copy"."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import func, select

from coopreg.agreements import services as agreement_services
from coopreg.agreements.models import Agreement, Branch, Institution, RuleKind, Scheme
from coopreg.batches import layouts as L
from coopreg.batches.models import BatchKind, ColumnType, FileFormat, FileLayout, LayoutColumn
from coopreg.cooperatives.models import Cooperative
from coopreg.core.errors import DomainError
from coopreg.core.tenancy import get_scoped
from coopreg.extensions import db
from coopreg.federations.models import (
    Adoption,
    CatalogueInstitution,
    CatalogueLayout,
    CatalogueScheme,
    CatalogueTemplate,
    Federation,
    FederationRole,
    LayoutAdoption,
    TemplateAdoption,
)
from coopreg.federations.services import federation_of, federation_role_of


def catalogue_of(federation_id: int) -> list[CatalogueInstitution]:
    return list(db.session.scalars(select(CatalogueInstitution).where(
        CatalogueInstitution.federation_id == federation_id)
        .order_by(CatalogueInstitution.short_name)))


def catalogue_item(federation_id: int, item_id: int | None) -> CatalogueInstitution | None:
    """A catalogue institution of this federation (None for another federation's)."""
    if not item_id:
        return None
    return db.session.scalar(select(CatalogueInstitution).where(
        CatalogueInstitution.federation_id == federation_id,
        CatalogueInstitution.id == item_id))


def _values(name: str, short_name: str, country: str) -> dict:
    name, short_name = (name or "").strip(), (short_name or "").strip()
    country = (country or "").strip().upper()
    if not name or len(name) > 200:
        raise DomainError(_("Give the institution's name."), field="name")
    if not short_name or len(short_name) > 40:
        raise DomainError(_("Give the institution's code (its short name, e.g. CCSS)."),
                          field="short_name")
    if len(country) != 2 or not country.isalpha():
        raise DomainError(_("Give the country as a two-letter ISO code (for example CR)."),
                          field="country")
    return {"name": name, "short_name": short_name, "country": country}


def add_institution(federation: Federation, name: str, short_name: str,
                    country: str) -> CatalogueInstitution:
    """A catalogue institution (short names unique in the federation)."""
    values = _values(name, short_name, country)
    taken = db.session.scalar(select(CatalogueInstitution.id).where(
        CatalogueInstitution.federation_id == federation.id,
        func.upper(CatalogueInstitution.short_name) == values["short_name"].upper()))
    if taken is not None:
        raise DomainError(_("An institution with short name %(name)s already exists.",
                            name=values["short_name"]), field="short_name")
    item = CatalogueInstitution(federation_id=federation.id, version=1, **values)
    db.session.add(item)
    db.session.flush()
    return item


def update_institution(item: CatalogueInstitution, name: str, country: str
                       ) -> CatalogueInstitution:
    """Change the name or country: a new version, which the copies are told of."""
    values = _values(name, item.short_name, country)
    if (values["name"], values["country"]) != (item.name, item.country):
        item.name, item.country = values["name"], values["country"]
        item.version += 1
    db.session.flush()
    return item


def _branches(branches: Iterable) -> list[str]:
    chosen = {str(b) for b in branches or ()}
    unknown = chosen - {b.value for b in Branch}
    if unknown or not chosen:
        raise DomainError(_("Choose at least one branch the scheme covers."), field="branches")
    return [b.value for b in Branch if b.value in chosen]


def set_scheme(item: CatalogueInstitution, name: str, branches: Iterable,
               member_benefits: str | None = None, how_to_claim: str | None = None
               ) -> CatalogueScheme:
    """Add a scheme to a catalogue institution, or change the one of that name: a new
    version of the institution."""
    name = (name or "").strip()
    if not name or len(name) > 200:
        raise DomainError(_("Give the scheme's name."), field="name")
    chosen = _branches(branches)
    scheme = next((s for s in item.schemes if s.name.lower() == name.lower()), None)
    if scheme is None:
        scheme = CatalogueScheme(institution=item, name=name, branches=chosen)
        db.session.add(scheme)
    scheme.branches = chosen
    scheme.member_benefits = (member_benefits or "").strip() or None
    scheme.how_to_claim = (how_to_claim or "").strip() or None
    item.version += 1
    db.session.flush()
    return scheme


# ---- the cooperative's side ------------------------------------------------------------------
@dataclass
class Offer:
    """A catalogue item as one cooperative sees it: not adopted, adopted and current, or
    adopted and behind the federation's version."""

    item: CatalogueInstitution
    adoption: Adoption | None

    @property
    def behind(self) -> bool:
        return self.adoption is not None and self.adoption.version < self.item.version


def offers(cooperative: Cooperative) -> list[Offer]:
    """The catalogue of the cooperative's federation, each item with the cooperative's copy."""
    place = federation_of(cooperative.id)
    if place is None:
        return []
    adopted = {a.source_id: a for a in db.session.scalars(select(Adoption).where(
        Adoption.cooperative_id == cooperative.id))}
    return [Offer(item, adopted.get(item.id)) for item in catalogue_of(place.federation_id)]


def updates_waiting(cooperative_id: int) -> int:
    """How many of the cooperative's copies are behind the federation's version."""
    return db.session.scalar(select(func.count()).select_from(Adoption).join(
        CatalogueInstitution, CatalogueInstitution.id == Adoption.source_id).where(
        Adoption.cooperative_id == cooperative_id,
        Adoption.version < CatalogueInstitution.version)) or 0


def _item_for(cooperative: Cooperative, item_id: int | None) -> CatalogueInstitution:
    place = federation_of(cooperative.id)
    item = catalogue_item(place.federation_id, item_id) if place else None
    if item is None:
        raise DomainError(_("Choose an institution of your federation's catalogue."))
    return item


def _copy_schemes(item: CatalogueInstitution, institution: Institution) -> None:
    """The catalogue's schemes onto the cooperative's institution: missing ones made, those of
    the same name brought in line; the cooperative's own other schemes are left alone."""
    held = {s.name.lower(): s for s in db.session.scalars(select(Scheme).where(
        Scheme.cooperative_id == institution.cooperative_id,
        Scheme.institution_id == institution.id))}
    for source in item.schemes:
        mine = held.get(source.name.lower())
        if mine is None:
            agreement_services.create_scheme(institution, source.name, source.branches,
                                             source.member_benefits, source.how_to_claim)
        else:
            agreement_services.update_scheme(mine, source.name, source.branches,
                                             source.member_benefits, source.how_to_claim)


def adopt(cooperative: Cooperative, item_id: int | None) -> Adoption:
    """Copy a catalogue institution and its schemes into the cooperative. An institution of the
    same short name the cooperative already keeps becomes the copy (brought in line)."""
    item = _item_for(cooperative, item_id)
    existing = db.session.scalar(select(Adoption).where(
        Adoption.cooperative_id == cooperative.id, Adoption.source_id == item.id))
    if existing is not None:
        raise DomainError(_("%(name)s is already adopted.", name=item.short_name))
    institution = db.session.scalar(select(Institution).where(
        Institution.cooperative_id == cooperative.id,
        func.upper(Institution.short_name) == item.short_name.upper()))
    if institution is None:
        institution = agreement_services.create_institution(cooperative, item.name,
                                                            item.short_name, item.country)
    else:
        agreement_services.update_institution(institution, item.name, institution.short_name,
                                              item.country)
    _copy_schemes(item, institution)
    adoption = Adoption(cooperative_id=cooperative.id, source_id=item.id,
                        institution_id=institution.id, version=item.version)
    db.session.add(adoption)
    db.session.flush()
    return adoption


def update_copy(cooperative: Cooperative, item_id: int | None) -> Adoption:
    """Bring the cooperative's copy in line with the federation's current version."""
    item = _item_for(cooperative, item_id)
    adoption = db.session.scalar(select(Adoption).where(
        Adoption.cooperative_id == cooperative.id, Adoption.source_id == item.id))
    if adoption is None:
        raise DomainError(_("%(name)s is not adopted yet.", name=item.short_name))
    institution = get_scoped(Institution, adoption.institution_id, cooperative.id)
    agreement_services.update_institution(institution, item.name, institution.short_name,
                                          item.country)
    _copy_schemes(item, institution)
    adoption.version = item.version
    db.session.flush()
    return adoption


# ---- file layouts ------------------------------------------------------------------------------
LAYOUT_SETTINGS = ("name", "format", "encoding", "delimiter", "decimal_mark", "include_header",
                   "header_line", "footer_line", "dependants_mode")


def layouts_of(federation_id: int) -> list[CatalogueLayout]:
    return list(db.session.scalars(select(CatalogueLayout).where(
        CatalogueLayout.federation_id == federation_id)
        .order_by(CatalogueLayout.kind, CatalogueLayout.name)))


def may_publish(user_id: int, cooperative: Cooperative) -> bool:
    """Whether the user keeps the catalogue of the cooperative's federation (its admin)."""
    place = federation_of(cooperative.id)
    membership = federation_role_of(user_id)
    return (place is not None and membership is not None
            and membership.federation_id == place.federation_id
            and membership.role == FederationRole.ADMIN)


def publish_layout(cooperative: Cooperative, layout_id: int | None,
                   user_id: int) -> CatalogueLayout:
    """Put one of the cooperative's layouts in its federation's catalogue (a federation admin
    does it); published again with changes, it is a new version the copies are told of."""
    if not may_publish(user_id, cooperative):
        raise DomainError(_("Only an admin of the federation publishes to its catalogue."))
    layout = get_scoped(FileLayout, layout_id, cooperative.id)
    if layout is None:
        raise DomainError(_("Choose one of the cooperative's layouts."))
    spec = L.snapshot(layout)
    spec.pop("built_in_origin", None)
    place = federation_of(cooperative.id)
    item = db.session.scalar(select(CatalogueLayout).where(
        CatalogueLayout.federation_id == place.federation_id,
        CatalogueLayout.name == layout.name, CatalogueLayout.kind == layout.kind.value))
    if item is None:
        item = CatalogueLayout(federation_id=place.federation_id, name=layout.name,
                               kind=layout.kind.value, spec=spec, version=1)
        db.session.add(item)
    elif item.spec != spec:
        item.spec = spec
        item.version += 1
    db.session.flush()
    return item


@dataclass
class LayoutOffer:
    item: CatalogueLayout
    adoptions: list[LayoutAdoption]

    @property
    def behind(self) -> list[LayoutAdoption]:
        return [a for a in self.adoptions if a.version < self.item.version]


def layout_offers(cooperative: Cooperative) -> list[LayoutOffer]:
    place = federation_of(cooperative.id)
    if place is None:
        return []
    adopted: dict[int, list[LayoutAdoption]] = {}
    for adoption in db.session.scalars(select(LayoutAdoption).where(
            LayoutAdoption.cooperative_id == cooperative.id).order_by(LayoutAdoption.id)):
        adopted.setdefault(adoption.source_id, []).append(adoption)
    return [LayoutOffer(item, adopted.get(item.id, []))
            for item in layouts_of(place.federation_id)]


def _layout_item(cooperative: Cooperative, item_id: int | None) -> CatalogueLayout:
    place = federation_of(cooperative.id)
    item = db.session.scalar(select(CatalogueLayout).where(
        CatalogueLayout.federation_id == place.federation_id,
        CatalogueLayout.id == item_id)) if place and item_id else None
    if item is None:
        raise DomainError(_("Choose a layout of your federation's catalogue."))
    return item


def _fill(layout: FileLayout, spec: dict) -> None:
    """The layout's settings and columns as the catalogue's spec says."""
    for key in LAYOUT_SETTINGS:
        value = spec.get(key)
        setattr(layout, key, FileFormat(value) if key == "format" else value)
    layout.columns.clear()
    db.session.flush()
    for column in spec["columns"]:
        values = {key: column.get(key) for key in L.COLUMN_FIELDS}
        values["col_type"] = ColumnType(values["col_type"])
        layout.columns.append(LayoutColumn(cooperative_id=layout.cooperative_id, **values))


def adopt_layout(cooperative: Cooperative, item_id: int | None,
                 agreement_id: int | None) -> LayoutAdoption:
    """Copy a catalogue layout as one of the cooperative's agreements' layouts (an agreement
    holds one layout per kind: delete its own first)."""
    item = _layout_item(cooperative, item_id)
    agreement = get_scoped(Agreement, agreement_id, cooperative.id)
    if agreement is None:
        raise DomainError(_("Choose one of the cooperative's agreements."), field="agreement")
    kind = BatchKind(item.kind)
    if db.session.scalar(select(FileLayout.id).where(
            FileLayout.cooperative_id == cooperative.id,
            FileLayout.agreement_id == agreement.id, FileLayout.kind == kind)):
        raise DomainError(_("Agreement %(ref)s already has a layout of this kind: delete it "
                            "first.", ref=agreement.reference), field="agreement")
    layout = FileLayout(cooperative_id=cooperative.id, agreement_id=agreement.id, kind=kind)
    _fill(layout, item.spec)
    db.session.add(layout)
    db.session.flush()
    adoption = LayoutAdoption(cooperative_id=cooperative.id, source_id=item.id,
                              layout_id=layout.id, version=item.version)
    db.session.add(adoption)
    db.session.flush()
    return adoption


def update_layout_copies(cooperative: Cooperative, item_id: int | None) -> int:
    """Bring every copy the cooperative keeps of a catalogue layout to its current version
    (batches already made keep the layout they were made with)."""
    item = _layout_item(cooperative, item_id)
    adoptions = list(db.session.scalars(select(LayoutAdoption).where(
        LayoutAdoption.cooperative_id == cooperative.id, LayoutAdoption.source_id == item.id)))
    if not adoptions:
        raise DomainError(_("%(name)s is not adopted yet.", name=item.name))
    for adoption in adoptions:
        layout = get_scoped(FileLayout, adoption.layout_id, cooperative.id)
        _fill(layout, item.spec)
        adoption.version = item.version
    db.session.flush()
    return len(adoptions)


# ---- agreement templates -----------------------------------------------------------------------
TERMS_FIELDS = ("rule_kind", "flat_amount", "rate_percent", "floor", "ceiling",
                "member_share_percent", "schedule", "due_months", "due_day", "grace_days",
                "remittance_deadline_days")


def templates_of(federation_id: int) -> list[CatalogueTemplate]:
    return list(db.session.scalars(select(CatalogueTemplate).where(
        CatalogueTemplate.federation_id == federation_id).order_by(CatalogueTemplate.name)))


def _template_payers(payers) -> list[dict]:
    """The third payers as typed (kind, name, a share or a fixed amount, whether their money
    passes through the cooperative), in a form the JSON column keeps and compares."""
    def text(value) -> str:
        return "" if value is None else str(value).strip()

    return [{"kind": text(payer.get("kind")), "name": text(payer.get("name")),
             "share_percent": text(payer.get("share_percent")),
             "fixed_amount": text(payer.get("fixed_amount")),
             "through_cooperative": bool(payer.get("through_cooperative", True))}
            for payer in payers or ()]


def _template_terms(terms: dict) -> dict:
    """The terms as typed, checked as a cooperative's would be (each cooperative reads the
    amounts in its own currency when it adopts them): the rule and schedule, the third payers'
    shares and, for a scale or categories, the scale's rows (as the terms form writes them)."""
    kept = {key: terms.get(key) for key in TERMS_FIELDS}
    kept["due_months"] = [int(m) for m in kept.get("due_months") or ()]
    kept["suspended_accrue"] = bool(terms.get("suspended_accrue", True))
    kept["payers"] = _template_payers(terms.get("payers"))
    scale = terms.get("scale") or ""
    scale = scale.strip() if isinstance(scale, str) else [dict(row) for row in scale]
    kept["scale"] = scale if kept.get("rule_kind") in (RuleKind.SCALE, RuleKind.CATEGORY) else ""
    agreement_services.clean_terms("USD", {**kept, "effective_from": date(2000, 1, 1)})
    return kept


def set_template(federation: Federation, institution_id: int | None, name: str,
                 terms: dict) -> CatalogueTemplate:
    """Add an agreement template for a catalogue institution, or change the one of that name
    (a new version, which the agreements made from it are told of)."""
    item = catalogue_item(federation.id, institution_id)
    if item is None:
        raise DomainError(_("Choose an institution of the catalogue."), field="institution_id")
    name = (name or "").strip()
    if not name or len(name) > 120:
        raise DomainError(_("Give the template's name."), field="name")
    kept = _template_terms(terms)
    template = db.session.scalar(select(CatalogueTemplate).where(
        CatalogueTemplate.federation_id == federation.id, CatalogueTemplate.name == name))
    if template is None:
        template = CatalogueTemplate(federation_id=federation.id, institution_id=item.id,
                                     name=name, terms=kept, version=1)
        db.session.add(template)
    elif (template.terms, template.institution_id) != (kept, item.id):
        template.terms, template.institution_id = kept, item.id
        template.version += 1
    db.session.flush()
    return template


@dataclass
class TemplateOffer:
    item: CatalogueTemplate
    adoptions: list[TemplateAdoption]

    @property
    def behind(self) -> list[TemplateAdoption]:
        return [a for a in self.adoptions if a.version < self.item.version]


def template_offers(cooperative: Cooperative) -> list[TemplateOffer]:
    place = federation_of(cooperative.id)
    if place is None:
        return []
    adopted: dict[int, list[TemplateAdoption]] = {}
    for adoption in db.session.scalars(select(TemplateAdoption).where(
            TemplateAdoption.cooperative_id == cooperative.id).order_by(TemplateAdoption.id)):
        adopted.setdefault(adoption.source_id, []).append(adoption)
    return [TemplateOffer(item, adopted.get(item.id, []))
            for item in templates_of(place.federation_id)]


def _template_item(cooperative: Cooperative, item_id: int | None) -> CatalogueTemplate:
    place = federation_of(cooperative.id)
    item = db.session.scalar(select(CatalogueTemplate).where(
        CatalogueTemplate.federation_id == place.federation_id,
        CatalogueTemplate.id == item_id)) if place and item_id else None
    if item is None:
        raise DomainError(_("Choose an agreement template of your federation's catalogue."))
    return item


def adopt_template(cooperative: Cooperative, item_id: int | None, reference: str,
                   valid_from: date | None, actor_id: int | None) -> TemplateAdoption:
    """A new agreement of the cooperative from a template: with its copy of the template's
    institution (adopted first) and all that copy's schemes, the template's terms from
    `valid_from`."""
    item = _template_item(cooperative, item_id)
    copy = db.session.scalar(select(Adoption).where(
        Adoption.cooperative_id == cooperative.id, Adoption.source_id == item.institution_id))
    if copy is None:
        raise DomainError(_("Adopt the institution %(name)s first.",
                            name=item.institution.short_name))
    schemes = db.session.scalars(select(Scheme.id).where(
        Scheme.cooperative_id == cooperative.id, Scheme.institution_id == copy.institution_id))
    agreement = agreement_services.create_agreement(cooperative, {
        "institution_id": copy.institution_id, "reference": reference,
        "signed_on": None, "valid_from": valid_from, "valid_to": None,
        "member_number_pattern": None, "scheme_ids": list(schemes),
        "document_type_ids": []}, item.terms, actor_id)
    adoption = TemplateAdoption(cooperative_id=cooperative.id, source_id=item.id,
                                agreement_id=agreement.id, version=item.version)
    db.session.add(adoption)
    db.session.flush()
    return adoption


def follow_template(cooperative: Cooperative, adoption_id: int | None,
                    effective_from: date | None, actor_id: int | None) -> TemplateAdoption:
    """The template's current terms as an amendment of the agreement made from it, from a
    date (the earlier terms stay on record and keep governing the periods before it)."""
    adoption = get_scoped(TemplateAdoption, adoption_id, cooperative.id)
    if adoption is None:
        raise DomainError(_("Choose an agreement made from a template."))
    agreement = get_scoped(Agreement, adoption.agreement_id, cooperative.id)
    agreement_services.amend_terms(agreement, {
        **adoption.source.terms, "effective_from": effective_from,
        "note": _("Terms of the federation's template %(name)s, version %(n)d.",
                  name=adoption.source.name, n=adoption.source.version)}, actor_id)
    adoption.version = adoption.source.version
    db.session.flush()
    return adoption
