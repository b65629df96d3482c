"""The columns of a member spreadsheet: what they are called (in English, Spanish, French and
Portuguese), and how a cell a person typed becomes the value the member form would receive.

The same columns, with the same headers, make the import template and the register export,
so an exported file imports back unchanged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from coopreg.core.dates import date_cell
from coopreg.core.errors import DomainError
from coopreg.core.spreadsheets import DATE, MONEY, TEXT, cell_text, excel_serial_to_date
from coopreg.core.text import ascii_digits, fold
from coopreg.members.models import CivilStatus, ConsentMethod, Sector, Sex


@dataclass(frozen=True)
class Field:
    key: str          # the member form's field name
    header: str       # the header written in templates and exports (English, stable)
    label: Any        # for people (translated)
    kind: str = TEXT
    required: bool = False
    choices: tuple[str, ...] = ()


FIELDS: tuple[Field, ...] = (
    Field("member_number", "Member number", _l("Member number")),
    Field("first_name", "First name", _l("First name"), required=True),
    Field("middle_name", "Middle name", _l("Middle name")),
    Field("last_name", "Last name", _l("Last name"), required=True),
    Field("second_last_name", "Second last name", _l("Second last name")),
    Field("name_extension", "Name extension", _l("Name extension")),
    Field("mothers_maiden_name", "Mother's maiden name", _l("Mother's maiden name")),
    Field("sex", "Sex", _l("Sex"), required=True, choices=tuple(s.value for s in Sex)),
    Field("date_of_birth", "Date of birth", _l("Date of birth"), kind=DATE, required=True),
    Field("civil_status", "Civil status", _l("Civil status"),
          choices=tuple(c.value for c in CivilStatus)),
    Field("nationality", "Nationality", _l("Nationality")),
    Field("id_type", "ID type", _l("ID type")),
    Field("id_number", "ID number", _l("ID number")),
    Field("tax_number", "Tax number", _l("Tax number")),
    Field("phone", "Phone", _l("Phone")),
    Field("email", "Email", _l("Email")),
    Field("address", "Address", _l("Address")),
    Field("province_code", "Province code", _l("Province code")),
    Field("canton_code", "Canton code", _l("Canton code")),
    Field("district_code", "District code", _l("District code")),
    Field("locality", "Locality", _l("Locality")),
    Field("sector", "Sector", _l("Sector"), required=True,
          choices=tuple(s.value for s in Sector)),
    Field("occupation", "Occupation", _l("Occupation")),
    Field("declared_income", "Declared monthly income", _l("Declared monthly income"),
          kind=MONEY),
    Field("joined_on", "Joined on", _l("Joined on"), kind=DATE, required=True),
    Field("consent_given", "Consent given", _l("Consent given"), choices=("yes", "no")),
    Field("consent_date", "Consent date", _l("Consent date"), kind=DATE),
    Field("consent_method", "Consent method", _l("Consent method"),
          choices=tuple(c.value for c in ConsentMethod)),
    Field("notes", "Notes", _l("Notes")),
)
FIELD_BY_KEY = {f.key: f for f in FIELDS}
REQUIRED = tuple(f.key for f in FIELDS if f.required)
# Fields that may get one value for every row that has none (chosen on the mapping page).
DEFAULTABLE = ("sector", "joined_on")

# Written in the template's example row: the importer refuses a row carrying it, so the
# example can never become a member by accident.
EXAMPLE_MARK = "EXAMPLE: delete this row"

# Headers people use, by field (folded: lower case, no accents, punctuation as spaces).
ALIASES: dict[str, tuple[str, ...]] = {
    "member_number": (
        "member number", "member no", "membership number", "no", "n",
        "numero de socio", "no de socio", "n de socio", "no socio", "n socio", "socio",
        "numero socio", "numero de asociado", "no asociado", "asociado", "numero de afiliado",
        "numero d adherent", "no adherent", "n adherent", "numero de membre", "adherent",
        "numero do associado", "n associado", "no associado", "associado", "matricula"),
    "first_name": (
        "first name", "first names", "given name", "given names", "forename",
        "nombre", "nombres", "primer nombre", "prenom", "prenoms", "nome", "primeiro nome",
        "nomes"),
    "middle_name": (
        "middle name", "middle names", "other names", "segundo nombre", "otros nombres",
        "second prenom", "autres prenoms", "nome do meio", "segundo nome"),
    "last_name": (
        "last name", "surname", "family name", "apellido", "apellidos", "primer apellido",
        "apellido paterno", "nom", "nom de famille", "sobrenome", "apelido", "apelidos",
        "ultimo nome"),
    "second_last_name": (
        "second last name", "second surname", "segundo apellido", "apellido materno",
        "deuxieme nom", "segundo sobrenome", "segundo apelido"),
    "sex": ("sex", "gender", "sexo", "genero", "sexe", "genre"),
    "date_of_birth": (
        "date of birth", "birth date", "birthdate", "dob", "born", "born on",
        "fecha de nacimiento", "fecha nacimiento", "f nacimiento", "nacimiento",
        "fecha de nac", "fec nac", "date de naissance", "date naissance", "ne le", "nee le",
        "naissance", "data de nascimento", "data nascimento", "nascimento", "dt nascimento"),
    "id_type": (
        "id type", "type of id", "document type", "tipo de documento", "tipo documento",
        "tipo de identificacion", "tipo de id", "type de piece", "type de document",
        "type de piece d identite", "tipo de documento de identidade"),
    "id_number": (
        "id number", "id", "id no", "national id", "national id number", "identity number",
        "identity card", "cedula", "cedula de identidad", "numero de cedula", "no cedula",
        "n cedula", "no de cedula", "dni", "documento", "numero de documento",
        "no documento", "documento de identidad", "identificacion", "numero de identificacion",
        "cpf", "rg", "curp", "rut", "cuil", "cuit", "nit", "nir", "dimex", "philsys",
        "numero de securite sociale", "cin", "cni", "piece d identite", "numero d identite",
        "numero de piece", "carte d identite", "cc", "cartao de cidadao", "bi",
        "numero de identidade", "identidade", "documento de identidade"),
    "phone": (
        "phone", "phone number", "telephone", "telephone number", "mobile", "mobile phone",
        "cell", "cell phone", "cellphone", "tel", "telefono", "numero de telefono", "celular",
        "movil", "whatsapp", "telephone portable", "portable", "numero de telephone",
        "telefone", "telemovel", "contato", "contacto"),
    "name_extension": (
        "name extension", "extension", "suffix", "ext", "sufijo", "extension del nombre",
        "suffixe", "sufixo"),
    "mothers_maiden_name": (
        "mother s maiden name", "mothers maiden name", "maiden name of mother",
        "nombre de soltera de la madre", "apellido de soltera de la madre",
        "nom de jeune fille de la mere", "nome de solteira da mae"),
    "civil_status": (
        "civil status", "marital status", "estado civil", "etat civil",
        "situation matrimoniale", "situation familiale"),
    "nationality": ("nationality", "citizenship", "nacionalidad", "nationalite",
                    "nacionalidade", "pais de nacionalidad"),
    "tax_number": (
        "tax number", "tax id", "tin", "taxpayer number", "numero de contribuyente",
        "numero fiscal", "nif", "numero d identification fiscale", "numero fiscal",
        "numero de identificacao fiscal", "ruc", "rfc"),
    "email": ("email", "e mail", "email address", "correo", "correo electronico",
              "courriel", "adresse electronique", "adresse e mail", "e mail address"),
    "province_code": ("province code", "codigo de provincia", "codigo provincia",
                      "cod provincia", "code province", "codigo da provincia"),
    "canton_code": ("canton code", "codigo de canton", "codigo canton", "cod canton",
                    "code canton", "codigo do cantao"),
    "district_code": ("district code", "codigo de distrito", "codigo distrito",
                      "cod distrito", "code district", "codigo do distrito"),
    "address": (
        "address", "home address", "street address", "direccion", "domicilio", "senas",
        "adresse", "endereco", "morada"),
    "locality": (
        "locality", "town", "city", "village", "community", "district", "localidad",
        "comunidad", "canton", "distrito", "municipio", "ciudad", "pueblo", "poblado",
        "localite", "commune", "ville", "quartier", "localidade", "cidade", "bairro",
        "aldeia", "comunidade"),
    "sector": (
        "sector", "activity sector", "sector of activity", "activity", "sector de actividad",
        "actividad", "rubro", "secteur", "secteur d activite", "activite", "setor",
        "setor de atividade", "atividade", "ramo"),
    "occupation": (
        "occupation", "job", "trade", "work", "ocupacion", "oficio", "profesion", "trabajo",
        "profession", "metier", "emploi", "ocupacao", "profissao"),
    "declared_income": (
        "declared monthly income", "declared income", "income", "monthly income",
        "ingreso", "ingresos", "ingreso mensual", "ingreso declarado", "ingresos mensuales",
        "salario", "revenu", "revenus", "revenu mensuel", "revenu declare", "renda",
        "renda mensal", "rendimento", "rendimento mensal", "salario mensal"),
    "joined_on": (
        "joined on", "joined", "joining date", "date joined", "membership date",
        "date of joining", "admission date", "fecha de ingreso", "fecha ingreso",
        "fecha de afiliacion", "fecha afiliacion", "fecha de alta", "fecha de adhesion",
        "afiliacion", "date d adhesion", "date adhesion", "date d entree", "adhesion",
        "data de adesao", "data de ingresso", "data de entrada", "data de filiacao", "adesao"),
    "consent_given": (
        "consent given", "consent", "consents", "consentimiento", "consiente",
        "autoriza", "consentement", "consentimento", "autorizacao"),
    "consent_date": (
        "consent date", "date of consent", "fecha de consentimiento", "fecha consentimiento",
        "date du consentement", "date de consentement", "data do consentimento",
        "data de consentimento"),
    "consent_method": (
        "consent method", "how consent was given", "metodo de consentimiento",
        "forma de consentimiento", "mode de consentement", "forme du consentement",
        "forma de consentimento", "metodo de consentimento"),
    "notes": (
        "notes", "note", "comments", "comment", "remarks", "observations", "observaciones",
        "notas", "comentarios", "remarques", "commentaires", "observacoes", "obs"),
}

_NON_WORD = re.compile(r"[^0-9a-z]+")


def header_key(text: Any) -> str:
    """A header as compared: folded, punctuation as single spaces ("Fecha de nacimiento:"
    and "FECHA DE NACIMIENTO" are the same key)."""
    return _key_of_text(cell_text(text))


@lru_cache(maxsize=8192)
def _key_of_text(text: str) -> str:
    # cached: an import asks for the key of the same few words ("female", "yes") on every row
    return _NON_WORD.sub(" ", fold(text)).strip()[:200]


_EXACT: dict[str, str] = {}
for _key, _aliases in ALIASES.items():
    for _alias in _aliases:
        _EXACT.setdefault(header_key(_alias), _key)
for _field in FIELDS:
    _EXACT.setdefault(header_key(_field.header), _field.key)
# Longer aliases first, so "segundo apellido" wins over "apellido" inside a longer header.
_PARTIAL = sorted(((alias, key) for alias, key in _EXACT.items()
                   if " " in alias or len(alias) >= 5), key=lambda item: -len(item[0]))


_TRANSLATED: dict[str, dict[str, str]] | None = None


def _translated() -> dict[str, dict[str, str]]:
    """The headers and words coopreg itself writes in its templates and exports, in every
    language it speaks ("Fecha de nacimiento", "Agricultura", "Formulario firmado"), so a
    file exported in Spanish imports back in any language. Made once, inside the app."""
    global _TRANSLATED
    if _TRANSLATED is None:
        from flask import has_app_context
        from flask_babel import force_locale

        from coopreg.core.labels import enum_types
        from coopreg.core.languages import LANGUAGES

        if not has_app_context():
            return {"headers": {}}
        found: dict[str, dict[str, str]] = {"headers": {}, "sex": {}, "sector": {},
                                            "consent_method": {}, "civil_status": {}}
        enums = {"sex": Sex, "sector": Sector, "consent_method": ConsentMethod,
                 "civil_status": CivilStatus}
        labels = enum_types()
        for language in LANGUAGES:
            with force_locale(language):
                for spec in FIELDS:
                    found["headers"].setdefault(header_key(str(spec.label)), spec.key)
                for field, enum_type in enums.items():
                    for member, text in labels.get(enum_type, {}).items():
                        found[field].setdefault(header_key(str(text)), member.value)
        _TRANSLATED = found
    return _TRANSLATED


def guess_field(header: Any) -> tuple[str | None, bool]:
    """(field, exact) that a header names: an exact alias (or a header coopreg writes, in any
    of its languages), else the longest alias found as whole words inside it ("Fecha de
    nacimiento (dd/mm/aaaa)"), else (None, False)."""
    key = header_key(header)
    if not key:
        return None, False
    if key in _EXACT:
        return _EXACT[key], True
    if key in _translated()["headers"]:
        return _translated()["headers"][key], True
    padded = f" {key} "
    for alias, field in _PARTIAL:
        if f" {alias} " in padded:
            return field, False
    return None, False


# ---- values -----------------------------------------------------------------------------------

def _synonyms(table: dict[str, tuple[str, ...]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for value, words in table.items():
        out[header_key(value)] = value
        for word in words:
            out[header_key(word)] = value
    return out


# Single letters follow the common use: F = female, M = male (masculino), H = hombre/homme.
SEX_WORDS = _synonyms({
    "female": ("f", "fem", "woman", "w", "femenino", "femenina", "mujer", "feminin",
               "feminine", "femme", "feminino", "mulher"),
    "male": ("m", "masc", "man", "masculino", "hombre", "varon", "h", "masculin", "homme",
             "homem"),
    "other": ("x", "otro", "otra", "autre", "outro", "outra", "non binary", "no binario",
              "non binaire", "nao binario"),
})
SECTOR_WORDS = _synonyms({
    "agriculture": ("agricultura", "agricola", "farming", "farmer", "agriculteur", "agro"),
    "home_based_work": ("home based work", "home-based work", "trabajo a domicilio",
                        "trabajo en casa", "travail a domicile", "trabalho em domicilio",
                        "trabalho domiciliar"),
    "waste_picking": ("waste picking", "reciclaje", "recicladores", "reciclador", "recyclage",
                      "recuperation", "reciclagem", "catadores", "catador"),
    "street_vending": ("street vending", "venta ambulante", "comercio ambulante",
                       "vendedor ambulante", "vente de rue", "commerce ambulant",
                       "venda ambulante", "comercio de rua"),
    "domestic_work": ("domestic work", "trabajo domestico", "trabajadora domestica",
                      "travail domestique", "trabalho domestico", "empregada domestica"),
    "transport": ("transporte", "transports"),
    "arts_and_culture": ("arts and culture", "arte y cultura", "artes", "arts et culture",
                         "arte e cultura", "cultura"),
    "platform_work": ("platform work", "trabajo en plataformas", "plataformas",
                      "travail de plateforme", "trabalho em plataformas"),
    "care": ("cuidados", "cuidado", "soins", "cuidadora"),
    "fishing": ("pesca", "peche", "pescador", "pescadores"),
    "crafts": ("artesania", "artesanias", "artesano", "artisanat", "artesanato", "handicrafts"),
    "other": ("otro", "otros", "autre", "autres", "outro", "outros"),
})
CONSENT_METHOD_WORDS = _synonyms({
    "signed_form": ("signed form", "formulario firmado", "firma", "firmado",
                    "formulaire signe", "signe", "formulario assinado", "assinado"),
    "thumbprint": ("huella", "huella digital", "empreinte", "empreinte digitale",
                   "impressao digital", "digital print"),
    "verbal_witnessed": ("verbal witnessed", "verbal, witnessed", "verbal con testigo",
                         "verbal", "verbal avec temoin", "verbal com testemunha"),
    "digital": ("electronico", "electronique", "eletronico", "online", "en linea"),
})
CIVIL_STATUS_WORDS = _synonyms({
    "single": ("soltero", "soltera", "celibataire", "solteiro", "solteira", "s"),
    "married": ("casado", "casada", "marie", "mariee", "c"),
    "common_law": ("common law", "union libre", "union de hecho", "conviviente",
                   "concubinage", "uniao estavel", "live in"),
    "separated": ("separado", "separada", "separe", "separee"),
    "divorced": ("divorciado", "divorciada", "divorce", "divorcee"),
    "widowed": ("widow", "widower", "viudo", "viuda", "veuf", "veuve", "viuvo", "viuva"),
})
YES_NO = _synonyms({
    "yes": ("y", "si", "s", "oui", "sim", "true", "verdadero", "vrai", "verdadeiro", "1",
            "x", "ok"),
    "no": ("n", "non", "nao", "false", "falso", "faux", "0"),
})

ENUM_WORDS = {"sex": SEX_WORDS, "sector": SECTOR_WORDS, "consent_method": CONSENT_METHOD_WORDS,
              "civil_status": CIVIL_STATUS_WORDS}


def enum_value(field: str, value: Any) -> str:
    """The stored value for a word people use ("Femenino" → "female"); an unknown word is
    returned as typed, so the member form's own message explains the accepted values."""
    text = cell_text(value)
    key = header_key(text)
    found = ENUM_WORDS[field].get(key)
    if found is None:
        found = _translated().get(field, {}).get(key)
    return found if found is not None else text


def yes_no(value: Any, label: str) -> bool:
    if isinstance(value, bool):
        return value
    text = cell_text(value)
    if not text:
        return False
    answer = YES_NO.get(header_key(text))
    if answer is None:
        raise DomainError(_("%(label)s: “%(value)s” is neither yes nor no.", label=label,
                            value=text))
    return answer == "yes"


# ---- dates --------------------------------------------------------------------------------

_ISO = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?")
_DAY_FIRST = re.compile(r"(\d{1,2})([-/.])(\d{1,2})\2(\d{2,4})(?: \d{1,2}:\d{2}(?::\d{2})?)?")
_SERIAL = re.compile(r"\d{5,7}(?:\.\d+)?")
# Excel serials from 1927-05-18 (10000) to 9999-12-31: five digits or more, never a year.
_SERIAL_RANGE = (10_000, 2_958_465)


def parse_date(value: Any, label: str) -> date | None:
    """A date as people keep it in spreadsheets: a real spreadsheet date; ISO "1980-05-17";
    day first "17/05/1980", "17-05-1980", "17.05.1980" (the day always comes first, as in
    the cooperatives' locales); or an Excel serial number (29358) as CSV files carry them.
    Two-digit years, a year alone, a month first and anything else are refused with a reason
    rather than guessed."""
    if value is None or value == "":
        return None
    if (held := date_cell(value)) is not None:
        return held
    if isinstance(value, bool):
        raise DomainError(_("%(label)s: “%(value)s” is not a date.", label=label,
                            value=cell_text(value)))
    if isinstance(value, int | float):
        if _SERIAL_RANGE[0] <= value <= _SERIAL_RANGE[1]:
            return excel_serial_to_date(value)
        if 1000 <= value <= 9999:
            raise DomainError(_("%(label)s: %(value)s is only a year; give the full date.",
                                label=label, value=cell_text(value)))
        raise DomainError(_("%(label)s: the number %(value)s is not a date.", label=label,
                            value=cell_text(value)))
    if isinstance(value, timedelta):
        raise DomainError(_("%(label)s: a duration is not a date.", label=label))
    text = cell_text(value)
    match = _ISO.fullmatch(text)
    if match:
        year, month, day = (int(g) for g in match.groups())
        return _make_date(year, month, day, text, label)
    match = _DAY_FIRST.fullmatch(text)
    if match:
        day, month, year_text = int(match.group(1)), int(match.group(3)), match.group(4)
        if len(year_text) != 4:
            raise DomainError(_("%(label)s: “%(value)s” — write the year with four digits "
                                "(day/month/year).", label=label, value=text))
        return _make_date(int(year_text), month, day, text, label)
    if _SERIAL.fullmatch(text):
        serial = float(text)
        if _SERIAL_RANGE[0] <= serial <= _SERIAL_RANGE[1]:
            return excel_serial_to_date(serial)
    if re.fullmatch(r"\d{4}", text):
        raise DomainError(_("%(label)s: %(value)s is only a year; give the full date.",
                            label=label, value=text))
    raise DomainError(_("%(label)s: “%(value)s” is not a date (write day/month/year, e.g. "
                        "17/05/1980, or 1980-05-17).", label=label, value=text))


def _make_date(year: int, month: int, day: int, text: str, label: str) -> date:
    try:
        return date(year, month, day)
    except ValueError:
        if day <= 12 < month:
            raise DomainError(_("%(label)s: “%(value)s” has no month %(month)d; dates are read "
                                "day first (day/month/year).", label=label, value=text,
                                month=month)) from None
        raise DomainError(_("%(label)s: “%(value)s” is not a real date.", label=label,
                            value=text)) from None


# ---- amounts ----------------------------------------------------------------------------------

_AMOUNT_NOISE = re.compile(r"[\s\u00a0\u202f'$€₡£¢]|[A-Za-z]{3}$|^[A-Za-z]{1,3}\$?")


def amount_text(value: Any) -> str:
    """An amount as the member form expects it ("250000.50"), from a spreadsheet number or
    from text written "250.000,50", "250,000.50", "250 000,50" or "₡250000"."""
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return cell_text(value)
    if isinstance(value, float):
        try:
            return str(Decimal(repr(value)).normalize()) if not value.is_integer() \
                else str(int(value))
        except InvalidOperation:
            return repr(value)
    if isinstance(value, int | Decimal):
        return str(value)
    text = _AMOUNT_NOISE.sub("", cell_text(value))
    if "," in text and "." in text:
        decimal_mark = "," if text.rfind(",") > text.rfind(".") else "."
        thousands = "." if decimal_mark == "," else ","
        text = text.replace(thousands, "").replace(decimal_mark, ".")
    elif "," in text:
        head, _sep, tail = text.rpartition(",")
        if text.count(",") == 1 and len(tail) != 3:
            text = head + "." + tail          # decimal comma: "250,5" / "250,50"
        else:
            text = text.replace(",", "")      # thousands: "250,000" / "1,250,000"
    elif text.count(".") > 1:
        text = text.replace(".", "")          # "1.250.000"
    return text


# ---- IDs ------------------------------------------------------------------------------------

def id_candidates(value: Any) -> list[str]:
    """The ID as typed, then, when it is only digits (a number cell loses its leading
    zeros), the same with one to three zeros put back in front: the first that the
    country's check accepts is kept (see `MemberRowReader`)."""
    text = cell_text(value)
    if not ascii_digits(text):
        return [text]
    return [text] + ["0" * n + text for n in (1, 2, 3)]
