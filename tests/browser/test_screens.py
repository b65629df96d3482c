"""Every page, every role, a phone and a laptop: the screens crawl.

The live server holds the demo cooperatives (40 members each) plus one object of every kind the
routes take (the access matrix's `make_ids` of each area). For each role of CRAGRO the crawl
visits every GET page of the route list the role may open, at 360 px and at 1,366 px, and fails on
- a page that scrolls sideways (its own width larger than the window),
- a text or a button whose colour on its background is below WCAG AA (4.5:1, 3:1 for large text),
  computed in the browser from the computed styles,
- a form of an irreversible action without its confirmation step (a required "I understand"
  checkbox named `confirmed`, which the server also demands),
- at 360 px, a list's table that scrolls sideways inside its own box (lists become cards on
  phones; SCROLL_AT_PHONE names the exceptions and why).
Screenshots of every page at both widths go to test-artifacts/screenshots/screens-*.png."""

from __future__ import annotations

import itertools
import re
from datetime import date
from urllib.parse import urlsplit

import pytest

from coopreg.auth import services as auth_services
from coopreg.core.audit import acting_as
from coopreg.core.confirm import irreversible_endpoints
from coopreg.extensions import db
from coopreg.members import services as member_services
from tests.area_access import AREA_MODULES
from tests.browser.fixtures import screenshot
from tests.conftest import PASSWORD, member_data
from tests.core.test_access_matrix import ACCESS

pytestmark = [pytest.mark.browser, pytest.mark.no_transaction]

DEMO_PASSWORD = "coopreg-demo-2026"
ROLES = {
    "admin": "admin@demo.coop",
    "secretary": "secretaria@cragro.demo",
    "treasurer": "tesorero@cragro.demo",
    "viewer": "viewer@cragro.demo",
    # the demo's federation of the Costa Rican cooperatives (coopreg/federations/demo.py)
    "federation_admin": "admin@fedcr.demo",
    "federation_analyst": "analyst@fedcr.demo",
    # the institution's desk of the CCSS (the Costa Rican agreements send through it)
    "institution": "desk@ccss.demo",
    # the platform admin (coopreg/federations/demo.py): every federation and desk account
    "platform_admin": "platform@federations.demo",
}
WIDTHS = (360, 1366)
# Answers that are not pages: files, JSON, health probe, the login and logout themselves.
NOT_PAGES = {"core.health", "batches.download", "jobs.download", "jobs.job_status",
             "imports.problems", "imports.template", "contributions.member_search",
             "auth.login", "static", "contributions.reconciliation_xlsx",
             # an invitation's link is for the person invited, logged out (a logged-in person
             # with another email gets 404); tests/cooperatives/test_users.py covers it
             "auth.join",
             # the API's spec is JSON for machines (its reference page is a screen, checked)
             "api-docs.openapi_json"}
# The irreversible actions: each must be declared to the server (coopreg.core.confirm) and each
# form posting to one must carry its confirmation step. Listed here so that dropping the
# declaration of one fails this test too.
MUST_CONFIRM = {
    "batches.seal", "batches.supersede", "batches.discard", "batches.discard_ack",
    "batches.apply_ack", "batches.mark_sent", "batches.delete_layout",
    "contributions.close_period", "contributions.reverse_receipt",
    "contributions.acknowledge_remittance", "agreements.transition", "admin.remove_user",
    "members.remove_dependant", "imports.commit", "contributions.write_off",
    "auth.revoke_api_token",
    "contributions.write_off_member", "contributions.reverse_third_party_payment",
    "federations.revoke_role", "federations.disable_desk_account", "platform.revoke_role",
    "platform.disable_desk_account",
}
# Pages whose tables must fit a laptop (1,366 px) whole, without scrolling inside their box.
FIT_AT_LAPTOP = {"contributions.reconciliation"}
# On a phone (360 px) every list becomes cards ({% filter cards %}, core/cards.py) and no table
# scrolls sideways inside its own box, except these, each for its reason:
SCROLL_AT_PHONE = {
    # the reconciliation is a grid of figures read across: each month's due, paid, remitted
    # and acknowledged side by side with their differences on a row under them; as cards a
    # month's figures would no longer line up with the month before. Its key column (the
    # period) stays in view while the figures scroll.
    "contributions.reconciliation",
}
# Pages that show one agreement chosen with ?agreement_id=: the demo's, which has figures.
BY_AGREEMENT = {"contributions.reconciliation", "contributions.remittances",
                "contributions.collection_sheet", "contributions.arrears"}
