"""The API answers in the caller's language: Accept-Language first, else the language of the
token's owner, else the cooperative's. marshmallow's field errors (English, already formatted)
are said again in Spanish, French or Portuguese, and the rules' own messages too."""

from __future__ import annotations

from flask_babel import force_locale
from flask_babel import gettext as _
from marshmallow import fields, validate

from coopreg.api.messages import SENTENCES, translate
from coopreg.auth.models import User
from coopreg.cooperatives.models import Cooperative
from coopreg.extensions import db

SAID = {
    "es": {"limit": "Debe estar entre 1 y 500.", "required": "Este campo es obligatorio.",
           "integer": "No es un número entero."},
    "fr": {"limit": "Doit être compris entre 1 et 500.", "required": "Ce champ est obligatoire.",
           "integer": "Ce n'est pas un nombre entier."},
    "pt": {"limit": "Deve estar entre 1 e 500.", "required": "Este campo é obrigatório.",
           "integer": "Não é um número inteiro."},
}


def test_field_errors_are_in_the_language_asked_for(client, token_for, bearer):
    secret, _email = token_for("secretary", scope="write")
    for language, said in SAID.items():
        headers = bearer(secret, **{"Accept-Language": language})
        limit = client.get("/api/v1/members/?limit=0", headers=headers).get_json()
        assert limit["errors"] == {"limit": [said["limit"]]}, language
        typed = client.get("/api/v1/receipts/?member_id=abc", headers=headers).get_json()
        assert typed["errors"] == {"member_id": [said["integer"]]}, language
        missing = client.post("/api/v1/members/", json={"first_name": "Ana"},
                              headers=headers).get_json()
        assert missing["errors"]["last_name"] == [said["required"]], language
        assert missing["title"] != "Some values are not valid."
    english = client.get("/api/v1/members/?limit=0", headers=bearer(secret)).get_json()
    assert english["errors"] == {"limit": ["Must be from 1 to 500."]}


def test_the_rules_messages_and_choices_are_translated_too(app, client, token_for, bearer):
    secret, _email = token_for("secretary", scope="write")
    headers = bearer(secret, **{"Accept-Language": "fr-CA,fr;q=0.9"})
    phone = client.post("/api/v1/members/", json={
        "first_name": "Ana", "last_name": "Mora", "sex": "female", "date_of_birth": "1980-01-01",
        "sector": "agriculture", "phone": "no"}, headers=headers).get_json()
    with app.test_request_context(), force_locale("fr"):
        expected = _("A phone number holds digits, spaces, dashes, dots or brackets, and + only "
                     "at the start.")
    assert phone["errors"] == {"phone": [expected]} and "chiffres" in expected
    status = client.get("/api/v1/members/?status=gone", headers=headers).get_json()
    assert status["errors"]["status"][0].startswith("Doit être l'un de :")
    assert "active" in status["errors"]["status"][0]


def test_without_accept_language_the_owners_then_the_cooperatives_language(
        app, client, coop, token_for, bearer):
    secret, email = token_for("viewer")
    with app.app_context():
        db.session.get(Cooperative, coop.id).locale = "pt"
        db.session.commit()
    said = client.get("/api/v1/members/?limit=0", headers=bearer(secret)).get_json()
    assert said["errors"] == {"limit": [SAID["pt"]["limit"]]}
    assert said["title"] != "Some values are not valid."
    with app.app_context():
        db.session.scalar(db.select(User).where(User.email == email)).locale = "es"
        db.session.commit()
    said = client.get("/api/v1/members/?limit=0", headers=bearer(secret)).get_json()
    assert said["errors"] == {"limit": [SAID["es"]["limit"]]}
    asked = client.get("/api/v1/members/?limit=0",
                       headers=bearer(secret, **{"Accept-Language": "fr"})).get_json()
    assert asked["errors"] == {"limit": [SAID["fr"]["limit"]]}


def test_every_sentence_marshmallow_says_to_this_api_is_read_back(app):
    """What marshmallow really says for each kind of bad input the API's schemas meet is in
    the table (a new version that rewords a sentence fails here rather than answering in
    English)."""
    from marshmallow import Schema, ValidationError

    checks = {
        "required": (fields.String(required=True), None),
        "null": (fields.String(allow_none=False), None),
        "integer": (fields.Integer(), "x"),
        "number": (fields.Decimal(), "x"),
        "string": (fields.String(), 5),
        "boolean": (fields.Boolean(), "maybe"),
        "date": (fields.Date(), "someday"),
        "datetime": (fields.DateTime(), "someday"),
        "list": (fields.List(fields.String()), 5),
        "dict": (fields.Dict(), 5),
        "range": (fields.Integer(validate=validate.Range(min=1, max=500)), 0),
        "minimum": (fields.Integer(validate=validate.Range(min=1)), 0),
        "maximum": (fields.Integer(validate=validate.Range(max=9)), 10),
        "between": (fields.String(validate=validate.Length(min=3, max=300)), "x"),
        "longest": (fields.String(validate=validate.Length(max=2)), "xyz"),
        "shortest": (fields.String(validate=validate.Length(min=2)), "x"),
        "exactly": (fields.String(validate=validate.Length(equal=2)), "x"),
        "choices": (fields.String(validate=validate.OneOf(["a", "b"])), "c"),
    }
    schema = Schema.from_dict({name: field for name, (field, _bad) in checks.items()})()
    data = {name: bad for name, (_field, bad) in checks.items() if name != "required"}
    try:
        schema.load(data)
    except ValidationError as error:
        said = error.messages
    unknown = Schema.from_dict({})().validate({"x": 1})
    said["unknown"] = unknown["x"]
    assert set(said) == set(checks) | {"unknown"}
    english = {sentence for sentence, _ours in SENTENCES}
    with app.test_request_context(), force_locale("es"):
        for name, messages in said.items():
            assert translate(messages[0]) != messages[0], (name, messages[0])
        assert translate("Must be less than or equal to 9.") == "Debe ser 9 o menos."
        assert translate("A sentence nobody wrote.") == "A sentence nobody wrote."
    assert "Unknown field." in english
