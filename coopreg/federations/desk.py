"""The institution's desk: an institution account sees the sealed batches of agreements with
its institution that the cooperatives send through the desk, downloads them (each download
logged with the file's SHA-256; the batch counts as sent), and uploads its answer file, which
goes through the acknowledgement reading of `coopreg.batches.acks` and waits for the
secretary, or is applied at once when the cooperative chose so for the agreement."""

from __future__ import annotations

import hmac
from datetime import date, timedelta

from flask_babel import gettext as _
from sqlalchemy import func, select

from coopreg.agreements.models import Agreement, Institution
from coopreg.auth import services as auth_services
from coopreg.auth.models import OutsideRole, User
from coopreg.auth.tokens import TokenScope, checked_days, new_secret, secret_digest
from coopreg.batches import acks
from coopreg.batches import services as batch_services
from coopreg.batches.models import Acknowledgement, AckStatus, Batch, BatchStatus
from coopreg.cooperatives.models import Cooperative
from coopreg.core.errors import DomainError
from coopreg.core.models import utcnow
from coopreg.core.spreadsheets import ReadLimits
from coopreg.core.tenancy import get_scoped, unscoped
from coopreg.extensions import db
from coopreg.federations.models import (
    DeskAgreement,
    DeskEvent,
    DeskEventKind,
    DeskToken,
    Federation,
    FederationCooperative,
    InstitutionAccount,
)

B = BatchStatus
# what the desk shows: a file once it is sealed, for as long as it stands
VISIBLE = (B.SEALED, B.SENT, B.PARTIALLY_ACKNOWLEDGED, B.ACKNOWLEDGED)
DESK = "the institution's desk reads the batches sent to it by every cooperative that chose it"
CODE_MAX = 40


def account_of(user_id: int) -> InstitutionAccount | None:
    return db.session.scalar(select(InstitutionAccount).where(
        InstitutionAccount.user_id == user_id))


def desk_home(user: User) -> str | None:
    """For `coopreg.auth.access.OUTSIDE_ROLES`: an institution account's home is the desk."""
    return "desk.home" if account_of(user.id) is not None else None


def create_account(user: User, institution_code: str,
                   federation: Federation | None) -> InstitutionAccount:
    """Bind a user to an institution (by its code), within a federation or not. A user who
    holds a role in a cooperative cannot be an institution's account (an institution's people
    never see a register)."""
    code = (institution_code or "").strip().upper()
    if not code or len(code) > CODE_MAX:
        raise DomainError(_("Give the institution's code (its short name, e.g. CCSS)."),
                          field="institution")
    if user.memberships:
        raise DomainError(_("%(email)s holds a role in a cooperative: an institution's account "
                            "must be a separate one.", email=user.email), field="email")
    if account_of(user.id) is not None:
        raise DomainError(_("%(email)s is already an institution's account.", email=user.email),
                          field="email")
    account = InstitutionAccount(user_id=user.id, institution_code=code,
                                 federation_id=federation.id if federation else None)
    db.session.add(account)
    db.session.flush()
    return account


def create_account_for(email: str, name: str, password: str, institution_code: str,
                       federation: Federation | None) -> InstitutionAccount:
    """A new user and their institution account at once (the federation admin's form)."""
    email = auth_services.normalise_email(email)
    if auth_services.find_user_by_email(email) is not None:
        raise DomainError(_("There is already an account for %(email)s.", email=email),
                          field="email")
    user = auth_services.create_user(email, name, password)
    return create_account(user, institution_code, federation)


def create_federation_account(email: str, name: str, password: str, institution_code: str,
                              federation: Federation) -> InstitutionAccount:
    """A federation admin's desk account: only for an institution the federation's
    cooperatives deal with (or its catalogue holds)."""
    from coopreg.federations.services import institution_codes

    code = (institution_code or "").strip().upper()
    if code and code not in institution_codes(federation):
        raise DomainError(_("No cooperative of the federation deals with an institution "
                            "%(code)s: give the code (short name) the cooperatives use.",
                            code=code), field="institution")
    return create_account_for(email, name, password, code, federation)


def all_accounts() -> list[InstitutionAccount]:
    """Every desk account of the installation (the platform admin's list)."""
    return list(db.session.scalars(select(InstitutionAccount).order_by(
        InstitutionAccount.institution_code, InstitutionAccount.id)))