_codes = itertools.count(1)
SHOT: set[str] = set()

CONTRAST_JS = r"""
() => {
  const parse = (c) => {
    const m = c.match(/rgba?\(([^)]+)\)/);
    if (!m) return null;
    const p = m[1].split(/[ ,\/]+/).filter(Boolean).map(Number);
    return {r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1};
  };
  const lum = (c) => {
    const f = (v) => {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
    };
    return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b);
  };
  const over = (top, under) => ({
    r: top.r * top.a + under.r * (1 - top.a), g: top.g * top.a + under.g * (1 - top.a),
    b: top.b * top.a + under.b * (1 - top.a), a: 1});
  const background = (el) => {
    const layers = [];
    for (let e = el; e; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c && c.a > 0) { layers.push(c); if (c.a >= 1) break; }
    }
    let bg = {r: 255, g: 255, b: 255, a: 1};
    for (let i = layers.length - 1; i >= 0; i--) bg = over(layers[i], bg);
    return bg;
  };
  const failures = [];
  const seen = new Set();
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    if (!node.textContent.trim()) continue;
    const el = node.parentElement;
    if (!el || seen.has(el)) continue;
    if (el.closest('svg, option, script, style, [hidden], .visually-hidden')) continue;
    seen.add(el);
    const style = getComputedStyle(el);
    const box = el.getBoundingClientRect();
    if (style.visibility === 'hidden' || style.display === 'none') continue;
    if (box.width === 0 || box.height === 0) continue;
    if (box.right < 0 || box.left < -900) continue;  // the skip link waits off-screen
    let fg = parse(style.color);
    if (!fg) continue;
    const bg = background(el);
    const opacity = Number(style.opacity);
    fg = over({...fg, a: fg.a * opacity}, bg);
    const l1 = lum(fg), l2 = lum(bg);
    const ratio = (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05);
    const size = parseFloat(style.fontSize);
    const bold = Number(style.fontWeight) >= 700;
    const large = size >= 24 || (bold && size >= 18.66);
    const needed = large ? 3 : 4.5;
    if (ratio < needed) {
      const text = node.textContent.trim().slice(0, 40);
      failures.push(`${el.tagName.toLowerCase()}.${el.className} "${text}" ${ratio.toFixed(2)}:1`);
    }
  }
  return failures.slice(0, 10);
}
"""

WIDEST_JS = r"""
() => {
  const limit = document.documentElement.clientWidth;
  const out = [];
  for (const el of document.body.querySelectorAll('*')) {
    const box = el.getBoundingClientRect();
    if (box.right <= limit + 1 || box.width === 0) continue;
    if (el.closest('.table-wrap, .scroll-x')) continue;
    if (Array.from(el.children).some(c => c.getBoundingClientRect().right > limit + 1)) continue;
    const name = `${el.tagName.toLowerCase()}.${el.className || ''}#${el.id || ''}`;
    out.push(`${name} ->${Math.round(box.right)}`);
  }
  return out.slice(0, 4);
}
"""

# a list's table (or the box around it) wider than what it shows: sideways scrolling
TABLE_SCROLL_JS = r"""
() => Array.from(document.querySelectorAll('table.list, .table-wrap'))
  .filter(el => el.getBoundingClientRect().width > 0 && el.scrollWidth - el.clientWidth > 1)
  .map(el => `${el.tagName.toLowerCase()}.${el.className} +${el.scrollWidth - el.clientWidth}px`)
  .slice(0, 3)
"""

