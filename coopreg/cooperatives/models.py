"""A cooperative is the tenant: every row of cooperative data belongs to exactly one."""

from __future__ import annotations

from datetime import date

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coopreg.core.models import CooperativeOwned, TimestampMixin
from coopreg.extensions import db


class Cooperative(TimestampMixin, db.Model):
    """A cooperative, mutual or association. Its country decides how national IDs are
    checked; its currency the exponent of its money."""

    __tablename__ = "cooperatives"
    __audited__ = True
    __audit_exclude__ = ("register_version",)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    country: Mapped[str] = mapped_column(String(2))  # ISO 3166-1 alpha-2
    currency: Mapped[str] = mapped_column(String(3))  # ISO 4217
    locale: Mapped[str] = mapped_column(String(10), default="en")
    # For countries without a python-stdnum module: the ID's name and a regular expression.
    id_label: Mapped[str | None] = mapped_column(String(60))
    id_pattern: Mapped[str | None] = mapped_column(String(200))
    # The office's address, phone and hours, printed on the documents members take home.
    contact: Mapped[str | None] = mapped_column(String(300))
    # the cooperative's own tax number, as the employer's on institutions' forms (RF-1's TIN)
    tax_number: Mapped[str | None] = mapped_column(String(40))
    # When the cooperative was founded: no money can have been received or sent before.
    founded_on: Mapped[date | None] = mapped_column(Date)
    # The last member number handed out; taken under a row lock, so numbers never repeat.
    last_member_number: Mapped[int] = mapped_column(Integer, default=0)
    # Counts the writes to the cooperative's members (members/versions.py), in the same
    # transaction as each: a page built from the register can be kept until it moves.
    register_version: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")

    document_types: Mapped[list[DocumentType]] = relationship(
        back_populates="cooperative", order_by="DocumentType.position"
    )

    def __repr__(self) -> str:
        return f"<Cooperative {self.code}>"


class DocumentType(CooperativeOwned, TimestampMixin, db.Model):
    """One item of a cooperative's documents checklist (ID copy, proof of address…)."""

    __tablename__ = "document_types"
    __audited__ = True
    __table_args__ = (UniqueConstraint("cooperative_id", "name"),)

    name: Mapped[str] = mapped_column(String(120))
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    cooperative: Mapped[Cooperative] = relationship(back_populates="document_types")

    def __repr__(self) -> str:
        return f"<DocumentType {self.name!r} of cooperative {self.cooperative_id}>"