def account_in(federation: Federation | None, account_id: int) -> InstitutionAccount | None:
    """A desk account of this federation (None for another's: the page answers 404); without a
    federation, any account (the platform admin's)."""
    stmt = select(InstitutionAccount).where(InstitutionAccount.id == account_id)
    if federation is not None:
        stmt = stmt.where(InstitutionAccount.federation_id == federation.id)
    return db.session.scalar(stmt)


def set_account_active(account: InstitutionAccount, active: bool) -> InstitutionAccount:
    """Disable a desk account (its sessions end at once and its API tokens stop working) or
    enable it again; the change is audited on the user."""
    auth_services.set_active(account.user, active)
    return account


def accounts_of(federation: Federation) -> list[InstitutionAccount]:
    return list(db.session.scalars(select(InstitutionAccount).where(
        InstitutionAccount.federation_id == federation.id).order_by(InstitutionAccount.id)))


def _visible(account: InstitutionAccount, *columns):
    """The batches the account may see, as a statement (the desk's one scope)."""
    stmt = (select(Batch, *columns)
            .join(Agreement, (Agreement.id == Batch.agreement_id)
                  & (Agreement.cooperative_id == Batch.cooperative_id))
            .join(Institution, (Institution.id == Agreement.institution_id)
                  & (Institution.cooperative_id == Agreement.cooperative_id))
            .join(DeskAgreement, (DeskAgreement.agreement_id == Agreement.id)
                  & (DeskAgreement.cooperative_id == Agreement.cooperative_id))
            .where(func.upper(Institution.short_name) == account.institution_code,
                   Batch.status.in_(VISIBLE)))
    if account.federation_id is not None:
        stmt = stmt.where(Batch.cooperative_id.in_(
            select(FederationCooperative.cooperative_id).where(
                FederationCooperative.federation_id == account.federation_id)))
    return stmt.execution_options(**unscoped(DESK))


def desk_batches(account: InstitutionAccount, limit: int = 200) -> list[tuple[Batch, str]]:
    """The newest batches sent to the account's institution through the desk, each with its
    cooperative's name."""
    return [tuple(row) for row in db.session.execute(
        _visible(account, Cooperative.name)
        .join(Cooperative, Cooperative.id == Batch.cooperative_id)
        .order_by(Batch.sealed_at.desc(), Batch.id.desc()).limit(limit))]


def desk_batch(account: InstitutionAccount, batch_id: int) -> Batch | None:
    """One batch the account may see (None for any other: the page answers 404)."""
    return db.session.scalar(_visible(account).where(Batch.id == batch_id))


def events_of(batch: Batch) -> list[DeskEvent]:
    return list(db.session.scalars(select(DeskEvent).where(
        DeskEvent.cooperative_id == batch.cooperative_id, DeskEvent.batch_id == batch.id)
        .order_by(DeskEvent.id)))


def download(account: InstitutionAccount, batch: Batch, user_id: int,
             export_dir: str) -> tuple[bytes, str]:
    """The batch's file (checked against its SHA-256), the download logged; a sealed batch
    counts as sent from its first download."""
    data, name = batch_services.verified_file(batch, export_dir)
    db.session.add(DeskEvent(cooperative_id=batch.cooperative_id, batch_id=batch.id,
                             kind=DeskEventKind.DOWNLOADED, user_id=user_id,
                             sha256=batch.sha256))
    if batch.sent_on is None and batch.status == B.SEALED:
        batch_services.mark_sent(batch, date.today(), "portal",
                                 _("Downloaded by the institution at its desk."))
    db.session.flush()
    return data, name


def _desk_setting(batch: Batch) -> DeskAgreement | None:
    return db.session.scalar(select(DeskAgreement).where(
        DeskAgreement.cooperative_id == batch.cooperative_id,
        DeskAgreement.agreement_id == batch.agreement_id))


def receive_answer(account: InstitutionAccount, batch: Batch, data: bytes, filename: str,
                   user_id: int, limits: ReadLimits | None = None) -> Acknowledgement:
    """The institution's answer file, read as the secretary's upload is; applied at once
    when the agreement says so and the file reads cleanly, else left for the secretary."""
    ack = acks.upload_acknowledgement(batch, data, filename, user_id, limits)
    db.session.add(DeskEvent(cooperative_id=batch.cooperative_id, batch_id=batch.id,
                             kind=DeskEventKind.ANSWERED, user_id=user_id, sha256=ack.sha256,
                             acknowledgement_id=ack.id))
    db.session.flush()
    setting = _desk_setting(batch)
    if setting is not None and setting.applies_answers and ack.interpreted \
            and not ack.problem_count:
        try:
            with db.session.begin_nested():
                acks.apply_acknowledgement(ack, user_id)
        except DomainError:
            pass  # left for the secretary, who sees why on the answer's page
    return ack


