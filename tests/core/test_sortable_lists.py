"""The lists sort by their column headings, in SQL, both ways, with the id as tie-break, and
keep paging in that order; an unknown key or direction is ignored (the default order, never an
error); the totals above a list count every row the filters match, not the page; each list's
table carries the labels that make it cards on phones (core/cards.py)."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import select

from coopreg.agreements.models import Agreement
from coopreg.cooperatives.models import Cooperative
from coopreg.core.audit import AuditEvent, acting_as
from coopreg.core.cards import label_cells
from coopreg.core.sorting import Sorted, Sorts
from coopreg.extensions import db
from coopreg.members.models import Member

BAD = ("sort=nonsense&dir=desc", "sort=nonsense&dir=sideways", "sort=%00%27;drop&dir=",
       "sort=__class__", "dir=desc&sort=")


def _order(html: str, pattern: str) -> list[int]:
    return [int(i) for i in re.findall(pattern, html)]


def _walk(client, url: str, pattern: str) -> list[int]:
    """Every row of a list, page after page (the rel=next links)."""
    seen: list[int] = []
    for _ in range(50):
        html = client.get(url).get_data(as_text=True)
        seen += _order(html, pattern)
        nxt = re.search(r'<a rel="next" href="([^"]+)"', html)
        if nxt is None:
            return seen
        url = nxt.group(1).replace("&amp;", "&")
    raise AssertionError("the pager never ends")


def _check_sorts(client, path: str, pattern: str, expected: dict[str, list[int]],
                 default: list[int], without_heading: tuple[str, ...] = ()):
    """Each key both ways gives the expected order (ascending; descending is its reverse, the
    tie-break reversed too); bad keys give the default order."""
    joiner = "&" if "?" in path else "?"
    assert len(default) >= 2  # an order is seen on two rows at least
    for key, ascending in expected.items():
        assert sorted(ascending) == sorted(default), key  # the same rows, in another order
        for direction, order in (("asc", ascending), ("desc", list(reversed(ascending)))):
            response = client.get(f"{path}{joiner}sort={key}&dir={direction}")
            assert response.status_code == 200
            html = response.get_data(as_text=True)
            assert _order(html, pattern) == order, (path, key, direction)
            wanted = "ascending" if direction == "asc" else "descending"
            heading = rf'aria-sort="{wanted}"><a href="[^"]*sort={key}'
            assert key in without_heading or re.search(heading, html), (key,)
    for bad in BAD:
        response = client.get(f"{path}{joiner}{bad}")
        assert response.status_code == 200, bad
        assert _order(response.get_data(as_text=True), pattern) == default, bad


# ---- the helpers --------------------------------------------------------------------------


def test_a_sort_is_read_from_the_whitelist_only():
    sorts = Sorts({"name": AuditEvent.entity, "when": AuditEvent.id}, default="when",
                  default_descending=True, tiebreak=AuditEvent.id, descending_first=("when",))
    assert sorts.read({}) == sorts.default and sorts.read({}).descending
    assert sorts.read({"sort": "name"}) == Sorted("name", False, frozenset({"when"}))
    assert sorts.read({"sort": "name", "dir": "desc"}).descending
    assert sorts.read({"sort": "when", "dir": "asc"}).dir == "asc"
    assert sorts.read({"sort": "id", "dir": "asc"}) == sorts.default  # not offered
    assert sorts.read({"sort": "name", "dir": "up"}).descending is False  # its own direction
    clauses = [str(c) for c in sorts.order_by(sorts.read({"sort": "name", "dir": "desc"}))]
    assert clauses == ["audit_events.entity DESC", "audit_events.id DESC"]  # id: tie-break


def test_a_table_gets_its_headings_on_every_cell():
    html = ('<table class="list"><thead><tr><th scope="col">No.</th>'
            '<th class="sortable"><a href="?sort=a">Name &amp; co<svg><use/></svg></a></th>'
            '<th></th></tr></thead><tbody><tr><td>1</td><td data-label="Own">Ana</td>'
            '<td><form></form></td></tr><tr><td colspan="3">None</td></tr></tbody>'
            '<tfoot><tr><th colspan="2">All</th><td>9</td></tr></tfoot></table>')
    out = str(label_cells(html))
    assert '<table class="cards list">' in out
    assert '<td data-label="No.">1</td>' in out
    assert '<td data-label="Own">Ana</td>' in out  # its own label kept
    assert "<td><form>" in out  # a column without a heading: no label
    assert '<td colspan="3">None</td>' in out  # an empty state spans the card
    assert '<th colspan="2">All</th><td>9</td>' in out  # beyond the headings: nothing
    assert label_cells('<table><tbody><tr><td>x</td></tr></tbody></table>') == \
        '<table class="cards"><tbody><tr><td>x</td></tr></tbody></table>'
    escaped = str(label_cells('<table><thead><tr><th>"A" &lt;b&gt;</th></tr></thead>'
                              '<tbody><tr><td>1</td></tr></tbody></table>'))
    assert 'data-label="&quot;A&quot; &lt;b&gt;"' in escaped


# ---- members ------------------------------------------------------------------------------


def test_members_sort_by_number_and_name_and_count_the_filtered_list(app, as_role, coop,
                                                                     make_member, monkeypatch):
    made = [make_member(coop, member_number=number, first_name="Eva", last_name=name,
                        second_last_name="Rojas", sector=sector)
            for number, name, sector in (("3", "Beto", "fishing"), ("1", "Carla", "crafts"),
                                         ("2", "Ana", "crafts"))]
    beto, carla, ana = (m.id for m in made)
    client = as_role("secretary")
    pattern = r'<td data-label="[^"]*"><a href="/members/(\d+)">'
    # the same joining date for all three: the id breaks the tie, both ways
    _check_sorts(client, "/members/", pattern, {"number": [carla, ana, beto],
                                                "name": [ana, beto, carla],
                                                "joined": [beto, carla, ana],
                                                "recent": [beto, carla, ana]},
                 default=[ana, beto, carla], without_heading=("joined", "recent"))
    # the total counts every page of what the filters match, not the page
    monkeypatch.setitem(app.config, "MEMBERS_PER_PAGE", 1)
    html = client.get("/members/?sector=crafts&sort=name&dir=desc").get_data(as_text=True)
    assert '<p class="list-total">2 members match</p>' in html
    assert _walk(client, "/members/?sector=crafts&sort=name&dir=desc", pattern) == [carla, ana]
    assert _walk(client, "/members/?sort=number&dir=desc", pattern) == [beto, ana, carla]
    assert '<p class="list-total">3 members</p>' in client.get("/members/").get_data(
        as_text=True)


# ---- receipts -----------------------------------------------------------------------------


@pytest.fixture
def receipts(app, coop):
    """Three receipts: numbers 1-3 on days 3, 1, 2 for 500, 100, 300; the third reversed."""
    from coopreg.contributions import services
    from tests.contributions.helpers import make_member, receipt_input

    with app.app_context(), acting_as(None, "tests"):
        cooperative = db.session.get(Cooperative, coop.id)
        member = make_member(cooperative, first_name="Ana")
        made = [services.record_receipt(cooperative, receipt_input(
            member, amount, received_on=date(2025, 3, day)), None)[0]
            for amount, day in (("500", 3), ("100", 1), ("300", 2))]
        services.reverse_receipt(made[2], "wrong member", None)
        db.session.commit()
        return [r.id for r in made]


def test_receipts_sort_each_way_and_total_across_pages(app, as_role, receipts, monkeypatch):
    first, second, third = receipts
    client = as_role("treasurer")
    pattern = r'href="/contributions/receipts/(\d+)"'
    _check_sorts(client, "/contributions/receipts", pattern,
                 {"number": [first, second, third], "date": [second, third, first],
                  "amount": [second, third, first]},
                 default=[third, second, first])
    from coopreg.contributions import views

    monkeypatch.setattr(views, "RECEIPTS_PER_PAGE", 1)
    assert _walk(client, "/contributions/receipts?sort=amount&dir=asc", pattern) == [second, third,
                                                                             first]
    html = client.get("/contributions/receipts?sort=amount").get_data(as_text=True)
    # three receipts, 500 + 100 paid by members; the reversed 300 named apart
    assert "3 receipts · Paid by members: ₡600.00" in html
    assert "1 reversed receipt not counted" in html
    found = client.get("/contributions/receipts?q=1").get_data(as_text=True)
    assert "1 receipt · Paid by members: ₡500.00" in found  # the search's rows only


# ---- remittances --------------------------------------------------------------------------


def test_remittances_sort_each_way_and_total(app, as_role, coop, monkeypatch):
    from coopreg.contributions.models import Remittance, RemittanceAcknowledgement
    from tests.contributions.helpers import make_agreement

    with app.app_context(), acting_as(None, "tests"):
        agreement = make_agreement(db.session.get(Cooperative, coop.id), reference="R-1")
        rows = [Remittance(cooperative_id=coop.id, agreement_id=agreement.id,
                           period=date(2025, month, 1), remitted_on=date(2025, 6, day),
                           amount_minor=amount)
                for month, day, amount in ((1, 20, 30000), (2, 10, 10000), (3, 15, 20000))]
        db.session.add_all(rows)
        db.session.flush()
        db.session.add(RemittanceAcknowledgement(
            cooperative_id=coop.id, remittance_id=rows[0].id, acknowledged_on=date(2025, 7, 1),
            amount_minor=29000))
        db.session.commit()
        jan, feb, mar = (r.id for r in rows)
        agreement_id = agreement.id
    client = as_role("treasurer")
    path = f"/contributions/remittances?agreement_id={agreement_id}"
    pattern = r'href="/contributions/remittances/(\d+)"'
    _check_sorts(client, path, pattern, {"period": [jan, feb, mar], "sent": [feb, mar, jan],
                                         "amount": [feb, mar, jan]},
                 default=[mar, feb, jan])
    from coopreg.contributions import views

    monkeypatch.setattr(views, "REMITTANCES_PER_PAGE", 2)
    assert _walk(client, path + "&sort=sent&dir=asc", pattern) == [feb, mar, jan]
    html = client.get(path).get_data(as_text=True)
    assert "3 remittances · Passed on to the institution: ₡600.00" in html
    assert "(members' share ₡0.00, cooperative's share ₡0.00)" in html  # no dues' lines here
    assert "Acknowledged by the institution: ₡290.00" in html


# ---- agreements ---------------------------------------------------------------------------


def test_agreements_sort_each_way_and_total_their_registrations(app, as_role, coop):
    from tests.contributions.helpers import make_agreement, make_member, register

    with app.app_context(), acting_as(None, "tests"):
        cooperative = db.session.get(Cooperative, coop.id)
        made = [make_agreement(cooperative, reference=reference, valid_from=valid_from)
                for reference, valid_from in (("B-2", date(2023, 1, 1)),
                                              ("A-9", date(2025, 1, 1)),
                                              ("C-1", date(2024, 1, 1)))]
        for agreement in made[:2]:
            register(agreement, make_member(cooperative), date(2025, 1, 1))
        db.session.commit()
        b, a, c = (x.id for x in made)
        institutions = {x.id: x.institution.short_name for x in made}
    client = as_role("viewer")
    by_institution = sorted((b, a, c), key=lambda i: (institutions[i], i))
    _check_sorts(client, "/agreements/", r'href="/agreements/(\d+)"',
                 {"reference": [a, b, c], "valid": [b, c, a],
                  "institution": by_institution}, default=[a, c, b])
    html = client.get("/agreements/").get_data(as_text=True)
    assert "3 agreements · 2 registrations" in html
    assert "All agreements" in html  # the totals row under the table


# ---- batches, imports, users, audit log ------------------------------------------------------


def test_batches_sort_each_way_and_count_every_page(app, as_role, coop, monkeypatch):
    from coopreg.batches import services
    from coopreg.batches.models import Batch, BatchKind, BatchStatus
    from tests.batches.helpers import make_agreement, ready_member

    with app.app_context(), acting_as(None, "tests"):
        cooperative = db.session.get(Cooperative, coop.id)
        agreement = make_agreement(cooperative, "SORT-B", pattern=None)
        ready_member(cooperative, agreement)
        first = services.create_batch(cooperative, agreement, "enrolment", None)
        made = [first]
        for number, kind, status in ((first.number + 1, BatchKind.EXIT, BatchStatus.SENT),
                                     (first.number + 2, BatchKind.UPDATE,
                                      BatchStatus.DISCARDED)):
            made.append(Batch(cooperative_id=cooperative.id, agreement_id=agreement.id,
                              kind=kind, number=number, reference=f"B-{number:06d}",
                              status=status, problem_policy="exclude",
                              layout_id=first.layout_id, file_format=first.file_format,
                              layout_snapshot=first.layout_snapshot))
        db.session.add_all(made)
        db.session.commit()
        ids = [b.id for b in made]
        by = {name: [b.id for b in sorted(made, key=lambda b: (getattr(b, name).value, b.id))]
              for name in ("kind", "status")}
    client = as_role("secretary")
    pattern = r'href="/batches/(\d+)"'
    _check_sorts(client, "/batches/", pattern, {"reference": ids, **by},
                 default=list(reversed(ids)))
    from coopreg.batches import views

    monkeypatch.setattr(views, "BATCHES_PER_PAGE", 2)
    assert _walk(client, "/batches/?sort=kind&dir=desc", pattern) == list(reversed(by["kind"]))
    assert "3 batches" in client.get("/batches/").get_data(as_text=True)
    assert "1 batch" in client.get("/batches/?kind=exit").get_data(as_text=True)


def test_imports_sort_each_way(app, as_role, coop, monkeypatch):
    from coopreg.imports.models import ImportRun, ImportStatus

    with app.app_context():
        runs = [ImportRun(cooperative_id=coop.id, original_filename=f"f{i}.csv",
                          sha256="0" * 64, size_bytes=10, file_format="csv", status=status,
                          header_row=1, sample=[], options={})
                for i, status in enumerate((ImportStatus.PREVIEWED, ImportStatus.COMMITTED,
                                            ImportStatus.DRAFT))]
        db.session.add_all(runs)
        db.session.commit()
        ids = [r.id for r in runs]
        by_status = [r.id for r in sorted(runs, key=lambda r: (r.status.value, r.id))]
    client = as_role("secretary")
    pattern = r'href="/imports/(\d+)"'
    _check_sorts(client, "/imports/", pattern, {"number": ids, "status": by_status},
                 default=list(reversed(ids)))
    from coopreg.imports import views

    monkeypatch.setattr(views, "RUNS_PER_PAGE", 2)
    assert _walk(client, "/imports/?sort=status", pattern) == by_status


def test_users_sort_each_way(app, as_role, coop, make_user):
    for role, email in (("viewer", "a@example.org"), ("treasurer", "c@example.org")):
        make_user(coop, role, email=email)
    client = as_role("admin")
    with app.app_context():
        from coopreg.auth.models import Membership

        rows = db.session.execute(select(Membership.id, Membership.role).where(
            Membership.cooperative_id == coop.id)).all()
    html = client.get("/admin/users?sort=email").get_data(as_text=True)
    emails = re.findall(r'<td data-label="Email">([^<]+)</td>', html)
    assert emails == sorted(emails) and "a@example.org" in emails and len(emails) == 3
    html = client.get("/admin/users?sort=email&dir=desc").get_data(as_text=True)
    assert re.findall(r'<td data-label="Email">([^<]+)</td>', html) == sorted(emails,
                                                                              reverse=True)
    by_role = [r.id for r in sorted(rows, key=lambda r: (r.role.value, r.id))]
    pattern = r'action="/admin/users/(\d+)/role"'
    # everyone is "Test User": the names tie and the id orders them, both ways
    _check_sorts(client, "/admin/users", pattern,
                 {"role": by_role, "name": sorted(r.id for r in rows)}, default=by_role)
    assert "3 people" in html


def test_the_audit_log_sorts_by_when_both_ways(app, as_role, coop, make_member, monkeypatch):
    for name in ("Ana", "Beto"):
        make_member(coop, first_name=name)
    client = as_role("admin")
    with app.app_context():
        ids = list(db.session.scalars(select(AuditEvent.entity_id).where(
            AuditEvent.cooperative_id == coop.id, AuditEvent.entity == "members")
            .order_by(AuditEvent.id)))
    assert len(ids) == 2
    pattern = r'entity=members&amp;entity_id=(\d+)"'
    _check_sorts(client, "/admin/audit?entity=members", pattern, {"when": ids},
                 default=list(reversed(ids)))
    from coopreg.admin import views

    monkeypatch.setattr(views, "AUDIT_PAGE", 1)
    assert _walk(client, "/admin/audit?entity=members&sort=when&dir=asc", pattern) == ids


def test_a_sorted_list_keeps_its_filters_in_the_headings(as_role, coop, make_member):
    make_member(coop)
    html = as_role("secretary").get("/members/?status=active&q=Mar&sort=name").get_data(
        as_text=True)
    link = re.search(r'aria-sort="ascending"><a href="([^"]+)"', html).group(1)
    assert "status=active" in link and "q=Mar" in link and "dir=desc" in link
    assert "after=" not in link  # a new order starts at the first page
    assert "#arrow-up" in html and "#chevrons-up-down" in html  # the arrows, self-hosted



# ---- registrations, members not enrolled, dues, arrears, statements ---------------------------


@pytest.fixture
def dues_world(app, coop):
    """An agreement with three registered members (names and numbers in different orders),
    a month of dues, one of them paid in part: the campaign, the dues lines and arrears."""
    from coopreg.contributions import services
    from tests.contributions.helpers import make_agreement, make_member, receipt_input, register

    month = date(2025, 1, 1)
    with app.app_context(), acting_as(None, "tests"):
        cooperative = db.session.get(Cooperative, coop.id)
        agreement = make_agreement(cooperative, reference="SORT-D", valid_from=month)
        people = [make_member(cooperative, member_number=number, first_name="Eva",
                              last_name=name, second_last_name="Rojas")
                  for number, name in (("30", "Bravo"), ("10", "Cruz"), ("20", "Arias"))]
        for person in people:
            register(agreement, person, month)
        # one more member, active, not enrolled
        make_member(cooperative, member_number="40", first_name="Eva", last_name="Diaz",
                    second_last_name="Rojas")
        services.generate_dues(agreement, month, month)
        services.record_receipt(cooperative, receipt_input(people[0], "100",
                                                           received_on=date(2025, 2, 1)), None)
        db.session.commit()
        return {"agreement_id": agreement.id, "people": [p.id for p in people]}


def coop_of(agreement_id: int) -> int:
    return db.session.scalar(select(Agreement.cooperative_id).where(
        Agreement.id == agreement_id))


def test_registrations_and_members_not_enrolled_sort_each_way(app, as_role, dues_world):
    bravo, cruz, arias = dues_world["people"]
    agreement_id = dues_world["agreement_id"]
    client = as_role("secretary")
    with app.app_context():
        from coopreg.agreements.models import Registration

        registration_of = dict(db.session.execute(select(
            Registration.member_id, Registration.id).where(
            Registration.agreement_id == agreement_id)).all())
    by_name = [registration_of[m] for m in (arias, bravo, cruz)]
    by_number = [registration_of[m] for m in (cruz, arias, bravo)]
    _check_sorts(client, f"/agreements/{agreement_id}/campaign?status=registered",
                 r'href="/agreements/registrations/(\d+)"',
                 {"name": by_name, "number": by_number}, default=by_name)
    with app.app_context(), acting_as(None, "tests"):
        from tests.contributions.helpers import make_member

        cooperative = db.session.get(Cooperative, coop_of(agreement_id))
        zapata, aguilar = (make_member(cooperative, member_number=number, first_name="Eva",
                                       last_name=name, second_last_name="Rojas").id
                           for number, name in (("05", "Zapata"), ("50", "Aguilar")))
        db.session.commit()
        diaz = db.session.scalar(select(Member.id).where(
            Member.cooperative_id == cooperative.id, Member.last_name == "Diaz"))
    _check_sorts(client, f"/agreements/{agreement_id}/not-enrolled",
                 r'<td data-label="[^"]*"><a href="/members/(\d+)">',
                 {"name": [aguilar, diaz, zapata], "number": [zapata, diaz, aguilar]},
                 default=[aguilar, diaz, zapata])


def test_dues_lines_sort_each_way_and_page(app, as_role, dues_world, monkeypatch):
    from coopreg.contributions import reports
    from coopreg.contributions.models import Due

    bravo, cruz, arias = dues_world["people"]
    agreement_id = dues_world["agreement_id"]
    with app.app_context():
        due_of = dict(db.session.execute(select(Due.member_id, Due.id).where(
            Due.cooperative_id == select(Agreement.cooperative_id).where(
                Agreement.id == agreement_id).scalar_subquery(),
            Due.agreement_id == agreement_id)).all())
    client = as_role("treasurer")
    path = f"/contributions/agreements/{agreement_id}/lines?period=2025-01&kind=due"
    pattern = r'href="/contributions/dues/(\d+)/write-off"'
    by_name = [due_of[m] for m in (arias, bravo, cruz)]
    # the same amount for everyone: the tie-break (the due's id) orders them
    same = sorted(due_of.values())
    _check_sorts(client, path, pattern, {"member": by_name, "due": same}, default=same)
    monkeypatch.setattr(reports, "LINES_PER_PAGE", 1)
    assert _walk(client, path + "&sort=member&dir=desc", pattern) == list(reversed(by_name))


def test_arrears_sort_each_way(app, as_role, dues_world):
    bravo, cruz, arias = dues_world["people"]
    client = as_role("treasurer")
    path = f"/contributions/arrears?days=0&agreement_id={dues_world['agreement_id']}"
    pattern = r'<tr data-member="(\d+)">'
    # Bravo paid 100 of the same due: he owes least; the others tie (the member's id)
    html = client.get(path).get_data(as_text=True)
    owing = _order(html, pattern)
    assert set(owing) == {bravo, cruz, arias} and owing[-1] == bravo
    _check_sorts(client, path, pattern, {"number": [cruz, arias, bravo],
                                         "amount": [bravo, *sorted((cruz, arias))]},
                 default=[*sorted((cruz, arias), reverse=True), bravo])  # amount, id: desc


def test_statement_lines_and_the_queue_sort_each_way(app, as_role, coop, monkeypatch):
    from coopreg.contributions.models import (
        PaymentMethod,
        Statement,
        StatementLine,
        StatementSource,
    )

    with app.app_context():
        source = StatementSource(cooperative_id=coop.id, name="Banco", method=PaymentMethod(
            "bank_transfer"))
        db.session.add(source)
        db.session.flush()
        statement = Statement(cooperative_id=coop.id, source_id=source.id, filename="x.csv",
                              sha256="0" * 64, lines_added=3, lines_known=0, lines_skipped=0)
        db.session.add(statement)
        db.session.flush()
        lines = [StatementLine(cooperative_id=coop.id, source_id=source.id,
                               statement_id=statement.id, row_number=row,
                               booked_on=date(2025, 5, day), amount_minor=amount,
                               dedup_key=f"k{row}")
                 for row, day, amount in ((1, 3, 500), (2, 1, 900), (3, 2, 100))]
        db.session.add_all(lines)
        db.session.commit()
        one, two, three = (line.id for line in lines)
        statement_id = statement.id
    client = as_role("treasurer")
    # the statement's rows show their row number first: read the order from it
    rows = {1: one, 2: two, 3: three}
    html_pattern = r'<td data-label="Row">(\d+)</td>'

    def order(url):
        return [rows[int(n)] for n in re.findall(html_pattern, client.get(url).get_data(
            as_text=True))]

    path = f"/contributions/statements/{statement_id}"
    for key, ascending in (("row", [one, two, three]), ("date", [two, three, one]),
                           ("amount", [three, one, two])):
        assert order(f"{path}?sort={key}&dir=asc") == ascending
        assert order(f"{path}?sort={key}&dir=desc") == list(reversed(ascending))
    assert order(f"{path}?sort=bogus&dir=x") == [one, two, three]
    from coopreg.contributions import views

    monkeypatch.setattr(views, "STATEMENT_LINES_PER_PAGE", 2)
    seen = []
    url = f"{path}?sort=amount&dir=desc"
    while url:
        html = client.get(url).get_data(as_text=True)
        seen += [rows[int(n)] for n in re.findall(html_pattern, html)]
        nxt = re.search(r'<a rel="next" href="([^"]+)"', html)
        url = nxt.group(1).replace("&amp;", "&") if nxt else None
    assert seen == [two, one, three]
    pattern = r'/statement-lines/(\d+)/receipt"'
    _check_sorts(client, "/contributions/statements/queue", pattern,
                 {"date": [two, three, one], "amount": [three, one, two]},
                 default=[two, three, one])


def test_a_query_repeating_a_path_argument_still_gives_sort_links(as_role, dues_world):
    agreement_id = dues_world["agreement_id"]
    response = as_role("secretary").get(
        f"/agreements/{agreement_id}/campaign?status=registered&agreement_id=0&after=x")
    assert response.status_code == 200
    links = re.findall(r'class="sortable[^"]*"[^>]*><a href="([^"]+)"',
                       response.get_data(as_text=True))
    assert len(links) == 2
    assert all(link.startswith(f"/agreements/{agreement_id}/campaign?") for link in links)
    assert all("after=" not in link for link in links)


def test_a_text_search_counts_up_to_its_cap(as_role, coop, make_member, monkeypatch):
    from coopreg.members import services

    for _ in range(3):
        make_member(coop, first_name="Zoila")
    client = as_role("secretary")
    assert "3 members match" in client.get("/members/?q=zoila").get_data(as_text=True)
    monkeypatch.setattr(services, "SEARCH_COUNT_CAP", 2)
    # a new register version would be needed for a kept count: another search is not kept
    assert "More than 2 members match" in client.get("/members/?q=zoil").get_data(
        as_text=True)
    # the filters that count along an index are not capped
    assert "3 members match" in client.get("/members/?sector=agriculture").get_data(
        as_text=True)


def test_a_cursor_of_another_cooperative_starts_the_list_over(app, as_role, coop, other_coop,
                                                             make_member):
    mine = make_member(coop, first_name="Ana")
    theirs = make_member(other_coop, first_name="Otra", id_type="", id_number="")
    with app.app_context():
        foreign = db.session.scalar(select(AuditEvent.id).where(
            AuditEvent.cooperative_id == other_coop.id, AuditEvent.entity == "members",
            AuditEvent.entity_id == theirs.id))
    client = as_role("admin")
    pattern = r'entity=members&amp;entity_id=(\d+)"'
    assert foreign is not None
    for after in (str(foreign), "999999999", "-1", "x"):
        html = client.get(f"/admin/audit?entity=members&after={after}").get_data(as_text=True)
        assert _order(html, pattern) == [mine.id], after


def test_file_layouts_sort_each_way(app, as_role, coop):
    from coopreg.batches import services
    from tests.batches.helpers import make_agreement

    with app.app_context(), acting_as(None, "tests"):
        cooperative = db.session.get(Cooperative, coop.id)
        second, first = (make_agreement(cooperative, reference, pattern=None)
                         for reference in ("L-B", "L-A"))
        made = [services.layout_for(agreement, kind) for agreement, kind in (
            (second, "enrolment"), (first, "exit"), (first, "enrolment"))]
        db.session.commit()
        rows = [(layout.id, layout.agreement.reference, layout.kind.value, layout.name)
                for layout in made]
    by = {key: [r[0] for r in sorted(rows, key=lambda r: (r[index], r[0]))]
          for key, index in (("agreement", 1), ("kind", 2), ("name", 3))}
    _check_sorts(as_role("admin"), "/batches/layouts", r'href="/batches/layouts/(\d+)"', by,
                 default=by["agreement"])
