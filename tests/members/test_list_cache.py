"""The member list's kept pages (members/views.member_rows), the home page's kept figures
(reports/dashboard.py), and the register version they are kept under (members/versions.py):
a kept page is served without reading the register, and any write to the members (form,
service, status, bulk import) shows on the next page."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from coopreg.cooperatives.models import Cooperative
from coopreg.core.audit import acting_as
from coopreg.extensions import db
from coopreg.imports import services as import_services
from coopreg.members import services, views
from coopreg.members.models import Member, MemberStatus
from tests.conftest import member_data
from tests.imports.conftest import HEADER, csv_bytes, good_row


@pytest.fixture
def rows_kept(app, monkeypatch):
    """The kept pages turned on, as in production (the test configuration turns them off:
    its rolled-back transactions hand the same ids and versions out again)."""
    monkeypatch.setitem(app.config, "MEMBER_ROWS_CACHE_SIZE", 16)
    monkeypatch.setitem(app.config, "DASHBOARD_CACHE_SECONDS", 300)
    app.extensions.pop("coopreg.kept", None)
    yield
    app.extensions.pop("coopreg.kept", None)


@pytest.fixture
def register_reads(monkeypatch):
    """How many times the list read the register."""
    calls = []
    real = services.list_members

    def counting(*args, **kwargs):
        calls.append(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(views.services, "list_members", counting)
    return calls


def version_of(app, cooperative) -> int:
    with app.app_context():
        return db.session.scalar(select(Cooperative.register_version)
                                 .where(Cooperative.id == cooperative.id))


def test_a_kept_page_is_served_without_reading_the_register(rows_kept, register_reads,
                                                            as_role, coop, make_member):
    make_member(coop, last_name="Araya")
    client = as_role("secretary")
    first = client.get("/members/").get_data(as_text=True)
    second = client.get("/members/").get_data(as_text=True)
    assert "Araya" in first and first == second
    assert len(register_reads) == 1
    client.get("/members/?sort=number")  # another page: read
    client.get("/members/?q=Araya")
    assert len(register_reads) == 3


def test_every_write_to_the_register_shows_on_the_next_page(app, rows_kept, as_role, coop,
                                                             make_member):
    member = make_member(coop, last_name="Araya")
    client = as_role("secretary")
    assert "Araya" in client.get("/members/").get_data(as_text=True)

    with app.app_context(), acting_as(None, "tests"):  # a change by the service
        services.update_member(db.session.get(Member, member.id),
                               member_data(last_name="Brenes"), confirm_duplicate=True)
        db.session.commit()
    page = client.get("/members/").get_data(as_text=True)
    assert "Brenes" in page and "Araya" not in page

    with app.app_context(), acting_as(None, "tests"):  # a status change
        services.change_member_status(db.session.get(Member, member.id),
                                      MemberStatus.SUSPENDED, date.today(), "Unpaid dues", None)
        db.session.commit()
    assert "badge-suspended" in client.get("/members/").get_data(as_text=True)

    make_member(coop, last_name="Chacón")  # a new member
    assert "Chacón" in client.get("/members/").get_data(as_text=True)


def test_a_bulk_import_moves_the_register_on(app, rows_kept, as_role, coop, tmp_path,
                                             monkeypatch):
    monkeypatch.setitem(app.config, "IMPORT_DIR", str(tmp_path / "imports"))
    client = as_role("secretary")
    assert "Ana7" not in client.get("/members/").get_data(as_text=True)
    before = version_of(app, coop)
    with app.test_request_context(), acting_as(None, "tests"):
        cooperative = db.session.get(Cooperative, coop.id)
        run = import_services.store_upload(cooperative, None, "socios.csv",
                                           csv_bytes([HEADER, good_row(7)]))
        db.session.flush()
        columns = import_services.source_columns(run.sample, run.header_row - 1)
        import_services.save_mapping(run, 1, import_services.propose_mapping(cooperative.id,
                                                                             columns), {})
        import_services.preview_run(run)
        import_services.commit_run(run)
        db.session.commit()
    assert version_of(app, coop) > before
    assert "Ana7" in client.get("/members/").get_data(as_text=True)


def test_only_a_real_change_to_a_member_moves_the_version(app, coop, make_member):
    member = make_member(coop)
    start = version_of(app, coop)
    with app.app_context(), acting_as(None, "tests"):
        db.session.get(Member, member.id)  # read, not changed
        cooperative = db.session.get(Cooperative, coop.id)
        cooperative.name = "Renamed"  # the cooperative's settings, not its register
        db.session.commit()
    assert version_of(app, coop) == start
    with app.app_context(), acting_as(None, "tests"):
        db.session.get(Member, member.id).phone = "88887777"
        db.session.commit()
    assert version_of(app, coop) == start + 1


def test_kept_pages_differ_by_role_and_language(app, rows_kept, client, coop, make_member,
                                                make_user):
    from tests.conftest import login

    make_member(coop, id_number="0102340371")
    _id, secretary = make_user(coop, "secretary")
    _id, viewer = make_user(coop, "viewer")
    login(client, secretary, cooperative=coop)
    assert "1-0234-0371" in client.get("/members/").get_data(as_text=True)
    client.post("/logout")
    login(client, viewer, cooperative=coop)
    page = client.get("/members/").get_data(as_text=True)
    assert "1-0234-0371" not in page and "371</td>" in page  # masked for the viewer
    assert ">Active<" in page
    with app.app_context(), acting_as(None, "tests"):  # the office now works in Spanish
        db.session.get(Cooperative, coop.id).locale = "es"
        db.session.commit()
    assert ">Activo<" in client.get("/members/").get_data(as_text=True)


def test_the_home_pages_register_wide_figures_are_kept_until_the_register_changes(
        app, rows_kept, as_role, coop, make_member, monkeypatch):
    from coopreg.reports import dashboard

    counted = []
    real = dashboard._coverage_chart

    def counting(*args):
        counted.append(args)
        return real(*args)

    monkeypatch.setattr(dashboard, "_coverage_chart", counting)
    make_member(coop)
    client = as_role("admin")
    first = client.get("/")
    assert first.status_code == 200 and len(counted) == 1
    # how fresh the figures are is for the docs, not a note to the people reading them
    assert "counted again" not in first.get_data(as_text=True)
    client.get("/")
    assert len(counted) == 1  # kept
    make_member(coop)  # the register moves on
    client.get("/")
    assert len(counted) == 2


def test_kept_values_expire_and_the_least_recently_used_go_first(monkeypatch):
    from coopreg.core import kept as kept_module

    now = [100.0]
    monkeypatch.setattr(kept_module.time, "monotonic", lambda: now[0])
    store = kept_module.Kept(size=2, seconds=60)
    store.put("a", 1)
    store.put("b", 2)
    assert store.get("a") == 1  # "a" used last: "b" goes first
    store.put("c", 3)
    assert store.get("b") is None and store.get("a") == 1 and store.get("c") == 3
    now[0] += 61
    assert store.get("a") is None
    assert store.get_or_make("a", lambda: 4) == 4 and store.get("a") == 4
    assert kept_module.Kept(size=0).get_or_make("x", lambda: 5) == 5  # size 0 keeps nothing
