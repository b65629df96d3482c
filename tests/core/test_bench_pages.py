"""The benchmark opens every page (issue 25): goal 1 times every GET route of the app's route
list (bench/bench_pages.py); a page it could not open — a URL argument it cannot fill, a view
declaring no access — or a stale exclusion fails here, without loading any data."""

from __future__ import annotations

from bench import bench_pages
from config import TestConfig
from coopreg import create_app
from coopreg.auth.access import public, roles_required
from coopreg.auth.models import Role


def test_the_bench_opens_every_get_route_of_the_app(app):
    assert bench_pages.missing_entries(app) == []
    get_routes = {rule.endpoint for rule in app.url_map.iter_rules() if "GET" in rule.methods}
    timed = set(bench_pages.pages(app))
    assert timed | set(bench_pages.NOT_PAGES) == get_routes
    assert not timed & set(bench_pages.NOT_PAGES)
    # the pages everyone waits for are timed, each for the roles that may open them
    assert {"members.list_members", "core.index", "contributions.collection_sheet",
            "contributions.reconciliation", "contributions.arrears", "agreements.coverage",
            "agreements.view_agreement", "agreements.campaign"} <= timed
    assert bench_pages.roles_of(app, "contributions.collection_sheet") == ("treasurer",
                                                                           "admin")
    assert bench_pages.roles_of(app, "members.list_members") == bench_pages.ROLES


def test_every_exclusion_says_why(app):
    for endpoint, reason in bench_pages.NOT_PAGES.items():
        assert len(reason.split()) >= 5, endpoint


def test_a_new_page_the_bench_cannot_open_is_reported():
    other = create_app(TestConfig, SQLALCHEMY_DATABASE_URI="sqlite://")

    @other.route("/widgets/<int:widget_id>")
    @roles_required(Role.ADMIN)
    def view_widget(widget_id):
        return "widget"

    @other.route("/undeclared")
    def undeclared():
        return "no access declared"

    @other.route("/hello-page")
    @public
    def hello_page():
        return "hello"

    problems = bench_pages.missing_entries(other)
    assert "view_widget: the bench cannot fill ['widget_id']" in problems
    assert "undeclared: declares no access, so no role opens it" in problems
    assert "hello_page" in bench_pages.pages(other)  # timed as it is, for every role
    assert not any(p.startswith("hello_page") for p in problems)


def test_the_pages_filter_keeps_the_pages_named_or_an_areas_every_page():
    assert bench_pages.chosen("contributions.arrears", ())
    only = ("contributions.", "core.index")
    assert bench_pages.chosen("contributions.arrears", only)
    assert bench_pages.chosen("core.index", only)
    assert not bench_pages.chosen("core.index_extra", only)
    assert not bench_pages.chosen("members.list_members", only)
