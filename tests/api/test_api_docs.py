"""The API's documentation page speaks the reader's language around the OpenAPI document it
quotes (which is in English, marked lang="en")."""

from __future__ import annotations

from coopreg.auth.models import User
from coopreg.extensions import db


def test_the_docs_page_in_spanish(app, client, coop, make_user):
    from tests.conftest import login

    user_id, email = make_user(coop, "secretary")
    with app.app_context():
        db.session.get(User, user_id).locale = "es"
        db.session.commit()
    login(client, email, cooperative=coop)
    page = client.get("/api/v1/docs").get_data(as_text=True)
    assert "La API de coopreg" in page and "Respuestas" in page
    assert 'lang="en"' in page and "The coopreg API" not in page