def answers_of(batch: Batch) -> list[Acknowledgement]:
    return [a for a in batch_services.acknowledgements_of(batch)
            if a.status in (AckStatus.UPLOADED, AckStatus.APPLIED)]


# ---- the cooperative's side ------------------------------------------------------------------
def desk_settings(cooperative: Cooperative) -> dict[int, DeskAgreement]:
    return {s.agreement_id: s for s in db.session.scalars(select(DeskAgreement).where(
        DeskAgreement.cooperative_id == cooperative.id))}


DESK_MODES = ("none", "desk", "desk_applied")


def set_desk_mode(cooperative: Cooperative, agreement_id: int, mode: str) -> str:
    """How the agreement's batches reach the institution: by hand (none), through the desk
    with the secretary applying the answers (desk), or applied at once (desk_applied)."""
    agreement = get_scoped(Agreement, agreement_id, cooperative.id)
    if agreement is None:
        raise DomainError(_("Choose one of the cooperative's agreements."))
    if mode not in DESK_MODES:
        raise DomainError(_("Choose how the batches reach the institution."))
    setting = desk_settings(cooperative).get(agreement.id)
    if mode == "none":
        if setting is not None:
            db.session.delete(setting)
    elif setting is None:
        db.session.add(DeskAgreement(cooperative_id=cooperative.id, agreement_id=agreement.id,
                                     applies_answers=mode == "desk_applied"))
    else:
        setting.applies_answers = mode == "desk_applied"
    db.session.flush()
    return agreement.reference


def batch_notes(batch: Batch) -> list[str]:
    """For the batch's page in the cooperative (`coopreg.batches.views.BATCH_NOTES`): when
    the institution downloaded the file and when its answers arrived."""
    from coopreg.core.templating import show_date

    notes = []
    for event in events_of(batch):
        if event.kind == DeskEventKind.DOWNLOADED:
            notes.append(_("The institution downloaded the file at its desk on %(when)s.",
                           when=show_date(event.occurred_at)))
        else:
            notes.append(_("The institution's answer arrived at its desk on %(when)s.",
                           when=show_date(event.occurred_at)))
    return notes


# ---- the desk's API tokens -------------------------------------------------------------------
def create_desk_token(account: InstitutionAccount, name: str, scope: str = "read",
                      days: int = 90) -> tuple[DeskToken, str]:
    """A token for the desk account's scripts; returns it and its secret (shown once)."""
    try:
        scope = TokenScope(scope)
    except ValueError:
        raise DomainError(_("The scope is read or write."), field="scope") from None
    checked_days(days)
    secret, hint, digest = new_secret()
    token = DeskToken(account_id=account.id, name=(name or "").strip()[:100] or _("API token"),
                      hint=hint, secret_hash=digest, scope=scope,
                      expires_at=utcnow() + timedelta(days=days))
    db.session.add(token)
    db.session.flush()
    return token, secret


def authenticate_desk_token(secret: str) -> tuple[DeskToken, OutsideRole] | None:
    """For `coopreg.api.auth.OUTSIDE_TOKENS`: the desk token a secret is, while it is active
    and its user too; the token acts with the institution's role."""
    digest = secret_digest(secret)
    if digest is None:
        return None
    token = db.session.scalar(select(DeskToken).where(DeskToken.secret_hash == digest))
    if token is None or not hmac.compare_digest(token.secret_hash, digest):
        return None
    if not token.active or not token.account.user.active:
        return None
    return token, OutsideRole.INSTITUTION


class DeskBatches:
    """What the API's batch endpoints do for a desk token (`coopreg.api.batches.
    OUTSIDE_BATCHES`): the desk's batches, its logged download, its answer."""

    @staticmethod
    def statement(token: DeskToken):
        return _visible(token.account)

    @staticmethod
    def download(token: DeskToken, batch: Batch, export_dir: str) -> tuple[bytes, str]:
        return download(token.account, batch, token.user_id, export_dir)

    @staticmethod
    def answer(token: DeskToken, batch: Batch, data: bytes, filename: str,
               limits: ReadLimits | None) -> Acknowledgement:
        return receive_answer(token.account, batch, data, filename, token.user_id, limits)

    @staticmethod
    def answer_statement(token: DeskToken):
        visible = _visible(token.account).with_only_columns(Batch.id)
        return (select(Acknowledgement).where(Acknowledgement.batch_id.in_(visible))
                .execution_options(**unscoped(DESK)))
