"""The API's member: the record institutions' forms ask for (name extension, civil status,
nationality, mother's maiden name, email, tax number, Costa Rica's divisions by code), the
phone in E.164 and in the national form, the tax number masked for viewers like the ID."""

from __future__ import annotations

from tests.factories import cedula


def _member(make_member, coop):
    number = cedula()
    return make_member(coop, id_type="cr_cedula", id_number=number, tax_number=number,
                       name_extension="Jr.", mothers_maiden_name="Mora",
                       civil_status="married", nationality="CR", email="ana@example.org",
                       phone="8888-1234", district_code="10501")


def test_a_member_gives_the_record_institutions_ask_for_and_the_phone_in_e164(
        client, coop, make_member, token_for, bearer):
    member = _member(make_member, coop)
    secret, _email = token_for("secretary")
    one = client.get(f"/api/v1/members/{member.id}", headers=bearer(secret)).get_json()
    assert one["phone"] == "+50688881234" and one["phone_national"] == "8888 1234"
    assert one["phone_unchecked"] is False
    assert (one["name_extension"], one["mothers_maiden_name"], one["civil_status"],
            one["nationality"], one["email"]) == ("Jr.", "Mora", "married", "CR",
                                                  "ana@example.org")
    assert one["tax_number"] == member.tax_number
    assert (one["province_code"], one["canton_code"], one["district_code"]) == (
        "1", "105", "10501")
    listed = client.get("/api/v1/members/", headers=bearer(secret)).get_json()["items"]
    assert listed[0]["phone"] == "+50688881234"


def test_a_viewer_sees_the_tax_number_masked_like_the_id(client, coop, make_member,
                                                          token_for, bearer):
    member = _member(make_member, coop)
    secret, _email = token_for("viewer")
    one = client.get(f"/api/v1/members/{member.id}", headers=bearer(secret)).get_json()
    assert member.tax_number not in one["tax_number"] and "•" in one["tax_number"]
    assert one["tax_number"].endswith(member.tax_number[-3:])


def test_the_openapi_document_describes_the_new_fields_read_only(client):
    schema = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    detail = schema["MemberDetail"]["properties"]
    for name in ("name_extension", "civil_status", "nationality", "mothers_maiden_name",
                 "email", "tax_number", "phone_national", "district_code"):
        assert name in detail, name
    assert "married" in detail["civil_status"]["enum"]
    assert "E.164" in schema["MemberSummary"]["properties"]["phone"]["description"]
