"""The languages coopreg speaks, in one place: its pages, each user's choice, the cooperative's
default and the documents a member takes home. Each is named in itself ("Español"), so a
person finds their own language whatever the page's."""

from __future__ import annotations

from contextlib import contextmanager

from flask_babel import force_locale

LANGUAGE_NAMES = {"en": "English", "es": "Español", "fr": "Français", "pt": "Português"}
LANGUAGES = tuple(LANGUAGE_NAMES)
# The language chosen on the login page, kept by the browser (a year): before anyone logs in,
# and for users who chose none of their own.
LANGUAGE_COOKIE = "coopreg_language"
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600


def language_or_default(language: str | None, default: str = "en") -> str:
    """`language` if coopreg speaks it ("es", "es_CR" → "es"), else `default`."""
    code = (language or "")[:2].lower()
    return code if code in LANGUAGE_NAMES else default


@contextmanager
def speaking(language: str | None):
    """Everything said inside this block (gettext, lazy labels, Babel's numbers and dates) is
    in `language`, with or without a request: a job in the worker, a CLI command."""
    with force_locale(language_or_default(language)):
        yield


def speak_in(language: str | None, function, *args, **kwargs):
    """`function(*args, **kwargs)` said in `language`."""
    with speaking(language):
        return function(*args, **kwargs)


def language_option(command):
    """`--lang`: the language of what the command writes for people (problems, files,
    messages of the services); by default the cooperative's. The command's own report
    lines stay in English, as the rest of the CLI."""
    import click

    return click.option("--lang", "lang", default=None, type=click.Choice(LANGUAGES),
                        help="Language of the problems and files (default: the "
                             "cooperative's).")(command)
