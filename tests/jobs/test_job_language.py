"""A job speaks the language of the person who started it, wherever it runs.

Jobs run here as in the worker (jobs.services.start_job in immediate mode: a thread of its
own, no request, a fresh application context), so nothing they say can come from the page
that started them: the language travels with the job.
"""

from __future__ import annotations

import io
import re
from datetime import date, timedelta

import pytest
from openpyxl import load_workbook

from coopreg.auth.models import User
from coopreg.cooperatives.models import Cooperative
from coopreg.core.audit import acting_as
from coopreg.core.languages import speaking
from coopreg.core.sentences import say
from coopreg.extensions import db
from coopreg.imports.models import ImportRun
from coopreg.jobs import services as job_services
from coopreg.jobs.models import Job, JobStatus
from tests.conftest import login
from tests.imports.conftest import csv_bytes

THIS_MONTH = date.today().replace(day=1)
LAST_MONTH = (THIS_MONTH - timedelta(days=1)).replace(day=1)


@pytest.fixture
def spanish(client, coop, make_user, app):
    """`spanish(role)`: the client logged in as a user who chose Spanish."""
    def factory(role: str):
        user_id, email = make_user(coop, role)
        with app.app_context():
            db.session.get(User, user_id).locale = "es"
            db.session.commit()
        login(client, email, cooperative=coop)
        return client
    return factory


def _job_id(response) -> int:
    assert response.status_code == 302, response.get_data(as_text=True)[:800]
    match = re.fullmatch(r".*/jobs/(\d+)", response.headers["Location"])
    assert match, response.headers["Location"]
    return int(match.group(1))


def _job(app, job_id: int) -> Job:
    with app.app_context():
        job = db.session.get(Job, job_id)
        db.session.expunge(job)
        return job


def test_the_job_keeps_the_language_it_was_started_in(app, coop):
    """Started from a Spanish page, run later by the worker (no request at all): Spanish."""
    with app.test_request_context(headers={"Accept-Language": "es"}):
        job = job_services.create_job(coop.id, "dues_generation", None,
                                      {"agreement_id": 0, "start": "2024-01-01",
                                       "through": "2024-01-01"})
        db.session.commit()
        job_id = job.id
    with app.app_context():  # the worker's context: no request, no user
        assert db.session.get(Job, job_id).language == "es"
        job_services.start_job(job_id)
        job = db.session.get(Job, job_id)
        assert job.status == JobStatus.FAILED
        # kept as the sentence, not its Spanish text: each reader gets it in their language
        assert job.error == {"code": "message", "params": {
            "msgid": "The agreement no longer exists.", "values": {}}}
        assert say(job.error) == "The agreement no longer exists."
        with speaking("es"):
            assert say(job.error) == "El convenio ya no existe."
        with speaking("fr"):
            assert say(job.error) == "La convention n'existe plus."
        assert job_services.read_progress(job_id)["message"] == "Falló"


def test_without_a_request_a_job_speaks_the_cooperatives_language(app, make_cooperative):
    """A job queued by a command speaks the cooperative's language, unless told another."""
    french = make_cooperative("FRJOB", "SN", "XOF", locale="fr")
    with app.app_context():
        assert job_services.create_job(french.id, "dues_generation", None, {}).language == "fr"
        assert job_services.create_job(french.id, "dues_generation", None, {},
                                       language="pt").language == "pt"
        db.session.rollback()


def test_an_import_checked_by_the_worker_reports_its_problems_in_spanish(app, spanish):
    client = spanish("secretary")
    run_id = _import_with_a_problem(client)
    with app.app_context():
        run = db.session.get(ImportRun, run_id)
        job = db.session.get(Job, run.job_id)
        assert (job.language, job.status) == ("es", JobStatus.SUCCEEDED), job.error
        problems = str(run.problems)
    assert "no es una fecha real" in problems and "is not a real date" not in problems
    page = client.get(f"/imports/{run_id}").get_data(as_text=True)
    assert "no es una fecha real" in page
    workbook = client.get(f"/imports/{run_id}/problems.xlsx")
    cells = [c.value for row in load_workbook(io.BytesIO(workbook.data)).active.iter_rows()
             for c in row]
    workbook.close()
    assert any("no es una fecha real" in str(v) for v in cells)
    assert "2 filas revisadas: 1 con problemas." in client.get(
        f"/jobs/{job.id}").get_data(as_text=True)


