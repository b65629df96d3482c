"""The screens through the client: what the product is on the login page, the home page's
pointers to the next task, the icons served by the app itself."""

from __future__ import annotations

from coopreg.extensions import db


def test_the_login_page_says_what_the_product_is(client):
    html = client.get("/login").get_data(as_text=True)
    assert "register their members with social security together" in html
    assert "Collect contributions, pass them on and reconcile every month." in html


def test_the_icons_are_served_by_the_app(client):
    response = client.get("/static/icons.svg")
    assert response.status_code == 200
    svg = response.get_data(as_text=True)
    for name in ("home", "users", "package", "wallet", "arrow-right", "check"):
        assert f'<symbol id="{name}"' in svg
    response.close()


def test_the_home_page_points_to_the_next_task(app, as_role, coop):
    from coopreg.cooperatives.models import Cooperative
    from coopreg.core.audit import acting_as
    from tests.batches.helpers import make_agreement, ready_member

    with app.app_context(), acting_as(None, "tests"):
        cooperative = db.session.get(Cooperative, coop.id)
        agreement = make_agreement(cooperative, "NEXT-1")
        for _ in range(2):
            ready_member(cooperative, agreement)
        db.session.commit()
    client = as_role("secretary")
    html = client.get("/").get_data(as_text=True)
    assert "<strong>2</strong> <span>registration(s) ready to send</span>" in html
    assert 'href="/batches/new"' in html and "Prepare a batch" in html
    assert 'class="icon"' in html and "icons.svg#home" in html  # the nav's icons
    # nothing waiting for the treasurer of this cooperative
    client.post("/logout")
    html = as_role("treasurer").get("/").get_data(as_text=True)
    assert "Nothing waiting: everything is up to date." in html


def test_empty_lists_say_what_to_do_next(as_role, client):
    as_role("treasurer")
    html = client.get("/batches/").get_data(as_text=True)
    assert "When registrations are ready, prepare a batch" in html
    html = client.get("/contributions/receipts").get_data(as_text=True)
    assert 'class="empty-state">No receipt matches.</td>' in html


def test_on_phones_the_menu_folds_behind_a_button_without_script(as_role, client):
    as_role("secretary")
    html = client.get("/").get_data(as_text=True)
    toggle = html.index('<input type="checkbox" id="nav-toggle"')
    assert toggle < html.index('<label for="nav-toggle" class="nav-label">Menu</label>') \
        < html.index('<nav aria-label="Main">')  # the CSS opens the nav that follows it


def test_the_batch_list_says_how_many(app, as_role, client, coop):
    from coopreg.batches import services
    from coopreg.cooperatives.models import Cooperative
    from coopreg.core.audit import acting_as
    from tests.batches.helpers import make_agreement, ready_member

    with app.app_context(), acting_as(None, "tests"):
        cooperative = db.session.get(Cooperative, coop.id)
        agreement = make_agreement(cooperative, "COUNT-1")
        ready_member(cooperative, agreement)
        services.create_batch(cooperative, agreement, "enrolment", None)
        db.session.commit()
    as_role("secretary")
    assert '<p class="list-total">1 batch</p>' in client.get("/batches/").get_data(as_text=True)
