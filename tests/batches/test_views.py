"""The batches pages through the client: prepare, preview, seal, download (checksum
checked), the kind's roles, the answers, and the layout editor."""

from __future__ import annotations

import hashlib
import io
import os
from datetime import timedelta
from pathlib import Path

import pytest
from python_calamine import CalamineWorkbook
from sqlalchemy import select

from coopreg.agreements.models import Registration
from coopreg.batches.models import Acknowledgement, AckStatus, Batch, BatchStatus, FileLayout
from coopreg.cooperatives.models import Cooperative
from coopreg.core.audit import acting_as
from coopreg.core.models import utcnow
from coopreg.extensions import db
from tests.batches.helpers import make_agreement, ready_member

CONFIRMED = {"confirmed": "y"}  # the "I understand" box of irreversible actions


@pytest.fixture
def seeded(app, coop):
    with app.app_context(), acting_as(None, "tests"):
        cooperative = db.session.get(Cooperative, coop.id)
        agreement = make_agreement(cooperative, "VIEW-1")
        ids = [ready_member(cooperative, agreement)[0].id_number for _ in range(3)]
        db.session.commit()
        return {"agreement_id": agreement.id, "ids": ids}


def _batch(app) -> Batch:
    with app.app_context():
        batch = db.session.scalar(select(Batch).order_by(Batch.id.desc()))
        db.session.expunge(batch)
        return batch


def _prepare_and_seal(client, app, seeded) -> Batch:
    response = client.post("/batches/new", data={"agreement_id": seeded["agreement_id"],
                                                 "kind": "enrolment", "policy": "exclude"})
    assert response.status_code == 302, response.get_data(as_text=True)
    batch = _batch(app)
    page = client.get(f"/batches/{batch.id}").get_data(as_text=True)
    assert "Preview" in page and seeded["ids"][0] in page
    response = client.post(f"/batches/{batch.id}/seal", data=CONFIRMED, follow_redirects=True)
    assert "is sealed" in response.get_data(as_text=True)
    return _batch(app)


def test_secretary_prepares_seals_and_downloads(client, app, as_role, seeded):
    as_role("secretary")
    batch = _prepare_and_seal(client, app, seeded)
    assert batch.status == BatchStatus.SEALED
    response = client.get(f"/batches/{batch.id}/download")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    assert batch.reference in response.headers["Content-Disposition"]
    assert hashlib.sha256(response.data).hexdigest() == batch.sha256
    rows = CalamineWorkbook.from_filelike(io.BytesIO(response.data)).get_sheet_by_name(
        "Lines").to_python()
    assert sorted(r[1] for r in rows[1:]) == sorted(seeded["ids"])


def test_download_refuses_a_changed_or_missing_file(client, app, as_role, seeded):
    as_role("secretary")
    batch = _prepare_and_seal(client, app, seeded)
    path = Path(app.config["EXPORT_DIR"]) / batch.file_path
    os.chmod(path, 0o644)
    path.write_bytes(path.read_bytes() + b"\0")
    response = client.get(f"/batches/{batch.id}/download")
    assert response.status_code == 409
    assert "no longer matches" in response.get_data(as_text=True)
    path.unlink()
    response = client.get(f"/batches/{batch.id}/download")
    assert response.status_code == 409 and "missing" in response.get_data(as_text=True)


def test_no_route_changes_a_sealed_batch(client, app, as_role, seeded):
    as_role("admin")
    batch = _prepare_and_seal(client, app, seeded)
    path = Path(app.config["EXPORT_DIR"]) / batch.file_path
    before = path.read_bytes()
    for action, data in (("seal", CONFIRMED), ("refresh", {}), ("discard", CONFIRMED),
                         ("policy", {"policy": "block"})):
        response = client.post(f"/batches/{batch.id}/{action}", data=data,
                               follow_redirects=True)
        assert response.status_code == 200
        assert "sealed" in response.get_data(as_text=True)
    after = _batch(app)
    assert (after.status, after.sha256, after.problem_policy) == (
        BatchStatus.SEALED, batch.sha256, batch.problem_policy)
    assert path.read_bytes() == before


def test_the_kind_decides_who_prepares(client, app, as_role, seeded):
    as_role("treasurer")
    response = client.post("/batches/new", data={"agreement_id": seeded["agreement_id"],
                                                 "kind": "enrolment", "policy": "exclude"},
                           follow_redirects=True)
    assert "prepared by the secretary" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(Batch.id)) is None


def test_viewer_sees_masked_ids_and_cannot_download(client, app, as_role, seeded):
    secretary = as_role("secretary")
    batch = _prepare_and_seal(secretary, app, seeded)
    client.post("/logout")
    as_role("viewer")
    page = client.get(f"/batches/{batch.id}").get_data(as_text=True)
    assert seeded["ids"][0] not in page and "•" in page
    assert client.get(f"/batches/{batch.id}/download").status_code == 403


