"""The Users page and invitations (issue 15, item 4): an admin of one cooperative could learn
whether any email had an account, attach another cooperative's user without consent (seeing
their name), and detach them again, which logged them out of every cooperative."""

from __future__ import annotations

import re

from sqlalchemy import select

from coopreg.auth.models import Invitation, InvitationStatus, Membership, User
from coopreg.core.audit import AuditEvent
from coopreg.extensions import db
from tests.conftest import PASSWORD, login

SECRET_NAME = "Test User"  # every factory-made user's name


def _invite(client, email, role="secretary", name="As typed"):
    response = client.post("/admin/users", data={"email": email, "name": name, "role": role})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    return client.get("/admin/users").get_data(as_text=True)


def _flashes(page: str) -> list[str]:
    return re.findall(r'class="flash[^"]*"[^>]*>(.*?)</', page, re.S)


def _token(page: str) -> str:
    return re.search(r"/invitations/join/([\w-]+)", page).group(1)


def _admin_of(client, coop, make_user):
    _id, email = make_user(coop, "admin")
    login(client, email, cooperative=coop)


def test_the_page_answers_the_same_for_known_and_unknown_emails(app, client, coop, other_coop,
                                                                make_user):
    _uid, known = make_user(other_coop, "admin")
    _admin_of(client, coop, make_user)
    known_page = _invite(client, known)
    unknown_page = _invite(client, "nobody-anywhere@example.org")

    def neutral(page, email):
        page = page.replace(email, "EMAIL")
        return re.sub(r"/invitations/join/[\w-]+", "/invitations/join/TOKEN", page)

    known_flash = [neutral(f, known) for f in _flashes(known_page)]
    assert known_flash and known_flash == [
        neutral(f, "nobody-anywhere@example.org") for f in _flashes(unknown_page)]
    assert "Other Coop" not in known_page and "PHTEST" not in known_page
    with app.app_context():
        assert db.session.scalar(select(Membership).where(
            Membership.cooperative_id == coop.id,
            Membership.user_id == _uid)) is None, "no role without the person's consent"


def test_the_page_never_shows_the_accounts_name(client, coop, other_coop, make_user):
    _uid, known = make_user(other_coop, "viewer")
    _admin_of(client, coop, make_user)
    page = _invite(client, known, name="Typed By Admin")
    rows = page.split("Invitations waiting for an answer")[1]
    assert "Typed By Admin" in rows and SECRET_NAME not in rows


def test_an_existing_user_accepts_after_logging_in_and_it_is_audited_there(
        app, client, coop, other_coop, make_user):
    uid, known = make_user(other_coop, "viewer")
    _admin_of(client, coop, make_user)
    _invite(client, known, role="treasurer")
    person = app.test_client()
    login(person, known)
    listing = person.get("/invitations").get_data(as_text=True)
    assert "Cooperativa de Prueba (CRTEST)" in listing
    with app.app_context():
        invitation = db.session.scalar(select(Invitation).where(Invitation.email == known))
        invitation_id = invitation.id
    response = person.post(f"/invitations/{invitation_id}/accept")
    assert response.status_code == 302
    with app.app_context():
        user = db.session.get(User, uid)
        assert user.role_in(coop.id) == "treasurer"
        events = db.session.scalars(select(AuditEvent).where(
            AuditEvent.entity.in_(("invitations", "memberships")),
            AuditEvent.actor_id == uid)).all()
        assert {(e.entity, e.action) for e in events} == {("invitations", "update"),
                                                          ("memberships", "create")}
        assert {e.cooperative_id for e in events} == {coop.id}
        created = db.session.scalar(select(AuditEvent).where(
            AuditEvent.entity == "invitations", AuditEvent.entity_id == invitation_id,
            AuditEvent.action == "create"))
        assert created.cooperative_id == coop.id
        assert "token_hash" not in created.changes


def test_declining_gives_no_role(app, client, coop, other_coop, make_user):
    uid, known = make_user(other_coop, "viewer")
    _admin_of(client, coop, make_user)
    _invite(client, known)
    person = app.test_client()
    login(person, known)
    with app.app_context():
        invitation_id = db.session.scalar(select(Invitation.id).where(Invitation.email == known))
    person.post(f"/invitations/{invitation_id}/decline")
    with app.app_context():
        assert db.session.get(User, uid).role_in(coop.id) is None
        assert db.session.get(Invitation, invitation_id).status == InvitationStatus.DECLINED
    assert person.post(f"/invitations/{invitation_id}/accept").status_code == 404


def test_only_the_invited_person_can_answer(app, client, coop, make_user):
    _admin_of(client, coop, make_user)
    page = _invite(client, "someone@example.org")
    token = _token(page)
    _uid, stranger = make_user(None)
    intruder = app.test_client()
    login(intruder, stranger)
    with app.app_context():
        invitation_id = db.session.scalar(select(Invitation.id).where(
            Invitation.email == "someone@example.org"))
    assert intruder.post(f"/invitations/{invitation_id}/accept").status_code == 404
    assert intruder.post(f"/invitations/{invitation_id}/decline").status_code == 404
    assert intruder.get(f"/invitations/join/{token}").status_code == 404
    assert app.test_client().get("/invitations/join/not-a-token").status_code == 404


