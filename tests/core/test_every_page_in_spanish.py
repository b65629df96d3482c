"""Every page (each GET route of the app, for each role) and every generated spreadsheet, read
by a Spanish-, a French- and a Portuguese-speaking user: no English message left untranslated,
no raw code of an enum.

"Untranslated" is judged against the language's catalogue itself: a message id whose text
differs, found as it is in what the person reads, means some text missed gettext (or was kept
as a finished English sentence). Raw codes: a text of its own equal to the stored code of a
status or kind ("sealed", "partially_acknowledged") where its label says something else.
"""

from __future__ import annotations

import enum
import io
import re
from contextlib import nullcontext
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.mofile import read_mo
from openpyxl import load_workbook

import coopreg
from coopreg.auth.models import User
from coopreg.core.labels import code_groups, code_values, display, enum_types
from coopreg.core.languages import speaking
from coopreg.extensions import db
from tests.access_levels import ALL
from tests.conftest import login
from tests.core.test_access_matrix import ACCESS, _endpoints, _ids_in, _url

LANGUAGES = ("es", "fr", "pt")
CATALOGUES = Path(coopreg.__file__).parent / "translations"
# words that are the same, or proper names, in both languages' pages
SAME = {"Email", "Total", "No", "Error", "CSV", "Excel (.xlsx)", "OK", "Sector", "Local"}
# file formats are names, the same in every language
NAMES = {"csv", "xlsx", "xls", "ods", "txt"}


def _english_ids(language: str = "es") -> list[str]:
    """Message ids of two words or more, without placeholders, whose translation differs."""
    with open(CATALOGUES / language / "LC_MESSAGES" / "messages.mo", "rb") as stream:
        catalogue = read_mo(stream)
    found = []
    for message in catalogue:
        if not message.id or isinstance(message.id, tuple | list) or "%" in message.id:
            continue
        text = message.string if isinstance(message.string, str) else message.string[0]
        if text and text != message.id and len(message.id.split()) >= 2 \
                and message.id not in SAME:
            found.append(message.id)
    return sorted(found, key=len, reverse=True)


ENGLISH_IN = {language: _english_ids(language) for language in LANGUAGES}
ENGLISH = ENGLISH_IN["es"]


def _raw_codes(app=None, language: str = "en") -> set[str]:
    """The stored codes of the label table (enums and plain code groups) whose label in
    `language` says something else: shown as they are, they are a code, not a word ("text"
    where a Spanish page should say "Texto")."""
    codes = set()
    with (app.test_request_context() if app else nullcontext()), \
            (speaking(language) if app else nullcontext()):
        for enum_type, labels in enum_types().items():
            for member in enum_type:
                value = str(member.value)
                if member in labels and str(labels[member]).lower() != value.lower():
                    codes.add(value)
        for group in code_groups():
            for value in code_values(group):
                if display(value, group).lower() != str(value).lower():
                    codes.add(str(value))
    return codes - NAMES


class _Text(HTMLParser):
    """The text a person reads: text nodes and the attributes read aloud or shown."""

    def __init__(self):
        super().__init__()
        self.nodes: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1
        for name, value in attrs:
            if name in ("title", "aria-label", "placeholder", "alt") and value:
                self.nodes.append(value.strip())

    def handle_endtag(self, tag):
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip and data.strip():
            self.nodes.append(" ".join(data.split()))


def _problems(nodes: list[str], codes: set[str], language: str = "es") -> list[str]:
    text = "\n".join(nodes)
    found = [f"untranslated: {m!r}" for m in ENGLISH_IN[language]
             if re.search(r"(?<![\w-])" + re.escape(m) + r"(?![\w-])", text)]
    found += [f"raw code: {n!r}" for n in nodes if n in codes]
    return found


@pytest.mark.parametrize("role", sorted(ALL))
@pytest.mark.parametrize("language", LANGUAGES)
def test_every_page_reads_in_the_users_language(app, client, make_cooperative, make_user,
                                                make_member, language, role):
    """A cooperative of that language (what it sets up and sends is in it) and a user of it:
    a Spanish secretary, a French treasurer, a Portuguese admin and every other role."""
    coop = make_cooperative(f"{language.upper()}PAGES", "CR", "CRC",
                            name="Cooperativa de Prueba", locale=language)
    ids = _ids_in(app, coop, make_member, make_user)
    user_id, email = make_user(coop, role)
    with app.app_context():
        db.session.get(User, user_id).locale = language
        db.session.commit()
    login(client, email, cooperative=coop)
    codes = _raw_codes(app, language)
    problems = {}
    checked = 0
    for endpoint, rule in _endpoints(app).items():
        if "GET" not in rule.methods or endpoint in ("auth.logout", "core.health"):
            continue
        if endpoint == "api_docs.docs":
            continue  # quotes the OpenAPI document, written for developers in English (and
            # marked lang="en"); the page's own words are checked by tests/api/test_api_docs
        if ACCESS[endpoint] not in ("public", "login") and role not in ACCESS[endpoint]:
            continue
        response = client.get(_url(app, rule, ids))
        kind = response.headers.get("Content-Type", "")
        if response.status_code != 200:
            continue
        checked += 1
        if kind.startswith("text/html"):
            parser = _Text()
            parser.feed(response.get_data(as_text=True))
            found = _problems(parser.nodes, codes, language)
        elif "spreadsheetml" in kind:
            found = _problems(_cells(response.data), codes, language)
        else:
            found = []
        response.close()
        if found:
            problems[endpoint] = found
    assert checked > 25, checked  # the viewer reads the fewest pages
    assert problems == {}, "\n".join(f"{k}: {v}" for k, v in problems.items())


def _cells(data: bytes) -> list[str]:
    workbook = load_workbook(io.BytesIO(data), read_only=True)
    nodes = list(workbook.sheetnames)
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows(values_only=True):
            nodes += [str(v).strip() for v in row if isinstance(v, str) and v.strip()]
    return nodes


def test_a_code_is_judged_against_its_label_in_the_readers_language(app):
    """"text" is also the English label of a column type ("Text"): on a Spanish page it is a
    code left where "Texto" belongs; plain code groups count too (an alignment "left")."""
    assert "text" not in _raw_codes()
    assert {"text", "left", "upper", "blocking"} <= _raw_codes(app, "es")


def test_the_checks_themselves_find_english_and_codes():
    assert "Show everything" in ENGLISH
    assert _problems(["Mostrar todo", "Show everything"], {"sealed"}) == [
        "untranslated: 'Show everything'"]
    assert isinstance(next(iter(enum_types())), enum.EnumMeta)