FORMS_JS = r"""
() => Array.from(document.querySelectorAll('form'))
  .filter(f => (f.getAttribute('method') || '').toLowerCase() === 'post').map(f => ({
  action: f.getAttribute('action') || location.pathname,
  to: (f.querySelector('[name$=to_status]') || {}).value || null,
  confirmed: !!f.querySelector('input[type=checkbox][name=confirmed][required]'),
}))
"""


def _make_member(app):
    def factory(cooperative, **overrides):
        from tests.conftest import _detached

        with app.app_context(), acting_as(None, "tests"):
            coop = db.session.get(type(cooperative), cooperative.id)
            member = member_services.create_member(coop, member_data(**overrides),
                                                   confirm_duplicate=True)
            db.session.commit()
            return _detached(member)
    return factory


def _make_user(app):
    def factory(cooperative=None, role="secretary", email=None, password=PASSWORD):
        with app.app_context(), acting_as(None, "tests"):
            user = auth_services.create_user(email or f"screens{next(_codes)}@example.org",
                                             "Screens User", password)
            if cooperative is not None:
                auth_services.grant_role(user, cooperative, role)
            db.session.commit()
            return user.id, user.email
    return factory


@pytest.fixture(scope="module")
def site(live_server):
    """The demo plus one of every object, in CRAGRO; the ids every route takes."""
    from coopreg.agreements.models import Agreement, Registration
    from coopreg.auth.models import Membership
    from coopreg.batches.models import Batch
    from coopreg.contributions.models import Receipt
    from coopreg.cooperatives.models import Cooperative, DocumentType
    from coopreg.demo.loader import load_demo
    from coopreg.members.models import Dependant, Member

    app = live_server.app
    with app.app_context(), acting_as(None, "demo"):
        load_demo(member_count=40)
        db.session.commit()
        coop = db.session.scalar(db.select(Cooperative).where(Cooperative.code == "CRAGRO"))
        coop_id = coop.id
    make_member, make_user = _make_member(app), _make_user(app)
    with app.app_context():
        coop = db.session.get(Cooperative, coop_id)
        db.session.expunge(coop)
    member = make_member(coop)
    with app.app_context(), acting_as(None, "tests"):
        dependant = member_services.add_dependant(db.session.get(Member, member.id),
                                                  "Child Name", "child", None, None)
        ids = {"dependant_id": dependant.id, "member_id": member.id,
               "type_id": db.session.scalar(db.select(DocumentType.id).where(
                   DocumentType.cooperative_id == coop_id))}
        db.session.commit()
    _uid, _email = make_user(coop, "viewer")
    with app.app_context():
        ids["membership_id"] = db.session.scalar(db.select(Membership.id).where(
            Membership.user_id == _uid))
    factories = {"make_member": make_member, "make_user": make_user,
                 "member_id": member.id}
    for module in AREA_MODULES:
        ids.update(module.make_ids(app, coop, factories))
    # the demo's own records where they exist: fuller pages than the bare objects
    with app.app_context():
        scoped = lambda model: db.select(model.id).where(  # noqa: E731
            model.cooperative_id == coop_id).order_by(model.id).limit(1)
        agreement_id = db.session.scalar(scoped(Agreement))
        for key, value in (("agreement_id", agreement_id), ("batch_id", db.session.scalar(
                scoped(Batch))), ("receipt_id", db.session.scalar(scoped(Receipt)))):
            if value is not None:
                ids[key] = value
        registration = db.session.scalar(db.select(Registration).where(
            Registration.agreement_id == agreement_id).order_by(Registration.id).limit(1))
        if registration is not None:
            ids["registration_id"] = registration.id
            ids["member_id"] = registration.member_id
            ids["dependant_id"] = db.session.scalar(db.select(Dependant.id).where(
                Dependant.member_id == registration.member_id).limit(1)) or ids["dependant_id"]
    return live_server, ids


