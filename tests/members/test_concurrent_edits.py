"""Two secretaries saving the same member: one wins, the other is told to reload; nothing is
silently overwritten."""

from __future__ import annotations

import pytest

from coopreg.cooperatives.models import Cooperative
from coopreg.cooperatives.services import create_cooperative
from coopreg.core.audit import acting_as
from coopreg.core.errors import DomainError
from coopreg.extensions import db
from coopreg.members import services
from coopreg.members.models import Member
from tests.conftest import login, member_data, run_together


@pytest.mark.no_transaction
def test_two_secretaries_saving_the_same_member_at_once(committed_app):
    app = committed_app
    with app.app_context(), acting_as(None, "tests"):
        cooperative = create_cooperative("EDIT", "Edits", "CR", "CRC")
        member = services.create_member(cooperative, member_data(), confirm_duplicate=True)
        member_id, version = member.id, member.version
        db.session.commit()

    def save(i: int):
        with app.app_context(), acting_as(None, f"secretary {i}"):
            target = db.session.get(Member, member_id)
            data = member_data(first_name=f"Name{i}", second_last_name=target.second_last_name,
                               member_number=target.member_number)
            try:
                services.update_member(target, data, expected_version=version)
                db.session.commit()
                return "saved"
            except DomainError as error:
                db.session.rollback()
                return error.message

    results = run_together(2, save)
    assert sorted(r if r == "saved" else "refused" for r in results) == ["refused", "saved"]
    refused = next(r for r in results if r != "saved")
    assert "Someone else saved this member" in refused
    with app.app_context():
        member = db.session.get(Member, member_id)
        assert member.version == version + 1
        winner = results.index("saved")
        assert member.first_name == f"Name{winner}"


def test_a_form_built_from_an_old_version_is_refused(app, client, coop, make_user,
                                                     make_member):
    member = make_member(coop)
    _id, email = make_user(coop, "secretary")
    login(client, email)
    form = {"first_name": "Changed", "last_name": member.last_name, "sex": "female",
            "date_of_birth": "1980-05-17", "id_type": "cr_cedula", "sector": "agriculture",
            "joined_on": "2020-01-15", "member_number": member.member_number,
            "second_last_name": member.second_last_name, "version": str(member.version)}
    with app.app_context(), acting_as(None, "other secretary"):
        other = db.session.get(Member, member.id)
        cooperative = db.session.get(Cooperative, coop.id)
        services.update_member(other, member_data(
            first_name="Theirs", second_last_name=member.second_last_name,
            member_number=member.member_number, date_of_birth=member.date_of_birth),
            confirm_duplicate=True)
        db.session.commit()
        assert cooperative is not None
    response = client.post(f"/members/{member.id}/edit", data=form)
    assert response.status_code == 422
    assert "Someone else saved this member" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Member, member.id).first_name == "Theirs"
