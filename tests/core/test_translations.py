"""Every text a person reads goes through gettext, and Spanish, French and Portuguese are
complete: the suite fails on any English string left in a template or any message without a
translation (the catalogues are compiled from these .po files at build time)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "coopreg"
LANGUAGES = ("es", "fr", "pt")
# words that are the same in every language (names of products, formats and languages)
UNIVERSAL = {"coopreg", "English", "Español", "Français", "Português", "xlsx", "CSV", "Excel",
             "nbsp", "times", "middot", "rarr", "larr", "mdash", "ndash", "hellip", "bull"}


def _untranslated_template_text(text: str) -> list[str]:
    text = re.sub(r"\{#.*?#\}", " ", text, flags=re.S)
    text = re.sub(r"\{\{.*?\}\}", " ", text, flags=re.S)
    text = re.sub(r"\{%.*?%\}", " ", text, flags=re.S)
    text = re.sub(r"<(script|style|code)\b.*?</\1>", " ", text, flags=re.S)
    text = re.sub(r"<!--.*?-->", " ", text, flags=re.S)
    readable = re.findall(r'\b(?:placeholder|title|aria-label|alt)="([^"]*)"', text)
    text = re.sub(r"<[^>]*>", " ", text)
    words = re.findall(r"[A-Za-zÀ-ÿ][A-Za-zÀ-ÿ'’\-]+", " ".join([text, *readable]))
    return [w for w in words if w not in UNIVERSAL]


def test_templates_have_no_text_outside_gettext():
    offenders = {}
    for path in sorted((PACKAGE / "templates").rglob("*.html")):
        words = _untranslated_template_text(path.read_text())
        if words:
            offenders[str(path.relative_to(ROOT))] = words[:10]
    assert offenders == {}, f"text not wrapped in _(): {offenders}"


@pytest.fixture(scope="module")
def messages() -> set[str]:
    method_map = [("**.py", "python"), ("templates/**.html", "jinja2")]
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
            str(PACKAGE), method_map, keywords={"_": None, "gettext": None, "_l": None,
                                                "lazy_gettext": None, "ngettext": (1, 2)}):
        found.add(message if isinstance(message, str) else message[0])
    return {m for m in found if m}


@pytest.mark.parametrize("language", LANGUAGES)
def test_catalogue_translates_every_message(messages, language):
    path = PACKAGE / "translations" / language / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as handle:
        catalogue = read_po(handle)
    translated = {}
    for message in catalogue:
        if not message.id or message.fuzzy:
            continue
        key = message.id if isinstance(message.id, str) else message.id[0]
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if all(strings):
            translated[key] = strings
    missing = sorted(messages - set(translated))
    assert missing == [], (f"{len(missing)} message(s) not translated in {language} — run "
                           f"`make extract-messages` and translate: {missing[:15]}")


@pytest.mark.parametrize("language", LANGUAGES)
def test_translations_keep_their_placeholders(language):
    placeholder = re.compile(r"%\(\w+\)[sd]|%[sd]")
    path = PACKAGE / "translations" / language / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as handle:
        catalogue = read_po(handle)
    wrong = []
    for message in catalogue:
        if not message.id or not message.string:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        expected = sorted(placeholder.findall(ids[-1]))
        for string in strings:
            if sorted(placeholder.findall(string)) != expected and (
                    set(placeholder.findall(string)) != set(expected)):
                wrong.append(ids[0])
    assert wrong == []