def _pages(app, ids, role):
    from flask import url_for

    pages = []
    with app.test_request_context():
        for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.endpoint):
            if rule.endpoint in NOT_PAGES or "GET" not in rule.methods:
                continue
            if rule.endpoint not in ACCESS:  # the API answers JSON to tokens, not pages
                continue
            allowed = ACCESS[rule.endpoint]
            if not isinstance(allowed, str) and role not in allowed:
                continue
            query = {"agreement_id": ids["agreement_id"]} if rule.endpoint in BY_AGREEMENT else {}
            if rule.endpoint == "contributions.collection_sheet":  # the sheet itself, filled
                query["collected_on"] = date.today().isoformat()
            pages.append((rule.endpoint, url_for(
                rule.endpoint, **{a: ids[a] for a in rule.arguments}, **query)))
    return pages


def _log_in(page, url, email):
    page.goto(url + "/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_load_state()
    if "/cooperative" in page.url:
        options = page.locator("select[name=cooperative_id] option")
        for i in range(options.count()):
            if "(CRAGRO)" in options.nth(i).inner_text():
                page.select_option("select[name=cooperative_id]",
                                   value=options.nth(i).get_attribute("value"))
        page.click("main button[type=submit]")
        page.wait_for_load_state()


def _unconfirmed_forms(app, forms) -> list[str]:
    adapter = app.url_map.bind("localhost")
    declared = irreversible_endpoints(app)
    missing = []
    for form in forms:
        path = urlsplit(form["action"]).path
        endpoint, _args = adapter.match(path, method="POST")
        if endpoint not in MUST_CONFIRM and endpoint not in declared:
            continue
        if endpoint == "agreements.transition" and form["to"] not in ("terminated",):
            continue
        if not form["confirmed"]:
            missing.append(f"{endpoint} ({path})")
    return missing


def test_every_irreversible_action_is_declared_to_the_server(app):
    assert MUST_CONFIRM - set(irreversible_endpoints(app)) == set()


@pytest.mark.parametrize("role", sorted(ROLES))
def test_every_page_fits_reads_and_confirms(site, browser, role):
    server, ids = site
    context = browser.new_context(viewport={"width": WIDTHS[-1], "height": 800},
                                  locale="en-US")
    context.set_default_timeout(15_000)
    context.route("**/favicon.svg", lambda route: route.fulfill(status=204))
    page = context.new_page()
    problems: dict[str, list[str]] = {}
    try:
        _log_in(page, server.url, ROLES[role])
        pages = _pages(server.app, ids, role)
        assert len(pages) > (20 if role in ("admin", "secretary", "treasurer", "viewer")
                             else 3)
        for endpoint, path in pages:
            response = page.goto(server.url + path)
            assert response is not None and response.status < 500, (endpoint, path)
            assert "/login" not in page.url, (endpoint, path)
            found = []
            missing = _unconfirmed_forms(server.app, page.evaluate(FORMS_JS))
            if missing:
                found.append(f"no confirmation step: {missing}")
            for width in WIDTHS:
                page.set_viewport_size({"width": width, "height": 800})
                overflow = page.evaluate("document.documentElement.scrollWidth"
                                         " - document.documentElement.clientWidth")
                if overflow > 0:
                    found.append(f"{width}px: scrolls sideways by {overflow}px:"
                                 f" {page.evaluate(WIDEST_JS)}")
                if width <= 360 and endpoint not in SCROLL_AT_PHONE:
                    wide = page.evaluate(TABLE_SCROLL_JS)
                    if wide:
                        found.append(f"{width}px: a table scrolls inside its box: {wide}")
                if width >= 1366 and endpoint in FIT_AT_LAPTOP:
                    cut = page.evaluate("Math.max(0, ...Array.from(document.querySelectorAll("
                                        "'.table-wrap'), w => w.scrollWidth - w.clientWidth))")
                    if cut > 0:
                        found.append(f"{width}px: a table is cut by {cut}px")
                low = page.evaluate(CONTRAST_JS)
                if low:
                    found.append(f"{width}px: below AA: {low}")
                shot = f"screens-{width}-" + re.sub(r"\W+", "-", endpoint)
                if shot not in SHOT:  # each page once per width, by the first role to see it
                    SHOT.add(shot)
                    screenshot(page, shot)
            if found:
                problems[f"{endpoint} {path}"] = found
    finally:
        context.close()
    assert problems == {}, "\n".join(f"{k}: {v}" for k, v in problems.items())