@pytest.fixture
def ready_agreement(app, coop):
    from tests.batches.helpers import make_agreement, ready_member

    with app.app_context(), acting_as(None, "tests"):
        cooperative = db.session.get(Cooperative, coop.id)
        agreement = make_agreement(cooperative, "LANG-1")
        for _ in range(2):
            ready_member(cooperative, agreement)
        db.session.commit()
        return agreement.id


def test_a_batch_prepared_and_sealed_by_the_worker_says_so_in_spanish(app, spanish,
                                                                     ready_agreement):
    client = spanish("secretary")
    job_id = _job_id(client.post("/batches/new", data={
        "agreement_id": ready_agreement, "kind": "enrolment", "policy": "exclude"}))
    job = _job(app, job_id)
    assert (job.language, job.status) == ("es", JobStatus.SUCCEEDED), job.error
    page = client.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert re.search(r"Borrador B-\d+ creado: revise sus líneas y luego séllelo\.", page)
    assert client.get(f"/jobs/{job_id}/status").get_json()["message"] == "Terminado"
    seal_id = _job_id(client.post(f"/batches/{job.result['batch_id']}/seal",
                                  data={"confirmed": "y"}))
    assert _job(app, seal_id).status == JobStatus.SUCCEEDED
    assert "está sellado" in client.get(f"/jobs/{seal_id}").get_data(as_text=True)


@pytest.fixture
def dues_world(app, coop):
    from tests.contributions.helpers import make_agreement, make_member, register

    with app.app_context(), acting_as(None, "tests"):
        agreement = make_agreement(coop, valid_from=LAST_MONTH, reference="LANG-DUES")
        for name in ("Ana", "Beto"):
            register(agreement, make_member(coop, first_name=name, phone="8888-0001",
                                            joined_on=date(2020, 1, 1)), LAST_MONTH)
        db.session.commit()
        return agreement.id


def test_dues_generated_by_the_worker_are_reported_in_spanish(app, spanish, dues_world):
    client = spanish("treasurer")
    asked = {"agreement_id": dues_world, "start": "", "through": f"{THIS_MONTH:%Y-%m}",
             "from_start": "y"}
    preview = client.post("/contributions/dues/generate", data=asked).get_data(as_text=True)
    confirm = re.search(r'<input[^>]*name="confirm"[^>]*value="([^"]+)"', preview).group(1)
    job_id = _job_id(client.post("/contributions/dues/generate",
                                 data={**asked, "confirm": confirm}))
    assert _job(app, job_id).language == "es"
    page = client.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert "4 cuotas creadas para 2 período(s)." in page


def test_exports_made_by_the_worker_are_reported_in_spanish(app, spanish, dues_world):
    from coopreg.agreements.models import Agreement
    from coopreg.contributions import services

    with app.app_context(), acting_as(None, "tests"):
        services.generate_dues(db.session.get(Agreement, dues_world), LAST_MONTH, LAST_MONTH)
        db.session.commit()
    client = spanish("secretary")
    job_id = _job_id(client.post("/contributions/arrears/export", data={"days": "0"}))
    assert _job(app, job_id).status == JobStatus.SUCCEEDED
    page = client.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert "2 socios con atrasos exportados." in page and "Exportación" in page
    job_id = _job_id(client.post("/agreements/coverage/export"))
    page = client.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert "Informe de cobertura de 2 socios activos exportado." in page
    job_id = _job_id(client.post("/imports/export", data={"as_of": "", "format": "csv"}))
    assert _job(app, job_id).language == "es"
    assert "exportado" in client.get(f"/jobs/{job_id}").get_data(as_text=True)


