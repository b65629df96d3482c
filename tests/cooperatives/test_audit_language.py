"""The audit log reads in the reader's language: records by their name, what was done, field
labels, values formatted (money from minor units, dates, statuses), who and when."""

from __future__ import annotations

from datetime import date

from coopreg.auth.models import User
from coopreg.core.audit import acting_as
from coopreg.extensions import db
from tests.conftest import login


def test_the_audit_log_speaks_spanish_and_shows_no_raw_row(app, client, coop, make_user,
                                                           make_member):
    member = make_member(coop, declared_income="250000.50", date_of_birth=date(1980, 5, 17))
    with app.app_context(), acting_as(None, "job 12"):
        from coopreg.members.models import Member, MemberStatus

        row = db.session.get(Member, member.id)
        row.status = MemberStatus.SUSPENDED
        db.session.commit()
    user_id, email = make_user(coop, "admin")
    with app.app_context():
        db.session.get(User, user_id).locale = "es"
        db.session.commit()
    login(client, email, cooperative=coop)
    page = client.get("/admin/audit?entity=members").get_data(as_text=True)
    body = page.split("<main", 1)[-1]
    assert "Socio #" in body and "Creado" in body and "Modificado" in body
    assert "Ingreso declarado" in body and "250.000,50\u00a0₡" in body
    assert "Fecha de nacimiento" in body and "17 may 1980" in body
    assert "<del>Activo</del> → <ins>En suspenso</ins>" in body
    assert "tarea en segundo plano 12" in body
    for raw in ("declared_income_minor", "date_of_birth", "25000050", "'before'", "suspended",
                "members #", ">update<", ">create<"):
        assert raw not in body, raw
