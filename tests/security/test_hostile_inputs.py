"""Issue 15, item 6: a superscript digit ("²") or another non-ASCII digit in any input of a
page, and a hostile `next` after login or the language switch, are refused safely: never a
500, never a redirect off the site or a header split."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from coopreg.core.text import ascii_digits
from tests.access_levels import LOGIN, PUBLIC
from tests.conftest import PASSWORD, login
from tests.core.test_access_matrix import ACCESS, _ids_in

PACKAGE = Path(__file__).resolve().parents[2] / "coopreg"
# every name a view reads from the address, found in the code, plus the filters' fields
READ = re.compile(r"""(?:args|source|values)\.get(?:list)?\(\s*["']([a-zA-Z_]+)["']""")
NAMES = sorted({name for path in PACKAGE.rglob("*.py") for name in READ.findall(
    path.read_text(encoding="utf-8"))} | {
    "q", "after", "before", "page", "days", "periods", "sort", "sector", "sex", "locality",
    "status", "kind", "agreement_id", "member_id", "period", "month", "as_of", "format",
    "collected_on", "through", "start", "number", "receipt_number", "entity_id", "run_id"})
ODD_DIGITS = ["²", "1٢"]


def test_ascii_digits_is_the_only_digit_check():
    assert ascii_digits("0123") and not ascii_digits("") and not ascii_digits("²")
    assert not ascii_digits("١٢") and not ascii_digits("３") and not ascii_digits("-1")
    offenders = [f"{path.relative_to(PACKAGE.parent)}:{n}"
                 for path in PACKAGE.rglob("*.py")
                 for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
                 if re.search(r"\.is(?:digit|decimal|numeric)\(\)", line)
                 and path.name != "text.py"]  # where ascii_digits itself is defined
    assert offenders == [], "use coopreg.core.text.ascii_digits: " + ", ".join(offenders)


@pytest.mark.parametrize("role", ["admin", "treasurer", "viewer"])
def test_non_ascii_digits_in_every_get_input_never_give_a_500(app, client, coop, make_user,
                                                             make_member, role):
    ids = _ids_in(app, coop, make_member, make_user)
    _uid, email = make_user(coop, role)
    login(client, email, cooperative=coop)
    from flask import url_for
    tried = 0
    with app.test_request_context():
        urls = [(rule.endpoint, url_for(rule.endpoint, **{a: ids[a] for a in rule.arguments}))
                for rule in app.url_map.iter_rules()
                if "GET" in rule.methods and rule.endpoint not in ("static", "auth.logout")
                and rule.endpoint in ACCESS  # the API's routes: tests/api/test_api_schema
                and (ACCESS[rule.endpoint] in (PUBLIC, LOGIN)
                     or role in ACCESS[rule.endpoint])]
    for endpoint, url in urls:
        for odd in ODD_DIGITS:
            response = client.get(url, query_string={name: odd for name in NAMES})
            assert response.status_code < 500, (endpoint, odd)
            tried += 1
        for name in ("q", "after", "agreement_id"):  # alone, so no other input stops it first
            response = client.get(url, query_string={name: "²"})
            assert response.status_code < 500, (endpoint, name)
    assert tried > 40


def test_receipts_search_with_a_superscript_digit(client, as_role):
    assert as_role("treasurer").get("/contributions/receipts?q=²").status_code == 200


HOSTILE_NEXT = ["/members/\r\nSet-Cookie: x=1", "/\nfoo", "\r\n/members/", "//evil.example",
                "/\\evil.example", "/\\/evil.example", "https://evil.example/",
                "/%0d%0aSet-Cookie:x=1", "javascript:alert(1)", "/\t/evil.example",
                " /members/", "/members/\x00", "\\\\evil.example"]


def _safe_location(response) -> str:
    assert response.status_code == 302
    location = response.headers["Location"]
    assert "\r" not in location and "\n" not in location and "\\" not in location
    parts = urlsplit(location)
    assert parts.netloc in ("", "localhost"), location
    assert not parts.path.startswith("//"), location
    assert "Set-Cookie" not in str(response.headers.getlist("Set-Cookie")).replace(
        "session", "")
    return location


@pytest.mark.parametrize("target", HOSTILE_NEXT)
def test_hostile_next_after_login_is_refused_safely(client, coop, make_user, target):
    _uid, email = make_user(coop, "secretary")
    response = client.post("/login", query_string={"next": target},
                           data={"email": email, "password": PASSWORD})
    assert _safe_location(response) in ("/", "http://localhost/")


@pytest.mark.parametrize("target", HOSTILE_NEXT)
def test_hostile_next_on_the_language_switch_is_refused_safely(client, coop, make_user,
                                                               target):
    _uid, email = make_user(coop, "secretary")
    login(client, email, cooperative=coop)
    response = client.post("/account/language", data={"locale": "es", "next": target})
    assert _safe_location(response).endswith("/account")
    assert client.get("/account").status_code == 200  # the session is still sound


@pytest.mark.parametrize("target", ["/members/?q=Ana", "/contributions/receipts"])
def test_a_plain_path_is_still_followed(client, coop, make_user, target):
    _uid, email = make_user(coop, "treasurer")
    response = client.post("/login", query_string={"next": target},
                           data={"email": email, "password": PASSWORD})
    assert response.headers["Location"].endswith(target)