def test_commands_speak_the_cooperatives_language_unless_told(app, make_cooperative):
    from tests.imports.conftest import FIXTURES

    spanish_coop = make_cooperative("ESCLI", "CR", "CRC", locale="es")
    runner = app.test_cli_runner()
    path = FIXTURES / "members-cp1252-semicolon.csv"
    result = runner.invoke(args=["members", "import", str(path), "--cooperative",
                                 spanish_coop.code, "--dry-run"])
    assert "también está en la fila 5" in result.output, result.output
    result = runner.invoke(args=["members", "import", str(path), "--cooperative",
                                 spanish_coop.code, "--dry-run", "--lang", "en"])
    assert "is also on row 5" in result.output, result.output


def test_kept_sentences_are_said_in_each_readers_language(app, client, coop, make_user,
                                                          ready_agreement):
    """A batch prepared and sealed by a Spanish secretary: a French treasurer reads its job
    and the registrations' history in French (nothing stored as finished text)."""
    from coopreg.agreements.models import RegistrationEvent

    spanish_id, spanish_email = make_user(coop, "secretary")
    french_id, french_email = make_user(coop, "treasurer")
    with app.app_context():
        db.session.get(User, spanish_id).locale = "es"
        db.session.get(User, french_id).locale = "fr"
        db.session.commit()
    login(client, spanish_email, cooperative=coop)
    job_id = _job_id(client.post("/batches/new", data={
        "agreement_id": ready_agreement, "kind": "enrolment", "policy": "exclude"}))
    batch_id = _job(app, job_id).result["batch_id"]
    sealed = _job_id(client.post(f"/batches/{batch_id}/seal", data={"confirmed": "y"}))
    assert _job(app, sealed).status == JobStatus.SUCCEEDED
    with app.app_context():
        event = db.session.scalars(db.select(RegistrationEvent).where(
            RegistrationEvent.reason_code == "registrations.sent_in_batch")).first()
        assert event.reason is None and event.reason_params["ref"].startswith("B-")
        registration_id = event.registration_id
    client.post("/logout")
    login(client, french_email, cooperative=coop)
    page = client.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert re.search(r"Brouillon B-\d+", page) and "Borrador" not in page
    page = client.get(f"/agreements/registrations/{registration_id}").get_data(as_text=True)
    assert "Envoyé dans le lot B-" in page and "Inscrit" in page


def test_a_spanish_cooperatives_batch_file_speaks_spanish(app, client, make_cooperative,
                                                          make_user):
    """The built-in layout's column titles start in the cooperative's language, and the
    sealed file's summary sheet is written in it, whoever seals it."""
    from coopreg.batches.models import Batch
    from tests.batches.helpers import make_agreement, ready_member

    coop = make_cooperative("ESBATCH", "CR", "CRC", locale="es")
    with app.app_context(), acting_as(None, "tests"):
        cooperative = db.session.get(Cooperative, coop.id)
        agreement = make_agreement(cooperative, "ES-1")
        ready_member(cooperative, agreement)
        db.session.commit()
        agreement_id = agreement.id
    _uid, email = make_user(coop, "secretary")  # no language of their own: the cooperative's
    login(client, email, cooperative=coop)
    job_id = _job_id(client.post("/batches/new", data={
        "agreement_id": agreement_id, "kind": "enrolment", "policy": "exclude"}))
    batch_id = _job(app, job_id).result["batch_id"]
    sealed = _job_id(client.post(f"/batches/{batch_id}/seal", data={"confirmed": "y"}))
    assert _job(app, sealed).status == JobStatus.SUCCEEDED
    with app.app_context():
        batch = db.session.get(Batch, batch_id)
        path = f"{app.config['EXPORT_DIR']}/{batch.file_path}"
    workbook = load_workbook(path)
    assert workbook.sheetnames == ["Líneas", "Resumen"]
    header = [c.value for c in next(workbook["Líneas"].iter_rows(max_row=1))]
    assert header[:2] == ["Número de socio", "Documento de identidad"], header
    items = [row[0].value for row in workbook["Resumen"].iter_rows(min_row=2)]
    assert "Convenio" in items and "Institución" in items
    kinds = {row[0].value: row[1].value for row in workbook["Resumen"].iter_rows(min_row=2)}
    assert kinds["Tipo"] == "Afiliación"


