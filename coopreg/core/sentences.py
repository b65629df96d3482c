"""Sentences kept as a code and its values, said in the reader's language when shown.

What the application writes down for later (a job's result, a line of a registration's
history) is never kept as finished text: a Spanish secretary's job would otherwise greet a
French treasurer in Spanish for ever. It is kept as `{"code": ..., "params": {...}}` and said
when a page or a file shows it (`say`), in the language of whoever reads it.

Each area declares its sentences once, `sentence(code, lambda p: _("…", **p))`: the gettext
call holds the literal message id, so the catalogue's extraction still finds it. Text kept
before codes existed (or typed by a person) is a plain string and is shown as it is.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

Say = Callable[[dict[str, Any]], str]
SENTENCES: dict[str, Say] = {}


def sentence(code: str, say: Say) -> str:
    """Declare how the sentence `code` is said from its values; returns the code."""
    SENTENCES[code] = say
    return code


def kept(code: str, **params: Any) -> dict[str, Any]:
    """A sentence to keep: its code and its values (plain JSON values only)."""
    if code not in SENTENCES:
        raise KeyError(f"no sentence declared for {code!r}")
    return {"code": code, "params": params}


def is_kept(value: Any) -> bool:
    return isinstance(value, Mapping) and "code" in value


def say(value: Any) -> str:
    """A kept sentence in the current language; a plain string as it is; "" for None."""
    if value is None:
        return ""
    if not is_kept(value):
        return str(value)
    speak = SENTENCES.get(value["code"])
    params = value.get("params")
    if speak is None or not isinstance(params or {}, Mapping):
        return str(value["code"])
    try:
        return speak(dict(params or {}))
    except (KeyError, TypeError, ValueError):  # values kept by an older version
        return str(value["code"])


# --- sentences the application said before keeping them -------------------------------------
# A domain error is raised as a finished sentence (`_("…", **values)`, in the language of the
# person or job that broke the rule). What must be kept of it (a job's failure, an import's
# reason) is turned back into its message id and values by reading it against the catalogues:
# `recognise`. It is then said again in each reader's language. Text the catalogues do not
# know (a value a person typed, a message of an older version) is kept as it is, as "text".

TEXT = sentence("text", lambda p: str(p["text"]))


def _say_message(p: dict[str, Any]) -> str:
    from flask_babel import gettext

    values = {name: say(value) if is_kept(value) else value
              for name, value in (p.get("values") or {}).items()}
    return gettext(p["msgid"], **values)


MESSAGE = sentence("message", _say_message)

_PLACEHOLDER = re.compile(r"%\((\w+)\)([sdif])|%%")
# a message id whose fixed words are fewer than this is recognised only when a value inside it
# is itself recognised ("%(label)s: %(problem)s" would match any text with a colon)
_FEW_WORDS = 8


def text_kept(text: str) -> dict[str, Any]:
    """A text kept as it is (shown the same in every language)."""
    return kept(TEXT, text=text)


def _catalogue_dir() -> Path:
    return Path(__file__).resolve().parent.parent / "translations"


@lru_cache(maxsize=8)
def _patterns(language: str) -> tuple[tuple[int, str, re.Pattern, dict[str, str]], ...]:
    """(fixed words, msgid, pattern of its text in `language`, kind of each value), the
    longest first."""
    catalogue: dict[str, str] = {}
    if language == "en":
        from babel.messages.pofile import read_po

        source = _catalogue_dir() / "es" / "LC_MESSAGES" / "messages.po"
        with source.open("rb") as po:
            catalogue = {m.id: m.id for m in read_po(po) if m.id and isinstance(m.id, str)}
    else:
        from babel.support import Translations

        loaded = Translations.load(str(_catalogue_dir()), [language])
        catalogue = {k: v for k, v in getattr(loaded, "_catalog", {}).items()
                     if isinstance(k, str) and k and isinstance(v, str) and v}
    found = []
    for msgid, text in catalogue.items():
        kinds: dict[str, str] = {}
        parts, fixed, position = [], 0, 0
        for match in _PLACEHOLDER.finditer(text):
            parts.append(re.escape(text[position:match.start()]))
            fixed += len(text[position:match.start()].strip())
            position = match.end()
            if match.group(0) == "%%":
                parts.append("%")
                continue
            name, kind = match.group(1), match.group(2)
            if name in kinds:
                parts.append(f"(?P={name})")
            else:
                kinds[name] = kind
                parts.append(rf"(?P<{name}>-?\d+)" if kind == "d" else rf"(?P<{name}>.+?)")
        parts.append(re.escape(text[position:]))
        fixed += len(text[position:].strip())
        if fixed == 0:
            continue
        try:
            pattern = re.compile("".join(parts) + r"\Z", re.DOTALL)
        except re.error:
            continue
        found.append((fixed, msgid, pattern, kinds))
    found.sort(key=lambda item: -item[0])
    return tuple(found)


def recognise(text: str | None, languages: tuple[str, ...] = ("en", "es", "fr", "pt"),
              _depth: int = 0) -> dict[str, Any] | None:
    """The kept sentence that `text` says (its message id and values), read against the
    catalogues of `languages` in turn; a text no catalogue knows is kept as it is."""
    if text is None:
        return None
    if is_kept(text):
        return dict(text)
    text = str(text)
    for language in languages:
        for fixed, msgid, pattern, kinds in _patterns(language):
            match = pattern.match(text)
            if match is None:
                continue
            values: dict[str, Any] = {}
            inner_known = False
            for name, kind in kinds.items():
                value = match.group(name)
                if kind == "d":
                    values[name] = int(value)
                    continue
                inner = recognise(value, languages, _depth + 1) if _depth < 2 else None
                if inner is not None and inner["code"] != TEXT:
                    values[name] = inner
                    inner_known = True
                else:
                    values[name] = value
            if fixed < _FEW_WORDS and not inner_known:
                continue
            return kept(MESSAGE, msgid=msgid, values=values)
    return text_kept(text)


def said_again(text: str | None) -> str:
    """Text kept in a plain column that the application may have written (a receipt's note
    "From statement line 12", the institution's reason "Rejected by the institution (no reason
    given)"), said in the reader's language; a person's own words as they are."""
    if not text:
        return ""
    return say(recognise(text, _reading_order()))


def _reading_order() -> tuple[str, ...]:
    """The catalogues to read a text against: the current language's first."""
    from flask_babel import get_locale

    try:
        locale = get_locale()
    except (RuntimeError, AttributeError):  # outside an app: no language chosen
        locale = None
    first = str(locale.language) if locale is not None else "en"
    return (first,) + tuple(lang for lang in ("en", "es", "fr", "pt") if lang != first)


def kept_error(error: Any) -> dict[str, Any]:
    """What to keep of a domain error (or any message said for people) in place of its
    finished sentence."""
    message = getattr(error, "message", error)
    return recognise(str(message), _reading_order())
