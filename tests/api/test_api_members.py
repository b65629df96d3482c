"""Members changed through the API by the form's rules: created (national ID checked for the
country, duplicates asked about), updated only with the ETag read (If-Match: 428 without it,
412 when stale), audited under the token's name; status changes and dependants."""

from __future__ import annotations

from sqlalchemy import select

from coopreg.core.audit import AuditEvent
from coopreg.extensions import db
from coopreg.members.models import Member
from tests.factories import cedula

NEW = {"first_name": "Lucía", "last_name": "Mora", "sex": "female",
       "date_of_birth": "1985-03-02", "sector": "agriculture", "phone": "8888-1234",
       "joined_on": "2024-01-10"}


def test_a_secretary_adds_a_member_with_the_forms_rules(app, client, coop, token_for, bearer):
    secret, email = token_for("secretary", scope="write")
    number = cedula()
    response = client.post("/api/v1/members/", json={**NEW, "id_type": "cr_cedula",
                                                      "id_number": number},
                           headers=bearer(secret))
    assert response.status_code == 201, response.get_data(as_text=True)
    made = response.get_json()
    assert made["member_number"] and made["phone"] == "+50688881234" and made["version"] == 1
    assert made["id_number"] == "0" + number  # formatted for Costa Rica
    assert response.headers["ETag"]
    with app.app_context():
        member = db.session.get(Member, made["id"])
        assert member.id_number == "0" + number.replace("-", "")  # normalised as the form does
        event = db.session.scalar(select(AuditEvent).where(
            AuditEvent.entity == "members", AuditEvent.entity_id == member.id))
        assert event.action == "create" and email in event.actor_label
        assert "token" in event.actor_label


def test_a_bad_national_id_and_a_bad_phone_are_refused_naming_the_field(client, token_for,
                                                                          bearer):
    secret, _ = token_for("admin", scope="write")
    bad_id = client.post("/api/v1/members/", json={**NEW, "id_type": "cr_cedula",
                                                   "id_number": "123"}, headers=bearer(secret))
    assert bad_id.status_code == 422 and bad_id.content_type == "application/problem+json"
    assert list(bad_id.get_json()["errors"]) == ["id_number"]
    bad_phone = client.post("/api/v1/members/", json={**NEW, "phone": "call me"},
                            headers=bearer(secret))
    assert bad_phone.status_code == 422 and "phone" in bad_phone.get_json()["errors"]
    missing = client.post("/api/v1/members/", json={"first_name": "X"}, headers=bearer(secret))
    assert missing.status_code == 422
    assert {"last_name", "sex", "date_of_birth", "sector"} <= set(missing.get_json()["errors"])


def test_a_possible_duplicate_is_asked_about_then_saved_when_confirmed(client, token_for,
                                                                        bearer):
    secret, _ = token_for("secretary", scope="write")
    first = client.post("/api/v1/members/", json=NEW, headers=bearer(secret)).get_json()
    twin = client.post("/api/v1/members/", json=NEW, headers=bearer(secret))
    assert twin.status_code == 409
    body = twin.get_json()
    assert body["type"] == "/api/v1/problems/possible-duplicate"
    assert body["duplicates"][0]["id"] == first["id"]
    confirmed = client.post("/api/v1/members/", json={**NEW, "confirm_duplicate": True},
                            headers=bearer(secret))
    assert confirmed.status_code == 201


def test_an_update_needs_the_etag_it_read(app, client, coop, make_member, token_for, bearer):
    member = make_member(coop, first_name="Rosa")
    secret, email = token_for("secretary", scope="write")
    read = client.get(f"/api/v1/members/{member.id}", headers=bearer(secret))
    etag = read.headers["ETag"]
    url = f"/api/v1/members/{member.id}"
    without = client.patch(url, json={"occupation": "Baker"}, headers=bearer(secret))
    assert without.status_code == 428
    assert without.get_json()["type"] == "/api/v1/problems/precondition-required"
    changed = client.patch(url, json={"occupation": "Baker"},
                           headers=bearer(secret, **{"If-Match": etag}))
    assert changed.status_code == 200, changed.get_data(as_text=True)
    assert changed.get_json()["occupation"] == "Baker"
    assert changed.get_json()["first_name"] == "Rosa"  # untouched fields stay
    assert changed.headers["ETag"] != etag
    stale = client.patch(url, json={"occupation": "Weaver"},
                         headers=bearer(secret, **{"If-Match": etag}))
    assert stale.status_code == 412
    assert stale.get_json()["type"] == "/api/v1/problems/precondition-failed"
    refused = client.patch(url, json={"date_of_birth": "2999-01-01"},
                           headers=bearer(secret, **{"If-Match": changed.headers["ETag"]}))
    assert refused.status_code == 422 and "date_of_birth" in refused.get_json()["errors"]
    with app.app_context():
        stored = db.session.get(Member, member.id)
        assert stored.occupation == "Baker" and stored.version == 2
        event = db.session.scalars(select(AuditEvent).where(
            AuditEvent.entity == "members", AuditEvent.entity_id == member.id,
            AuditEvent.action == "update")).one()
        assert email in event.actor_label and "occupation" in str(event.changes)