def _import_with_a_problem(client) -> int:
    """An import checked by the worker with one row whose date is not real: its run id."""
    rows = [["A", "B", "C", "D", "E", "F", "G", "H"],
            ["Ana", "Rojas", "F", "17/05/1980", "0102340371", "8888-1234", "pesca",
             "15/01/2020"],
            ["Bad", "Row", "F", "31/02/1980", "0145674704", "", "pesca", "15/01/2020"]]
    response = client.post("/imports/", data={"file": (io.BytesIO(csv_bytes(rows)),
                                                       "socios.csv")},
                           content_type="multipart/form-data")
    run_id = int(re.search(r"/imports/(\d+)", response.headers["Location"]).group(1))
    response = client.post(f"/imports/{run_id}/mapping", data={
        "header_row": "1", "action": "preview", "col_0": "first_name", "col_1": "last_name",
        "col_2": "sex", "col_3": "date_of_birth", "col_4": "id_number", "col_5": "phone",
        "col_6": "sector", "col_7": "joined_on"})
    assert response.status_code == 302
    return run_id


@pytest.mark.parametrize("language", ["es", "fr", "pt"])
def test_every_spreadsheet_for_people_reads_in_the_users_language(
        app, client, coop, make_user, dues_world, language):
    """A Spanish, a French and a Portuguese admin get the arrears call list, the coverage-gap
    workbook, the register export (made by the worker), the import template, the problems
    workbook and the reconciliation workbook: no English message id of their language's
    catalogue and no raw code of an enum, in any sheet name, title or cell."""
    from coopreg.agreements.models import Agreement
    from coopreg.contributions import services
    from tests.core.test_every_page_in_spanish import _cells, _problems, _raw_codes

    with app.app_context(), acting_as(None, "tests"):
        services.generate_dues(db.session.get(Agreement, dues_world), LAST_MONTH, LAST_MONTH)
        db.session.commit()
    user_id, email = make_user(coop, "admin")
    with app.app_context():
        db.session.get(User, user_id).locale = language
        db.session.commit()
    login(client, email, cooperative=coop)
    made = {
        "arrears": _job_id(client.post("/contributions/arrears/export", data={"days": "0"})),
        "coverage": _job_id(client.post("/agreements/coverage/export")),
        "register": _job_id(client.post("/imports/export", data={"as_of": "",
                                                                 "format": "xlsx"})),
    }
    files = {}
    for name, job_id in made.items():
        response = client.get(f"/jobs/{job_id}/download")
        assert response.status_code == 200, name
        files[name] = response.data
        response.close()
    run_id = _import_with_a_problem(client)
    for name, url in (("template", "/imports/template.xlsx"),
                      ("problems", f"/imports/{run_id}/problems.xlsx"),
                      ("reconciliation",
                       f"/contributions/agreements/{dues_world}/reconciliation.xlsx")):
        response = client.get(url)
        assert response.status_code == 200, name
        files[name] = response.data
        response.close()
    codes = _raw_codes(app, language)
    problems = {name: _problems(_cells(data), codes, language) for name, data in files.items()}
    assert problems == {name: [] for name in files}
    # and they are in that language, not merely free of English
    with app.test_request_context(), speaking(language):
        from flask_babel import gettext

        arrears_sheet = gettext("Arrears")
    assert arrears_sheet in load_workbook(io.BytesIO(files["arrears"])).sheetnames
    months = [cell for cell in _cells(files["reconciliation"])
              if re.fullmatch(r"\d{4}-\d{2}", cell)]
    assert months == []  # months as people say them, not "2026-11"