def test_mark_sent_and_answer(client, app, as_role, seeded):
    as_role("secretary")
    batch = _prepare_and_seal(client, app, seeded)
    response = client.post(f"/batches/{batch.id}/sent",
                           data={"sent_on": "2020-01-01", "channel": "portal", **CONFIRMED},
                           follow_redirects=True)
    assert "cannot have been sent before" in response.get_data(as_text=True)
    from datetime import date
    response = client.post(f"/batches/{batch.id}/sent",
                           data={"sent_on": date.today().isoformat(), "channel": "portal",
                                 "note": "receipt 42", **CONFIRMED}, follow_redirects=True)
    assert "marked sent" in response.get_data(as_text=True)
    answer = ("Cédula;Número;Resultado;Motivo;Fecha\r\n"
              f"{seeded['ids'][0]};CC-0000001;A;;01/02/2025\r\n"
              f"{seeded['ids'][1]};;R;Ya asegurado;\r\n").encode("cp1252")
    response = client.post(f"/batches/{batch.id}/answers/new",
                           data={"file": (io.BytesIO(answer), "respuesta.csv")},
                           content_type="multipart/form-data")
    assert response.status_code == 302 and "/mapping" in response.headers["Location"]
    mapping_url = response.headers["Location"]
    page = client.get(mapping_url).get_data(as_text=True)
    assert "Cédula" in page
    response = client.post(mapping_url, data={
        "id_number": "Cédula", "member_number": "", "institution_number": "Número",
        "result": "Resultado", "reason": "Motivo", "effective_date": "Fecha",
        "accepted_values": "A", "rejected_values": "R", "date_order": ""})
    assert response.status_code == 302
    ack_url = response.headers["Location"]
    page = client.get(ack_url).get_data(as_text=True)
    assert "Apply the answers" in page
    response = client.post(ack_url + "/apply", data=CONFIRMED, follow_redirects=True)
    assert "1 accepted, 1 rejected" in response.get_data(as_text=True)
    with app.app_context():
        statuses = sorted(s.value for s in db.session.scalars(select(Registration.status)))
        assert statuses == ["registered", "rejected", "submitted"]
    assert _batch(app).status == BatchStatus.PARTIALLY_ACKNOWLEDGED


def test_layout_editor(client, app, as_role, seeded, coop):
    as_role("admin")
    response = client.post("/batches/layouts/new", data={
        "agreement_id": seeded["agreement_id"], "kind": "remittance",
        "built_in": "fixed_width_remittance"})
    assert response.status_code == 302
    with app.app_context():
        layout = db.session.scalar(select(FileLayout))
        layout_id, columns = layout.id, [c.id for c in layout.columns]
        assert layout.format.value == "fixed" and layout.built_in_origin
    page = client.get(f"/batches/layouts/{layout_id}").get_data(as_text=True)
    assert "starting point" in page
    # a fixed-width column needs a width
    response = client.post(f"/batches/layouts/{layout_id}/columns", data={
        "header": "Phone", "source": "member.phone", "col_type": "text", "align": "left",
        "pad": " ", "transform": "none", "id_format": "compact", "decimals": "2"},
        follow_redirects=True)
    assert "needs each column" in response.get_data(as_text=True)
    client.post(f"/batches/layouts/{layout_id}/columns", data={
        "header": "Phone", "source": "member.phone", "col_type": "text", "align": "left",
        "pad": " ", "transform": "none", "id_format": "compact", "decimals": "2",
        "width": "12"})
    client.post(f"/batches/layouts/{layout_id}/columns/{columns[1]}/move",
                data={"direction": "up"})
    client.post(f"/batches/layouts/{layout_id}/columns/{columns[0]}/delete")
    with app.app_context():
        layout = db.session.get(FileLayout, layout_id)
        assert [c.header for c in layout.columns][:2] == ["Institution number", "Last name"]
        assert layout.columns[-1].header == "Phone" and layout.columns[-1].width == 12
    response = client.post(f"/batches/layouts/{layout_id}", data={
        "name": "Mine", "format": "csv", "encoding": "cp1252", "delimiter": ";",
        "decimal_mark": ",", "include_header": "y", "footer_line": "{nope}"})
    assert response.status_code == 422 and "Unknown placeholder" in response.get_data(
        as_text=True)
    # copy to another agreement
    with app.app_context(), acting_as(None, "tests"):
        other = make_agreement(db.session.get(Cooperative, coop.id), "VIEW-2").id
        db.session.commit()
    response = client.post(f"/batches/layouts/{layout_id}/copy", data={"agreement_id": other})
    assert response.status_code == 302
    with app.app_context():
        copies = db.session.scalars(select(FileLayout).where(
            FileLayout.agreement_id == other)).all()
        assert len(copies) == 1 and len(copies[0].columns) == len(columns)


