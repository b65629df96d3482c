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

from collections.abc import Callable, Mapping
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
