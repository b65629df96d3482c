"""A federation, the cooperatives it groups and the people who hold a role in it."""

from __future__ import annotations

import enum
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coopreg.auth.models import User
from coopreg.auth.tokens import TokenColumns
from coopreg.cooperatives.models import Cooperative
from coopreg.core.labels import labels_for
from coopreg.core.models import CooperativeOwned, TimestampMixin, enum_column, utcnow
from coopreg.extensions import db


class FederationRole(enum.StrEnum):
    """Roles held at federation level; they give no role in any cooperative."""

    ADMIN = "federation_admin"  # keeps the federation: its cooperatives and its people
    ANALYST = "federation_analyst"  # reads the roll-ups and the duplicate report


FEDERATION_ROLE_LABELS = labels_for(FederationRole, {
    FederationRole.ADMIN: _l("Federation admin"), FederationRole.ANALYST: _l("Federation analyst")})


class Federation(TimestampMixin, db.Model):
    """A union of cooperatives (code unique in the installation)."""

    __tablename__ = "federations"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(200))

    def __repr__(self) -> str:
        return f"<Federation {self.code}>"


class FederationCooperative(CooperativeOwned, TimestampMixin, db.Model):
    """A cooperative's place in a federation (a cooperative belongs to at most one).

    `shares_member_records` is the cooperative admin's choice: while it is off (the default),
    no federation role sees a member of the cooperative by name; the duplicate report shows
    only which cooperative holds the other registration. Changes are audited."""

    __tablename__ = "federation_cooperatives"
    __audited__ = True
    __table_args__ = (UniqueConstraint("cooperative_id"),)

    cooperative_index = False
    federation_id: Mapped[int] = mapped_column(ForeignKey("federations.id"), index=True)
    shares_member_records: Mapped[bool] = mapped_column(Boolean, default=False)
    joined_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    federation: Mapped[Federation] = relationship()
    cooperative: Mapped[Cooperative] = relationship()

    def __repr__(self) -> str:
        return (f"<FederationCooperative federation={self.federation_id} "
                f"cooperative={self.cooperative_id}>")


class FederationMembership(TimestampMixin, db.Model):
    """A user's role in one federation (one role per federation), held beside the user's
    cooperative roles (`coopreg.auth.models.Membership`) and never instead of them."""

    __tablename__ = "federation_memberships"
    __audited__ = True
    __table_args__ = (UniqueConstraint("user_id", "federation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    federation_id: Mapped[int] = mapped_column(ForeignKey("federations.id"), index=True)
    role: Mapped[FederationRole] = mapped_column(enum_column(FederationRole, 30))

    user: Mapped[User] = relationship()
    federation: Mapped[Federation] = relationship()

    def __repr__(self) -> str:
        return (f"<FederationMembership user={self.user_id} federation={self.federation_id} "
                f"{self.role}>")


class InstitutionAccount(TimestampMixin, db.Model):
    """A user of an institution's desk: bound to one institution, named by its code (the
    short name each cooperative gives it, e.g. CCSS), within one federation's cooperatives or,
    without a federation, any cooperative of the installation. The account sees only the
    sealed batches of agreements with that institution that the cooperative sends through the
    desk (`DeskAgreement`), never a register."""

    __tablename__ = "institution_accounts"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), unique=True)
    institution_code: Mapped[str] = mapped_column(String(40))
    federation_id: Mapped[int | None] = mapped_column(ForeignKey("federations.id"), index=True)

    user: Mapped[User] = relationship()
    federation: Mapped[Federation | None] = relationship()

    def __repr__(self) -> str:
        return f"<InstitutionAccount user={self.user_id} {self.institution_code}>"


class DeskAgreement(CooperativeOwned, TimestampMixin, db.Model):
    """The cooperative's choice to send an agreement's sealed batches through the
    institution's desk; `applies_answers`: the institution's answer file is applied at once
    (when it reads cleanly) instead of waiting for the secretary."""

    __tablename__ = "desk_agreements"
    __audited__ = True
    __table_args__ = (UniqueConstraint("cooperative_id", "agreement_id"),)

    cooperative_index = False
    agreement_id: Mapped[int] = mapped_column(ForeignKey("agreements.id"))
    applies_answers: Mapped[bool] = mapped_column(Boolean, default=False)

    def __repr__(self) -> str:
        return f"<DeskAgreement agreement={self.agreement_id}>"