def test_a_read_token_cannot_change_a_member(client, coop, make_member, token_for, bearer):
    member = make_member(coop)
    secret, _ = token_for("secretary", scope="read")
    etag = client.get(f"/api/v1/members/{member.id}", headers=bearer(secret)).headers["ETag"]
    response = client.patch(f"/api/v1/members/{member.id}", json={"occupation": "X"},
                            headers=bearer(secret, **{"If-Match": etag}))
    assert response.status_code == 403


def test_status_changes_follow_the_registers_transitions(client, coop, make_member, token_for,
                                                         bearer):
    member = make_member(coop)
    secret, _ = token_for("admin", scope="write")
    url = f"/api/v1/members/{member.id}/status"
    left = client.post(url, json={"status": "left", "effective_on": "2024-06-01",
                                  "reason": "Moved away"}, headers=bearer(secret))
    assert left.status_code == 200 and left.get_json()["status"] == "left"
    dead = client.post(url, json={"status": "suspended", "effective_on": "2024-07-01",
                                  "reason": "Late"}, headers=bearer(secret))
    assert dead.status_code == 422 and "status" in dead.get_json()["errors"]


def test_dependants_are_listed_and_added_with_ids_masked_for_viewers(
        client, coop, make_member, token_for, bearer):
    member = make_member(coop, id_type="cr_cedula", id_number=cedula())
    secret, _ = token_for("secretary", scope="write")
    number = cedula()
    url = f"/api/v1/members/{member.id}/dependants"
    added = client.post(url, json={"name": "Tomás Mora", "relation": "child",
                                   "date_of_birth": "2015-02-01", "id_number": number,
                                   "student": True}, headers=bearer(secret))
    assert added.status_code == 201, added.get_data(as_text=True)
    assert added.get_json()["student"] is True
    bad = client.post(url, json={"name": "X", "relation": "child", "id_number": "12"},
                      headers=bearer(secret))
    assert bad.status_code == 422 and "id_number" in bad.get_json()["errors"]
    viewer, _ = token_for("viewer")
    listed = client.get(url, headers=bearer(viewer)).get_json()["items"]
    assert [d["name"] for d in listed] == ["Tomás Mora"]
    assert number not in listed[0]["id_number"] and "•" in listed[0]["id_number"]
    plain = client.get(url, headers=bearer(secret)).get_json()["items"][0]["id_number"]
    assert "•" not in plain


def test_the_lists_rows_are_what_the_documented_schema_dumps(app, client, coop, make_member,
                                                            token_for, bearer):
    """The members list writes its rows directly (for speed); they must stay what
    MemberSummary documents and dumps, masked IDs included."""
    from flask import g

    from coopreg.api.members import MemberSummary
    from coopreg.auth.models import Role
    from coopreg.cooperatives.models import Cooperative

    make_member(coop, id_type="cr_cedula", id_number=cedula(), middle_name="Isabel")
    make_member(coop, phone="")
    for role in ("viewer", "secretary"):
        secret, _ = token_for(role)
        listed = client.get("/api/v1/members/", headers=bearer(secret)).get_json()["items"]
        with app.test_request_context():
            g.cooperative = db.session.get(Cooperative, coop.id)
            g.role = Role(role)
            members = [db.session.get(Member, item["id"]) for item in listed]
            assert listed == MemberSummary(many=True).dump(members), role


def test_a_change_keeps_the_national_id_it_did_not_touch(app, client, coop, make_member,
                                                          token_for, bearer):
    number = cedula()
    member = make_member(coop, id_type="cr_cedula", id_number=number)
    secret, _ = token_for("admin", scope="write")
    etag = client.get(f"/api/v1/members/{member.id}", headers=bearer(secret)).headers["ETag"]
    changed = client.patch(f"/api/v1/members/{member.id}", json={"phone": "+50688887777"},
                           headers=bearer(secret, **{"If-Match": etag}))
    assert changed.status_code == 200, changed.get_data(as_text=True)
    assert changed.get_json()["id_number"] == "0" + number
    with app.app_context():
        assert db.session.get(Member, member.id).id_number == "0" + number.replace("-", "")
