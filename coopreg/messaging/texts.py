"""The default wording of each event's message in each language (a cooperative may write its
own: `MessageTemplate`), and the one way a template is filled: `{name}`-style placeholders
replaced by the message's parameters, nothing else evaluated (an admin's template is text,
never code). Messages are short: an SMS holds 160 characters."""

from __future__ import annotations

import re
from typing import Any

from coopreg.messaging.models import MessageEvent

E = MessageEvent
PLACEHOLDERS: dict[MessageEvent, tuple[str, ...]] = {
    E.RECEIPT_RECORDED: ("name", "cooperative", "number", "amount", "date"),
    E.REGISTRATION_REGISTERED: ("name", "cooperative", "scheme", "number", "date"),
    E.REGISTRATION_REJECTED: ("name", "cooperative", "scheme", "reason", "contact"),
    E.DUE_SOON: ("name", "cooperative", "amount", "date", "scheme"),
    E.ARREARS: ("name", "cooperative", "amount", "contact"),
    E.ONE_TIME_CODE: ("cooperative", "code", "minutes"),
}

# What a preview fills the placeholders with.
SAMPLE = {"name": "Ana Pérez", "cooperative": "Coopeagri", "number": "1042",
          "amount": "12 500,00", "date": "2026-12-15", "scheme": "IVM", "reason": "ID unreadable",
          "contact": "+506 2222 0000", "code": "483920", "minutes": "10"}

DEFAULTS: dict[MessageEvent, dict[str, tuple[str, str]]] = {
    E.RECEIPT_RECORDED: {
        "en": ("Payment received", "{cooperative}: {name}, we received {amount} on {date} "
               "(receipt {number}). Thank you."),
        "es": ("Pago recibido", "{cooperative}: {name}, recibimos {amount} el {date} "
               "(recibo {number}). Gracias."),
        "fr": ("Paiement reçu", "{cooperative} : {name}, nous avons reçu {amount} le {date} "
               "(reçu {number}). Merci."),
        "pt": ("Pagamento recebido", "{cooperative}: {name}, recebemos {amount} em {date} "
               "(recibo {number}). Obrigado."),
    },
    E.REGISTRATION_REGISTERED: {
        "en": ("You are registered", "{cooperative}: {name}, you are registered with {scheme} "
               "(number {number}) from {date}."),
        "es": ("Quedó inscrito", "{cooperative}: {name}, quedó inscrito en {scheme} "
               "(número {number}) desde el {date}."),
        "fr": ("Vous êtes affilié", "{cooperative} : {name}, vous êtes affilié à {scheme} "
               "(numéro {number}) depuis le {date}."),
        "pt": ("Inscrição feita", "{cooperative}: {name}, está inscrito em {scheme} "
               "(número {number}) desde {date}."),
    },
    E.REGISTRATION_REJECTED: {
        "en": ("Registration refused", "{cooperative}: {name}, {scheme} refused your "
               "registration: {reason}. Call us: {contact}."),
        "es": ("Inscripción rechazada", "{cooperative}: {name}, {scheme} rechazó su "
               "inscripción: {reason}. Llámenos: {contact}."),
        "fr": ("Affiliation refusée", "{cooperative} : {name}, {scheme} a refusé votre "
               "affiliation : {reason}. Appelez-nous : {contact}."),
        "pt": ("Inscrição recusada", "{cooperative}: {name}, {scheme} recusou a sua "
               "inscrição: {reason}. Ligue-nos: {contact}."),
    },
    E.DUE_SOON: {
        "en": ("Contribution due soon", "{cooperative}: {name}, your {scheme} contribution "
               "of {amount} is due on {date}."),
        "es": ("Cuota por vencer", "{cooperative}: {name}, su cuota de {scheme} de {amount} "
               "vence el {date}."),
        "fr": ("Cotisation à payer", "{cooperative} : {name}, votre cotisation {scheme} de "
               "{amount} est due le {date}."),
        "pt": ("Contribuição a vencer", "{cooperative}: {name}, a sua contribuição {scheme} "
               "de {amount} vence em {date}."),
    },
    E.ARREARS: {
        "en": ("Contributions overdue", "{cooperative}: {name}, you owe {amount} in overdue "
               "contributions; your cover may lapse. Call us: {contact}."),
        "es": ("Cuotas atrasadas", "{cooperative}: {name}, debe {amount} en cuotas atrasadas; "
               "su cobertura puede perderse. Llámenos: {contact}."),
        "fr": ("Cotisations en retard", "{cooperative} : {name}, vous devez {amount} de "
               "cotisations en retard ; votre couverture peut cesser. Appelez-nous : "
               "{contact}."),
        "pt": ("Contribuições em atraso", "{cooperative}: {name}, deve {amount} em "
               "contribuições atrasadas; a sua cobertura pode cessar. Ligue-nos: {contact}."),
    },
    E.ONE_TIME_CODE: {
        "en": ("Your code", "{cooperative}: your code is {code}. It works for {minutes} "
               "minutes. Tell it to nobody."),
        "es": ("Su código", "{cooperative}: su código es {code}. Vale {minutes} minutos. "
               "No lo comparta."),
        "fr": ("Votre code", "{cooperative} : votre code est {code}. Il vaut {minutes} "
               "minutes. Ne le donnez à personne."),
        "pt": ("O seu código", "{cooperative}: o seu código é {code}. Vale {minutes} "
               "minutos. Não o partilhe."),
    },
}

_PLACEHOLDER = re.compile(r"\{([a-z_]{1,20})\}")


def default_text(event: MessageEvent, language: str) -> tuple[str, str]:
    texts = DEFAULTS[MessageEvent(event)]
    return texts.get(language) or texts["en"]


def unknown_placeholders(event: MessageEvent, text: str) -> list[str]:
    """The `{names}` of a template that its event does not fill (a typing slip)."""
    allowed = set(PLACEHOLDERS[MessageEvent(event)])
    return sorted({name for name in _PLACEHOLDER.findall(text) if name not in allowed})


def fill(text: str, parameters: dict[str, Any]) -> str:
    """The template with each known `{name}` replaced by its parameter; anything else is left
    as written."""
    return _PLACEHOLDER.sub(lambda m: str(parameters[m.group(1)]) if m.group(1) in parameters
                            else m.group(0), text)
