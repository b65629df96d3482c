"""The input errors of the API in the caller's language. marshmallow (through webargs) words
its field errors in English, already formatted ("Must be greater than or equal to 1 and less
than or equal to 500."); each known sentence is read back here with its values and said again
through Flask-Babel. A sentence not listed stays as marshmallow wrote it."""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l

# marshmallow's sentence (its values in braces) → ours, translated in es, fr and pt
SENTENCES = (
    ("Missing data for required field.", _l("This field is required.")),
    ("Field may not be null.", _l("This field may not be null.")),
    ("Unknown field.", _l("This field is not known here.")),
    ("Invalid input type.", _l("The body must be a JSON object.")),
    ("Not a valid integer.", _l("Not a whole number.")),
    ("Not a valid number.", _l("Not a number.")),
    ("Not a valid string.", _l("Not a text.")),
    ("Not a valid boolean.", _l("Not true or false.")),
    ("Not a valid date.", _l("Not a date (year-month-day).")),
    ("Not a valid datetime.", _l("Not a date and time (ISO 8601).")),
    ("Not a valid list.", _l("Not a list.")),
    ("Not a valid mapping type.", _l("Not an object.")),
    ("Not a valid file.", _l("Not a file.")),
    ("Number too large.", _l("The number is too large.")),
    ("Special numeric values (nan or infinity) are not permitted.",
     _l("Not a number (nan or infinity).")),
    ("Must be greater than or equal to {min} and less than or equal to {max}.",
     _l("Must be from %(min)s to %(max)s.")),
    ("Must be greater than or equal to {min}.", _l("Must be %(min)s or more.")),
    ("Must be less than or equal to {max}.", _l("Must be %(max)s or less.")),
    ("Length must be between {min} and {max}.",
     _l("Must have from %(min)s to %(max)s characters.")),
    ("Longer than maximum length {max}.", _l("Must have at most %(max)s characters.")),
    ("Shorter than minimum length {min}.", _l("Must have at least %(min)s characters.")),
    ("Length must be {equal}.", _l("Must have exactly %(equal)s characters.")),
    ("Must be one of: {choices}.", _l("Must be one of: %(choices)s.")),
    ("String does not match expected pattern.", _l("Not in the expected form.")),
)


def _pattern(template: str) -> re.Pattern:
    parts = re.split(r"\{(\w+)\}", template)
    return re.compile("".join(re.escape(part) if i % 2 == 0 else f"(?P<{part}>.+?)"
                              for i, part in enumerate(parts)) + r"\Z")


_READ = tuple((_pattern(english), ours) for english, ours in SENTENCES)


def translate(message: str) -> str:
    """One of marshmallow's sentences in the request's language."""
    for pattern, ours in _READ:
        found = pattern.match(message)
        if found:
            values = found.groupdict()
            return str(ours) % values if values else str(ours)
    return message


def translate_errors(errors):
    """marshmallow's error tree (field → messages, nested fields and list indexes as keys)
    with every sentence translated."""
    if isinstance(errors, dict):
        return {key: translate_errors(value) for key, value in errors.items()}
    if isinstance(errors, list):
        return [translate_errors(value) for value in errors]
    if isinstance(errors, str):
        return translate(errors)
    return errors
