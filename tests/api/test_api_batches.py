"""A script with a cooperative's token lists its sealed batches, downloads a file, checks its
SHA-256, and posts the institution's answer file (issue 19's "done when")."""

from __future__ import annotations

import hashlib
import io

from coopreg.agreements.models import Registration, RegistrationStatus
from coopreg.batches import services
from coopreg.cooperatives.models import Cooperative
from coopreg.core.audit import acting_as
from coopreg.extensions import db
from tests.batches.helpers import make_agreement, ready_member


def _sealed_batch(app, coop) -> tuple[int, list[str]]:
    with app.app_context(), acting_as(None, "tests"):
        cooperative = db.session.get(Cooperative, coop.id)
        agreement = make_agreement(cooperative, "API-1")
        ids = [ready_member(cooperative, agreement)[0].id_number for _ in range(2)]
        batch = services.create_batch(cooperative, agreement, "enrolment", None)
        services.seal_batch(batch, None, app.config["EXPORT_DIR"])
        db.session.commit()
        return batch.id, ids


def test_list_download_check_and_answer(app, client, coop, token_for, bearer):
    batch_id, ids = _sealed_batch(app, coop)
    secret, _ = token_for("secretary", scope="write")
    listed = client.get("/api/v1/batches/?status=sealed", headers=bearer(secret)).get_json()
    assert [b["id"] for b in listed["items"]] == [batch_id]
    recorded = listed["items"][0]["sha256"]
    response = client.get(f"/api/v1/batches/{batch_id}/file", headers=bearer(secret))
    assert response.status_code == 200
    assert hashlib.sha256(response.data).hexdigest() == recorded == response.headers[
        "X-Content-SHA256"]
    answer = ("Cédula;Número de asegurado;Resultado;Motivo;Fecha de vigencia\r\n"
              f"{ids[0]};CC-0000001;ACEPTADO;;01/02/2025\r\n"
              f"{ids[1]};;RECHAZADO;Ya asegurado;\r\n").encode()
    response = client.post(f"/api/v1/batches/{batch_id}/answers", headers=bearer(secret),
                           data={"file": (io.BytesIO(answer), "respuesta.csv")},
                           content_type="multipart/form-data")
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    assert body["rows"] == 2 and body["status"] == "uploaded"
    read = client.get(f"/api/v1/batches/answers/{body['id']}", headers=bearer(secret))
    assert read.status_code == 200 and read.get_json()["id"] == body["id"]
    with app.app_context():  # applying stays a person's decision on the answer's page
        assert {r.status for r in db.session.scalars(db.select(Registration))} == {
            RegistrationStatus.SUBMITTED}


def test_a_refused_answer_names_the_file_field_and_a_viewer_never_downloads(
        app, client, coop, token_for, bearer):
    batch_id, _ids = _sealed_batch(app, coop)
    secret, _ = token_for("admin", scope="write")
    response = client.post(f"/api/v1/batches/{batch_id}/answers", headers=bearer(secret),
                           data={"file": (io.BytesIO(b"PK\x03\x04broken"), "a.xlsx")},
                           content_type="multipart/form-data")
    body = response.get_json()
    assert response.status_code == 422 and "file" in body["errors"]
    missing = client.post(f"/api/v1/batches/{batch_id}/answers", headers=bearer(secret))
    assert missing.status_code == 422 and "file" in missing.get_json()["errors"]
    viewer, _ = token_for("viewer")
    assert client.get(f"/api/v1/batches/{batch_id}/file",
                      headers=bearer(viewer)).status_code == 403
    assert client.get(f"/api/v1/batches/{batch_id}", headers=bearer(viewer)).status_code == 200


def test_another_cooperatives_batch_is_404(app, client, coop, other_coop, token_for, bearer):
    batch_id, _ids = _sealed_batch(app, coop)
    secret, _ = token_for("admin", scope="write", cooperative=other_coop)
    for path in (f"/api/v1/batches/{batch_id}", f"/api/v1/batches/{batch_id}/file"):
        assert client.get(path, headers=bearer(secret)).status_code == 404, path
    response = client.post(f"/api/v1/batches/{batch_id}/answers", headers=bearer(secret),
                           data={"file": (io.BytesIO(b"a;b\r\n1;2\r\n"), "a.csv")},
                           content_type="multipart/form-data")
    assert response.status_code == 404


def test_a_cursor_the_api_did_not_give_is_refused(client, coop, token_for, bearer):
    from coopreg.api.common import encode_cursor

    secret, _ = token_for("admin")
    for cursor in ("%%%", encode_cursor("x"), encode_cursor([1]), encode_cursor(True)):
        for path in ("/api/v1/batches/", "/api/v1/receipts/"):
            response = client.get(path, query_string={"cursor": cursor},
                                  headers=bearer(secret))
            assert response.status_code == 400, (path, cursor)
            assert response.content_type == "application/problem+json"
