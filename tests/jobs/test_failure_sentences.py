"""Why a job or an import failed is kept as a sentence (its code and values), said in the
reader's language, and migration 0026 converts what was kept as text before (a job's failure,
an import's reason, the problems of an answer file's rows kept as the uploader's sentences)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from coopreg.core.languages import speaking
from coopreg.core.sentences import kept_error, recognise, say
from coopreg.extensions import db
from tests.conftest import drop_database, fresh_database_url, make_test_app


def test_a_sentence_the_application_said_is_kept_as_its_message_id(app):
    with app.app_context():
        with speaking("es"):  # a Spanish job's domain error
            found = kept_error("La fecha de nacimiento está en el futuro.")
        assert found == {"code": "message", "params": {
            "msgid": "The date of birth is in the future.", "values": {}}}
        with speaking("pt"):
            assert say(found) == "A data de nascimento está no futuro."
        with speaking("fr"):
            assert say(found) == "La date de naissance est dans le futur."


def test_values_inside_a_sentence_are_kept_and_numbers_stay_numbers(app):
    with app.app_context():
        found = recognise("The worker running this job stopped 3 times; nothing was saved. "
                          "Start it again; if it stops again, tell your admin.")
        assert found["code"] == "message" and found["params"]["values"] == {"n": 3}
        with speaking("es"):
            said = say(found)
        assert "3" in said and "worker" not in said


def test_text_no_catalogue_knows_is_kept_as_it_is(app):
    with app.app_context():
        found = recognise("row 3 is wrong")
        assert found == {"code": "text", "params": {"text": "row 3 is wrong"}}
        with speaking("fr"):
            assert say(found) == "row 3 is wrong"


def _answer_row(app, export_dir) -> int:
    """An answer file of a sealed batch with one row that matches nothing (at the head)."""
    from coopreg.batches import acks, services
    from coopreg.cooperatives.services import create_cooperative
    from coopreg.core.audit import acting_as
    from tests.batches.helpers import make_agreement, ready_member

    with acting_as(None, "tests"):
        cooperative = create_cooperative("MIG26", "Migración", "CR", "CRC", "es")
        agreement = make_agreement(cooperative, "MIG-26")
        ready_member(cooperative, agreement)
        batch = services.create_batch(cooperative, agreement, "enrolment", None)
        services.seal_batch(batch, None, export_dir)
        ack = acks.upload_acknowledgement(
            batch, ("Cédula;Número de asegurado;Resultado;Vigencia\r\n"
                    "999999999;CC-0000601;ACEPTADO;01/02/2025\r\n").encode(), "a.csv", None)
        db.session.commit()
        line_id = ack.lines[0].id
    db.session.remove()
    return line_id


def _problems(conn, line_id: int):
    value = conn.execute(sa.text("SELECT problems FROM acknowledgement_lines WHERE id = :id"),
                         {"id": line_id}).scalar_one()
    return value if isinstance(value, list) else json.loads(value)


@pytest.mark.no_transaction
def test_migration_0026_turns_stored_text_into_sentences_and_back(tmp_path):
    url = fresh_database_url("failures")
    app = make_test_app(url)
    app.config["EXPORT_DIR"] = str(tmp_path)
    now = datetime(2026, 12, 1, tzinfo=UTC)
    try:
        with app.app_context():
            upgrade()
            line_id = _answer_row(app, str(tmp_path))
            with db.engine.connect() as conn:
                declared = _problems(conn, line_id)
            assert declared[0]["code"] == "answers.no_match"
            downgrade(revision="0032")
            with db.engine.begin() as conn:
                conn.execute(sa.text("DELETE FROM jobs"))
                for job_id, error in ((1, "El convenio ya no existe."),
                                      (2, "Something a worker of 2020 said"), (3, None)):
                    conn.execute(sa.text(
                        "INSERT INTO jobs (id, cooperative_id, kind, status, params, error, "
                        "created_at, attempts) VALUES (:id, 1, 'member_import', 'failed', "
                        "'{}', :error, :now, 1)"), {"id": job_id, "error": error, "now": now})
                # rows carried over by 0031 keep the uploader's sentences as text
                conn.execute(sa.text(
                    "UPDATE acknowledgement_lines SET problems = :problems WHERE id = :id"),
                    {"id": line_id, "problems": json.dumps(
                        ["Una línea aceptada necesita el número de asegurado de la institución.",
                         "Llamó el 3 de enero", declared[0]])})
            upgrade(revision="0026")
            with db.engine.connect() as conn:
                rows = dict(conn.execute(sa.text("SELECT id, error FROM jobs")).all())
                problems = _problems(conn, line_id)
            errors = {k: v if isinstance(v, dict | None) else json.loads(v)
                      for k, v in rows.items()}
            assert errors[1] == {"code": "message", "params": {
                "msgid": "The agreement no longer exists.", "values": {}}}
            assert errors[2] == {"code": "text", "params": {
                "text": "Something a worker of 2020 said"}}
            assert errors[3] is None
            assert problems == [
                {"code": "message", "params": {
                    "msgid": "An accepted line needs the institution's member number.",
                    "values": {}}},
                {"code": "text", "params": {"text": "Llamó el 3 de enero"}},
                declared[0]]
            with speaking("pt"):
                assert say(errors[1]) == "O convênio não existe mais."
                assert "institui" in say(problems[0])

            downgrade(revision="0032")
            with db.engine.connect() as conn:
                rows = dict(conn.execute(sa.text("SELECT id, error FROM jobs")).all())
                problems = _problems(conn, line_id)
            assert rows == {1: "The agreement no longer exists.",
                            2: "Something a worker of 2020 said", 3: None}
            assert problems == ["An accepted line needs the institution's member number.",
                                "Llamó el 3 de enero", declared[0]]
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        drop_database(url)


def test_text_the_application_wrote_in_a_plain_column_is_said_in_the_readers_language(app):
    """A receipt's note made from a bank statement line, written in Spanish, reads in French
    for a French treasurer; a note a person typed stays as typed."""
    from coopreg.core.sentences import said_again

    with app.app_context():
        with speaking("es"):
            from flask_babel import gettext

            written = gettext("From statement line %(n)d", n=12)
        assert "12" in written and written != "From statement line 12"
        with speaking("fr"):
            french = said_again(written)
        assert "12" in french and french not in (written, "From statement line 12")
        with speaking("fr"):
            assert said_again("Pagó su hermana en efectivo") == "Pagó su hermana en efectivo"
        assert said_again(None) == ""
