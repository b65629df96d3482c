"""Reading an institution's answer file as people send it: the header row below the title
rows, which column holds what (from its header, in English, Spanish, French or Portuguese, or
as this agreement's last file had it), what each result word means (ACEPTADO, RECHAZADO,
APPROVED, DENIED…), and in which order the file writes its dates. Everything here proposes;
the secretary sees the proposal and may change it before anything is applied."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence

from flask_babel import lazy_gettext as _l

from coopreg.core.labels import labels_for
from coopreg.core.text import fold, header_key


class AnswerRole(enum.StrEnum):
    ID_NUMBER = "id_number"
    MEMBER_NUMBER = "member_number"
    INSTITUTION_NUMBER = "institution_number"
    RESULT = "result"
    REASON = "reason"
    EFFECTIVE_DATE = "effective_date"


class AnswerResult(enum.StrEnum):
    ACCEPTED = "accepted"
    REJECTED = "rejected"


R = AnswerRole
ROLE_LABELS = labels_for(R, {
    R.ID_NUMBER: _l("National ID"),
    R.MEMBER_NUMBER: _l("Member number (the cooperative's)"),
    R.INSTITUTION_NUMBER: _l("Institution's member number"),
    R.RESULT: _l("Result (accepted or rejected)"),
    R.REASON: _l("Reason for a rejection"),
    R.EFFECTIVE_DATE: _l("Effective date (coverage start)"),
})
# The roles that say which member a row is about, in the order they are tried.
KEYS = (R.ID_NUMBER, R.MEMBER_NUMBER, R.INSTITUTION_NUMBER)

# What institutions call each column, in the four languages (compared folded: "Cédula",
# "CEDULA:" and "cedula" are one). The longest alias found inside a header wins.
ROLE_ALIASES: dict[AnswerRole, tuple[str, ...]] = {
    R.ID_NUMBER: (
        "cedula", "numero de cedula", "no cedula", "cedula de identidad", "identificacion",
        "numero de identificacion", "documento", "numero de documento", "dni", "cuil", "cuit",
        "dimex", "national id", "id number", "id no", "identity number", "identification",
        "piece d identite", "numero d identite", "cni", "documento de identidade", "cpf", "rg",
        "nic", "ci"),
    R.MEMBER_NUMBER: (
        "numero de socio", "socio", "numero de asociado", "asociado", "member number",
        "member no", "member id", "membership number", "numero de membre", "membre",
        "numero do associado", "associado", "numero de cooperado", "cooperado"),
    R.INSTITUTION_NUMBER: (
        "numero de asegurado", "asegurado", "no asegurado", "numero asegurado",
        "numero de afiliado", "afiliado", "numero de afiliacion", "nss", "pin",
        "philhealth number", "philhealth no", "philhealth id", "sss number", "sss no",
        "insurance number", "insured number", "numero d assure", "numero d affiliation",
        "numero de securite sociale", "numero de beneficiario", "nis", "nit", "matricula",
        "institution number", "institution s member number"),
    R.RESULT: (
        "resultado", "estado", "estatus", "status", "result", "resultat", "statut",
        "situacao", "situacion", "respuesta", "answer", "decision", "decisao", "dictamen",
        "estado de la solicitud", "application status", "remarks status"),
    R.REASON: (
        "motivo", "motivo de rechazo", "razon", "observacion", "observaciones", "detalle",
        "remarks", "reason", "reason for rejection", "comment", "comments", "notes", "motif",
        "raison", "observations", "observacoes", "motivo da recusa", "justificativa"),
    R.EFFECTIVE_DATE: (
        "fecha de vigencia", "vigencia", "vigente desde", "fecha efectiva", "fecha de inicio",
        "fecha de afiliacion", "fecha de alta", "desde", "inicio de cobertura",
        "effective date", "effectivity date", "date of effectivity", "start date",
        "coverage start", "covered from", "date d effet", "date de debut", "a partir du",
        "data de inicio", "data de vigencia", "data de inscricao", "inicio da cobertura"),
}
_EXACT = {header_key(alias): role for role, aliases in ROLE_ALIASES.items() for alias in aliases}
# Whole-word search inside longer headers ("Número de asegurado (CCSS)"): longer first, and
# not the one- and two-letter ones ("ci", "rg") that would match inside any sentence.
_PARTIAL = sorted(((alias, role) for alias, role in _EXACT.items() if len(alias) >= 3),
                  key=lambda item: -len(item[0]))

ACCEPTED_WORDS = (
    "accepted", "accept", "approved", "approve", "registered", "enrolled", "ok", "a", "yes",
    "valid", "aceptado", "aceptada", "aprobado", "aprobada", "registrado", "registrada",
    "inscrito", "inscrita", "afiliado", "afiliada", "asegurado", "si", "procede", "accepte",
    "acceptee", "approuve", "approuvee", "inscrit", "inscrite", "oui", "aceito", "aceita",
    "aprovado", "aprovada", "inscrito", "sim", "1")
REJECTED_WORDS = (
    "rejected", "reject", "denied", "declined", "disapproved", "refused", "error", "invalid",
    "r", "no", "rechazado", "rechazada", "denegado", "denegada", "negado", "negada",
    "no procede", "improcedente", "invalido", "rejete", "rejetee", "refuse", "refusee", "non",
    "rejeitado", "rejeitada", "recusado", "recusada", "indeferido", "nao", "0")
_KNOWN = {fold(w): AnswerResult.ACCEPTED for w in ACCEPTED_WORDS} | {
    fold(w): AnswerResult.REJECTED for w in REJECTED_WORDS}
SCAN_ROWS = 20


def words(text: str | None) -> list[str]:
    """A comma (or semicolon, slash, line) list of result words, folded, in order, once each."""
    found: list[str] = []
    for part in (text or "").replace(";", ",").replace("/", ",").replace("\n", ",").split(","):
        word = fold(part)
        if word and word not in found:
            found.append(word)
    return found


def guess_role(header: str | None) -> tuple[AnswerRole | None, bool]:
    """(role, exact) that a header names, or (None, False)."""
    key = header_key(header)
    if not key:
        return None, False
    if key in _EXACT:
        return _EXACT[key], True
    padded = f" {key} "
    for alias, role in _PARTIAL:
        if f" {alias} " in padded:
            return role, False
    return None, False


def find_header_row(rows: Sequence[Sequence[str]]) -> int:
    """The index of the header row: among the first rows, the one whose cells name the most
    roles (a title such as "CAJA COSTARRICENSE DE SEGURO SOCIAL — Respuesta" names none);
    else the first row that has anything in it."""
    best, best_score = None, 0
    for index, row in enumerate(rows[:SCAN_ROWS]):
        roles = {guess_role(cell)[0] for cell in row if cell and not _has_digit(cell)}
        roles.discard(None)
        if len(roles) > best_score:
            best, best_score = index, len(roles)
    if best is not None and best_score >= 2:
        return best
    return next((i for i, row in enumerate(rows) if any(row)), 0)


def _has_digit(text: str) -> bool:
    return any(c in "0123456789" for c in text)


def propose_columns(headers: Sequence[str],
                    remembered: dict[str, str | None] | None = None
                    ) -> dict[AnswerRole, str | None]:
    """Role → header: what this agreement's last file used where this file has the same
    header, else what the headers say; a header plays one part only (an exact name wins over
    a partial one, then the leftmost)."""
    present = {fold(h): h for h in headers if h}
    chosen: dict[AnswerRole, str | None] = {role: None for role in AnswerRole}
    taken: set[str] = set()
    for role, header in (remembered or {}).items():
        if header and fold(header) in present and role in chosen:
            chosen[AnswerRole(role)] = present[fold(header)]
            taken.add(fold(header))
    guesses = [(not exact, index, role, header)
               for index, header in enumerate(headers) if header
               for role, exact in [guess_role(header)] if role is not None]
    for _partial, _index, role, header in sorted(guesses):
        if chosen[role] is None and fold(header) not in taken:
            chosen[role] = header
            taken.add(fold(header))
    return chosen


def is_complete(columns: dict[AnswerRole, str | None]) -> bool:
    return bool(columns.get(R.RESULT)) and any(columns.get(k) for k in KEYS)


def meaning(word: str, accepted: Iterable[str] = (), rejected: Iterable[str] = ()
            ) -> AnswerResult | None:
    """What a result word means: as the agreement's mapping says, else as institutions
    usually write it; None when it is neither."""
    key = fold(word)
    if key in set(accepted):
        return AnswerResult.ACCEPTED
    if key in set(rejected):
        return AnswerResult.REJECTED
    return _KNOWN.get(key)


def propose_meanings(values: Iterable[str], accepted: Iterable[str] = (),
                     rejected: Iterable[str] = ()) -> dict[str, AnswerResult | None]:
    """Each distinct result word of the file (folded) → its proposed meaning."""
    accepted, rejected = list(accepted), list(rejected)
    found: dict[str, AnswerResult | None] = {}
    for value in values:
        key = fold(value)
        if key and key not in found:
            found[key] = meaning(key, accepted, rejected)
    return found