class DeskEventKind(enum.StrEnum):
    DOWNLOADED = "downloaded"
    ANSWERED = "answered"


class DeskEvent(CooperativeOwned, db.Model):
    """What the institution did with a batch at the desk (append-only): each download (with
    the SHA-256 of the file given out) and each answer file it uploaded."""

    __tablename__ = "desk_events"
    __table_args__ = (Index("ix_desk_events_coop_batch", "cooperative_id", "batch_id"),)

    cooperative_index = False
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"))
    kind: Mapped[DeskEventKind] = mapped_column(enum_column(DeskEventKind))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    sha256: Mapped[str] = mapped_column(String(64))
    acknowledgement_id: Mapped[int | None] = mapped_column(ForeignKey("acknowledgements.id"))
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    user: Mapped[User] = relationship()

    def __repr__(self) -> str:
        return f"<DeskEvent {self.kind} batch={self.batch_id}>"


class CatalogueInstitution(TimestampMixin, db.Model):
    """An institution kept once at federation level, with its schemes (`CatalogueScheme`).
    `version` grows with every change of the institution or its schemes, so a cooperative's
    copy knows when it is behind."""

    __tablename__ = "catalogue_institutions"
    __audited__ = True
    __table_args__ = (UniqueConstraint("federation_id", "short_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    federation_id: Mapped[int] = mapped_column(ForeignKey("federations.id"))
    name: Mapped[str] = mapped_column(String(200))
    short_name: Mapped[str] = mapped_column(String(40))
    country: Mapped[str] = mapped_column(String(2))
    version: Mapped[int] = mapped_column(default=1)

    schemes: Mapped[list[CatalogueScheme]] = relationship(
        back_populates="institution", order_by="CatalogueScheme.name")

    def __repr__(self) -> str:
        return f"<CatalogueInstitution {self.short_name} v{self.version}>"


class CatalogueScheme(TimestampMixin, db.Model):
    """A scheme of a catalogue institution: its branches and its texts for members."""

    __tablename__ = "catalogue_schemes"
    __audited__ = True
    __table_args__ = (UniqueConstraint("institution_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("catalogue_institutions.id"))
    name: Mapped[str] = mapped_column(String(200))
    branches: Mapped[list] = mapped_column(JSON)  # Branch values, in the Convention's order
    member_benefits: Mapped[str | None] = mapped_column(Text)
    how_to_claim: Mapped[str | None] = mapped_column(Text)

    institution: Mapped[CatalogueInstitution] = relationship(back_populates="schemes")

    def __repr__(self) -> str:
        return f"<CatalogueScheme {self.name}>"


class Adoption(CooperativeOwned, TimestampMixin, db.Model):
    """A cooperative's copy of a catalogue item: its own institution (`institution_id`, with
    its schemes), linked to the source and to the version it copied."""

    __tablename__ = "catalogue_adoptions"
    __audited__ = True
    __table_args__ = (UniqueConstraint("cooperative_id", "source_id"),)

    cooperative_index = False
    source_id: Mapped[int] = mapped_column(ForeignKey("catalogue_institutions.id"))
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"))
    version: Mapped[int] = mapped_column()

    source: Mapped[CatalogueInstitution] = relationship()

    def __repr__(self) -> str:
        return f"<Adoption of {self.source_id} v{self.version} by {self.cooperative_id}>"


class DeskToken(TokenColumns, TimestampMixin, db.Model):
    """An API token of an institution's desk account: it reaches the API's batch and answer
    endpoints as the desk does (the same batches, the same logging), with the same limits as
    a cooperative's tokens."""

    __tablename__ = "desk_tokens"
    __audited__ = True
    __audit_exclude__ = ("secret_hash",)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("institution_accounts.id"), index=True)

    account: Mapped[InstitutionAccount] = relationship()

    @property
    def user_id(self) -> int:
        return self.account.user_id

    @property
    def user(self) -> User:
        """The desk's person, whose language the API answers in when the script names none."""
        return self.account.user

    @property
    def label(self) -> str:
        """How the audit log names changes made with this token."""
        return f"{self.account.user.email} (desk token {self.hint}…)"

    @property
    def limit_key(self) -> str:
        """Its allowance of requests, apart from the cooperative tokens' (ids overlap)."""
        return f"desk-{self.id}"

    def __repr__(self) -> str:
        return f"<DeskToken {self.hint}… of account {self.account_id}>"


class CatalogueLayout(TimestampMixin, db.Model):
    """A file layout kept at federation level (`spec`: the layout as plain data, as a batch
    keeps it), published from a cooperative's own layout by a federation admin; `version`
    grows when it is published again with changes."""

    __tablename__ = "catalogue_layouts"
    __audited__ = True
    __table_args__ = (UniqueConstraint("federation_id", "name", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    federation_id: Mapped[int] = mapped_column(ForeignKey("federations.id"))
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(20))
    spec: Mapped[dict] = mapped_column(JSON)
    version: Mapped[int] = mapped_column(default=1)

    def __repr__(self) -> str:
        return f"<CatalogueLayout {self.name} {self.kind} v{self.version}>"


class LayoutAdoption(CooperativeOwned, TimestampMixin, db.Model):
    """A cooperative's copy of a catalogue layout: one of its agreements' layouts, linked to
    the source and to the version it copied (gone with the layout if the cooperative deletes
    it)."""

    __tablename__ = "catalogue_layout_adoptions"
    __audited__ = True
    __table_args__ = (UniqueConstraint("cooperative_id", "layout_id"),)

    cooperative_index = False
    source_id: Mapped[int] = mapped_column(ForeignKey("catalogue_layouts.id"), index=True)
    layout_id: Mapped[int] = mapped_column(ForeignKey("file_layouts.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column()

    source: Mapped[CatalogueLayout] = relationship()

    def __repr__(self) -> str:
        return f"<LayoutAdoption of {self.source_id} v{self.version} as {self.layout_id}>"


class CatalogueTemplate(TimestampMixin, db.Model):
    """An agreement template kept at federation level: the terms negotiated once (the
    contribution rule and schedule, as typed: `terms`) for a catalogue institution;
    `version` grows with every change."""

    __tablename__ = "catalogue_templates"
    __audited__ = True
    __table_args__ = (UniqueConstraint("federation_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    federation_id: Mapped[int] = mapped_column(ForeignKey("federations.id"))
    institution_id: Mapped[int] = mapped_column(ForeignKey("catalogue_institutions.id"))
    name: Mapped[str] = mapped_column(String(120))
    terms: Mapped[dict] = mapped_column(JSON)
    version: Mapped[int] = mapped_column(default=1)

    institution: Mapped[CatalogueInstitution] = relationship()

    @property
    def payer_names(self) -> list[str]:
        """The third payers the terms name (the state, a municipality…)."""
        return [payer.get("name", "") for payer in (self.terms or {}).get("payers") or ()]

    @property
    def scale_row_count(self) -> int:
        """How many rows the terms' scale has (0 when the rule is no scale)."""
        scale = (self.terms or {}).get("scale") or ""
        if isinstance(scale, str):
            return sum(1 for line in scale.splitlines() if line.strip())
        return len(scale)

    def __repr__(self) -> str:
        return f"<CatalogueTemplate {self.name} v{self.version}>"


class TemplateAdoption(CooperativeOwned, TimestampMixin, db.Model):
    """A cooperative's agreement made from a catalogue template, and the template's version
    its latest terms follow."""

    __tablename__ = "catalogue_template_adoptions"
    __audited__ = True
    __table_args__ = (UniqueConstraint("cooperative_id", "agreement_id"),)

    cooperative_index = False
    source_id: Mapped[int] = mapped_column(ForeignKey("catalogue_templates.id"), index=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("agreements.id"))
    version: Mapped[int] = mapped_column()

    source: Mapped[CatalogueTemplate] = relationship()

    def __repr__(self) -> str:
        return f"<TemplateAdoption of {self.source_id} v{self.version} as {self.agreement_id}>"
