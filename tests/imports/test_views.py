"""The import pages through the client: upload, mapping, preview, commit, downloads, export."""

from __future__ import annotations

import io
import re
from datetime import date

from sqlalchemy import func, select

from coopreg.core.spreadsheets import read_table
from coopreg.extensions import db
from coopreg.imports.models import ImportRun, ImportStatus
from coopreg.members.models import Member
from tests.imports.conftest import HEADER, csv_bytes, good_row


def _upload(client, data: bytes, name: str = "socios.csv"):
    return client.post("/imports/", data={"file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def _run_id(response) -> int:
    return int(re.search(r"/imports/(\d+)", response.headers["Location"]).group(1))


def _count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def test_upload_map_preview_and_import(app, as_role):
    client = as_role("secretary")
    rows = [["Cooperativa de Prueba"], [], ["Nombre", "Apellidos", "Sexo",
                                           "Fecha de nacimiento", "Cédula", "Teléfono",
                                           "Actividad", "Ingreso"]]
    rows += [[f"Ana{n}", "Rojas", "F", "17/05/1980", cedula, "8888-1234", "pesca",
              "15/01/2020"] for n, cedula in enumerate(["0102340371", "0111111248"])]
    rows += [["Bad", "Row", "F", "31/02/1980", "0145674704", "", "pesca", "15/01/2020"]]
    response = _upload(client, csv_bytes(rows))
    assert response.status_code == 302
    run_id = _run_id(response)

    page = client.get(f"/imports/{run_id}/mapping")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'value="3"' in html  # the header row found below the title rows
    assert re.search(r'name="col_7"[^>]*>.*?<option selected value="declared_income"', html,
                     re.S)
    form = {"header_row": "3", "action": "preview", "col_0": "first_name",
            "col_1": "last_name", "col_2": "sex", "col_3": "date_of_birth",
            "col_4": "id_number", "col_5": "phone", "col_6": "sector", "col_7": "joined_on"}
    response = client.post(f"/imports/{run_id}/mapping", data=form)
    assert response.status_code == 302
    page = client.get(f"/imports/{run_id}").get_data(as_text=True)
    assert "is not a real date" in page and "D · Fecha de nacimiento" in page
    assert _count(app, Member) == 0

    refused = client.post(f"/imports/{run_id}/commit", data={"confirmed": "y"},
                          follow_redirects=True)
    assert "1 row(s) have problems, so nothing was imported" in refused.get_data(as_text=True)
    assert _count(app, Member) == 0

    problems = client.get(f"/imports/{run_id}/problems.xlsx")
    assert problems.status_code == 200
    assert "attachment" in problems.headers["Content-Disposition"]
    table = read_table(problems.data, filename="p.xlsx")
    problems.close()
    assert table.rows[1][1] == "6"

    done = client.post(f"/imports/{run_id}/commit", data={"valid_rows_only": "y", "confirmed": "y"},
                       follow_redirects=True)
    assert "Import done: 2 created, 0 updated" in done.get_data(as_text=True)
    assert _count(app, Member) == 2
    with app.app_context():
        run = db.session.get(ImportRun, run_id)
        assert run.status == ImportStatus.COMMITTED and run.original_filename == "socios.csv"
        assert len(run.sha256) == 64 and run.created_by_id is not None


def test_a_hostile_upload_is_refused_and_nothing_kept(app, as_role):
    client = as_role("secretary")
    response = _upload(client, b"Nombre,Apellido\nAna,Rojas\n", "socios.xlsx")
    assert response.status_code == 422
    assert "really a CSV text file" in response.get_data(as_text=True)
    assert _count(app, ImportRun) == 0


def test_an_oversized_upload_gets_the_413_page(app, as_role, monkeypatch):
    client = as_role("secretary")
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 1024)
    response = _upload(client, b"a," * 2000)
    assert response.status_code == 413


def test_too_many_rows_are_refused(app, as_role, monkeypatch):
    client = as_role("secretary")
    monkeypatch.setitem(app.config, "COOPREG_IMPORT_MAX_ROWS", 3)
    data = csv_bytes([HEADER] + [good_row(n) for n in range(60)])
    response = _upload(client, data)
    assert response.status_code == 422
    assert "more than 3 rows" in response.get_data(as_text=True)


def test_changing_the_header_row_re_proposes_the_columns(app, as_role):
    client = as_role("secretary")
    run_id = _run_id(_upload(client, csv_bytes([["x", "y"], HEADER, good_row(0)])))
    page = client.post(f"/imports/{run_id}/mapping", data={"header_row": "1",
                                                           "action": "reheader"})
    assert page.status_code == 200
    assert "A · x" in page.get_data(as_text=True)


def test_mapping_without_required_fields_is_refused(app, as_role):
    client = as_role("secretary")
    run_id = _run_id(_upload(client, csv_bytes([HEADER, good_row(0)])))
    response = client.post(f"/imports/{run_id}/mapping",
                           data={"header_row": "1", "action": "preview", "col_0": "first_name"})
    assert response.status_code == 422
    assert "Choose the column that holds" in response.get_data(as_text=True)


def test_template_download(app, as_role):
    client = as_role("secretary")
    response = client.get("/imports/template.xlsx")
    assert response.status_code == 200
    table = read_table(response.data, filename="t.xlsx")
    assert table.rows[0][1] == "First name"


def test_export_from_the_member_list(app, as_role, make_member, coop):
    client = as_role("treasurer")
    make_member(coop, first_name="Rosa", joined_on=date(2020, 1, 1))
    listing = client.get("/members/").get_data(as_text=True)
    assert 'action="/imports/export"' in listing and "/imports/\"" not in listing
    assert 'method="post" action="/imports/export"' in listing
    started = client.post("/imports/export", data={"as_of": "2021-01-01", "format": "csv"})
    assert started.status_code == 302
    job_page = started.headers["Location"]
    assert re.fullmatch(r"/jobs/\d+", job_page)
    response = client.get(job_page + "/download")
    assert response.status_code == 200
    assert "members-CRTEST-2021-01-01.csv" in response.headers["Content-Disposition"]
    assert "Rosa" in response.data.decode("utf-8-sig")
    response.close()
    bad = client.post("/imports/export", data={"as_of": "2999-01-01", "format": "csv"})
    assert bad.status_code == 422
    assert "The date is in the future." in bad.get_data(as_text=True)
    # a GET (an old bookmark) only fills the form in: nothing is exported
    form = client.get("/imports/export?as_of=2021-01-01&format=csv")
    assert form.status_code == 200 and 'value="2021-01-01"' in form.get_data(as_text=True)


def test_viewers_may_not_export(as_role):
    client = as_role("viewer")
    assert client.get("/imports/export?format=csv").status_code == 403
    assert client.post("/imports/export", data={"format": "csv"}).status_code == 403
    assert 'action="/imports/export"' not in client.get("/members/").get_data(as_text=True)