def test_every_page_renders(client, app, as_role, seeded):
    as_role("admin")
    batch = _prepare_and_seal(client, app, seeded)
    with app.app_context():
        layout = db.session.scalar(select(FileLayout))
        layout_id, column_id = layout.id, layout.columns[0].id
    answer = f"ID;Result\r\n{seeded['ids'][0]};A\r\n".encode()
    response = client.post(f"/batches/{batch.id}/answers/new",
                           data={"file": (io.BytesIO(answer), "a.csv")},
                           content_type="multipart/form-data")
    mapping_url = response.headers["Location"]
    for url in ("/batches/", "/batches/new", f"/batches/{batch.id}",
                f"/batches/{batch.id}?lines=problems", f"/batches/{batch.id}/answers/new",
                mapping_url, mapping_url.rsplit("/", 1)[0], "/batches/layouts",
                "/batches/layouts/new", f"/batches/layouts/{layout_id}",
                f"/batches/layouts/{layout_id}/columns/{column_id}"):
        response = client.get(url)
        assert response.status_code == 200, url


def test_new_batch_form_takes_agreement_kind_and_period_from_the_link(client, as_role,
                                                                      seeded):
    """The remittance page links here with the agreement, the kind and the month: the form
    comes filled with all three."""
    as_role("admin")
    page = client.get(f"/batches/new?agreement_id={seeded['agreement_id']}&kind=remittance"
                      "&period=2025-03").get_data(as_text=True)
    assert f'<option selected value="{seeded["agreement_id"]}">' in page
    assert '<option selected value="remittance">' in page
    assert 'name="period"' in page and 'value="2025-03"' in page


def test_an_answer_with_unknown_words_opens_the_mapping_filled_in_and_expires_unapplied(
        client, app, as_role, seeded):
    as_role("secretary")
    batch = _prepare_and_seal(client, app, seeded)
    answer = ("RESPUESTA DE LA CCSS\r\n\r\n"
              "Cédula;Número de asegurado;Estado;Observaciones;Fecha de vigencia\r\n"
              f"{seeded['ids'][0]};CC-0000001;ACEPTADO;;01/02/2025\r\n"
              f"{seeded['ids'][1]};;EN TRÁMITE;Falta documento;\r\n").encode()
    response = client.post(f"/batches/{batch.id}/answers/new",
                           data={"file": (io.BytesIO(answer), "respuesta.csv")},
                           content_type="multipart/form-data")
    assert response.status_code == 302 and "/mapping" in response.headers["Location"]
    mapping_url = response.headers["Location"]
    page = client.get(mapping_url).get_data(as_text=True)
    assert "en tramite" in page and "not known yet" in page and "row 3" in page
    # every column is already chosen: nothing to type but the unknown word's meaning
    assert '<option selected value="Número de asegurado">' in page or \
        'value="Número de asegurado" selected' in page
    ack_url = mapping_url.rsplit("/mapping", 1)[0]
    assert "Kept until" in client.get(ack_url).get_data(as_text=True)

    with app.app_context():
        ack = db.session.scalar(select(Acknowledgement))
        ack.created_at = utcnow() - timedelta(hours=app.config[
            "IMPORT_UPLOAD_RETENTION_HOURS"] + 1)
        db.session.commit()
    result = app.test_cli_runner().invoke(args=["jobs", "clean"])
    assert result.exit_code == 0, result.output
    assert "1 answer file(s) never applied removed" in result.output
    with app.app_context():
        ack = db.session.scalar(select(Acknowledgement))
        assert ack.status == AckStatus.EXPIRED and ack.lines == []
    page = client.get(ack_url).get_data(as_text=True)
    assert "expired, never applied" in page and "Kept until" not in page
    response = client.post(ack_url + "/apply", data=CONFIRMED, follow_redirects=True)
    assert "expired" in response.get_data(as_text=True)
def test_a_form_layouts_header_and_footer_survive_the_layout_editor(client, app, as_role,
                                                                     seeded):
    as_role("admin")
    response = client.post("/batches/layouts/new", data={
        "agreement_id": seeded["agreement_id"], "kind": "remittance",
        "built_in": "philhealth_rf1"})
    assert response.status_code == 302
    with app.app_context():
        layout = db.session.scalar(select(FileLayout))
        layout_id, header, footer = layout.id, layout.header_line, layout.footer_line
        assert header.startswith("PhilHealth Employer Number (PEN)|{agreement};")
        assert "Receipt / Payment Reference No.|{payment_reference}" in footer
    page = client.get(f"/batches/layouts/{layout_id}").get_data(as_text=True)
    assert "records “Title|value” separated by “;”" in page
    response = client.post(f"/batches/layouts/{layout_id}", data={
        "name": "RF-1", "format": "xlsx", "encoding": "utf-8-sig", "delimiter": ",",
        "decimal_mark": ".", "include_header": "y", "header_line": header,
        "footer_line": footer + ";Prepared by|{nope}"})
    assert response.status_code == 422
    assert "Unknown placeholder {nope}" in response.get_data(as_text=True)
    client.post(f"/batches/layouts/{layout_id}", data={
        "name": "RF-1", "format": "xlsx", "encoding": "utf-8-sig", "delimiter": ",",
        "decimal_mark": ".", "include_header": "y", "header_line": header,
        "footer_line": footer + ";Prepared by|{employer_name}"})
    with app.app_context():
        layout = db.session.get(FileLayout, layout_id)
        assert layout.header_line == header
        assert layout.footer_line == footer + ";Prepared by|{employer_name}"