def test_a_newcomer_joins_through_the_link_with_their_own_password(app, client, coop,
                                                                  make_user):
    _admin_of(client, coop, make_user)
    token = _token(_invite(client, "newcomer@example.org", role="viewer"))
    newcomer = app.test_client()
    page = newcomer.get(f"/invitations/join/{token}").get_data(as_text=True)
    assert "Cooperativa de Prueba (CRTEST)" in page
    weak = newcomer.post(f"/invitations/join/{token}", data={
        "name": "Nora Nueva", "password": "Contraseña123", "confirm": "Contraseña123"})
    assert weak.status_code == 422
    response = newcomer.post(f"/invitations/join/{token}", data={
        "name": "Nora Nueva", "password": "violet kayak under lanterns",
        "confirm": "violet kayak under lanterns"})
    assert response.status_code == 302
    login(newcomer, "newcomer@example.org", "violet kayak under lanterns")
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "newcomer@example.org"))
        assert user.role_in(coop.id) == "viewer" and user.name == "Nora Nueva"
    assert newcomer.get(f"/invitations/join/{token}").status_code == 404, "used up"


def test_the_link_for_an_existing_account_answers_the_same_and_changes_nothing(
        app, client, coop, other_coop, make_user):
    uid, known = make_user(other_coop, "admin")
    _admin_of(client, coop, make_user)
    known_token = _token(_invite(client, known))
    new_token = _token(_invite(client, "fresh@example.org"))
    answers = []
    for token in (known_token, new_token):
        response = app.test_client().post(f"/invitations/join/{token}", data={
            "name": "Mallory", "password": "violet kayak under lanterns",
            "confirm": "violet kayak under lanterns"})
        answers.append((response.status_code, response.headers["Location"]))
    assert answers[0] == answers[1]
    with app.app_context():
        user = db.session.get(User, uid)
        assert user.role_in(coop.id) is None and user.name == SECRET_NAME
        assert db.session.scalar(select(Invitation.status).where(
            Invitation.email == known)) == InvitationStatus.PENDING
    login(app.test_client(), known, PASSWORD)  # the owner's password still works


def test_removing_a_role_keeps_the_persons_sessions_in_other_cooperatives(
        app, client, coop, other_coop, make_user):
    uid, email = make_user(other_coop, "secretary")
    with app.app_context():
        from coopreg.auth import services
        from coopreg.cooperatives.models import Cooperative
        services.grant_role(db.session.get(User, uid), db.session.get(Cooperative, coop.id),
                            "viewer")
        db.session.commit()
        membership_id = db.session.scalar(select(Membership.id).where(
            Membership.user_id == uid, Membership.cooperative_id == coop.id))
    person = app.test_client()
    login(person, email, cooperative=other_coop)
    assert person.get("/").status_code == 200
    _admin_of(client, coop, make_user)
    assert client.post(f"/admin/users/{membership_id}/remove",
                       data={"confirmed": "y"}).status_code == 302
    assert person.get("/").status_code == 200, "still logged in, in the other cooperative"
    assert "PHTEST" in person.get("/").get_data(as_text=True)
    with person.session_transaction() as session:
        session["cooperative_id"] = coop.id
    page = person.get("/").get_data(as_text=True)  # the role here is gone: back to PHTEST
    assert "PHTEST" in page and "CRTEST" not in page
    with app.app_context():
        events = db.session.scalars(select(AuditEvent).where(
            AuditEvent.entity == "users", AuditEvent.entity_id == uid,
            AuditEvent.action == "update", AuditEvent.actor_id != uid)).all()
        assert events == [], "the admin changed nothing on the account itself"


def test_an_admin_cancels_an_invitation(app, client, coop, make_user):
    _admin_of(client, coop, make_user)
    token = _token(_invite(client, "later@example.org"))
    with app.app_context():
        invitation_id = db.session.scalar(select(Invitation.id).where(
            Invitation.email == "later@example.org"))
    client.post(f"/admin/users/invitations/{invitation_id}/cancel")
    assert app.test_client().get(f"/invitations/join/{token}").status_code == 404
    assert "later@example.org" not in client.get("/admin/users").get_data(as_text=True)


def test_inviting_twice_or_a_member_is_refused_on_the_form(client, coop, make_user):
    _admin_of(client, coop, make_user)
    _invite(client, "twice@example.org")
    again = client.post("/admin/users", data={"email": "twice@example.org", "name": "",
                                              "role": "viewer"})
    assert again.status_code == 200 and "already has an invitation" in again.get_data(
        as_text=True)
    _uid, member = make_user(coop, "viewer")
    here = client.post("/admin/users", data={"email": member, "name": "", "role": "viewer"})
    assert "already has a role here" in here.get_data(as_text=True)
