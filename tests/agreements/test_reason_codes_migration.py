"""Migration 0014 keeps the application's sentences as codes: a registration's history ("Sent
in batch B-000002", in any language) and job summaries; the downgrade writes English text back
and the upgrade turns it (and text in the other languages) into codes again."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from coopreg.core.audit import acting_as
from coopreg.extensions import db
from tests.conftest import drop_database, fresh_database_url, make_test_app


def _reasons(conn) -> list[tuple]:
    return [tuple(r) for r in conn.execute(sa.text(
        "SELECT reason, reason_code FROM registration_events ORDER BY id"))]


@pytest.mark.no_transaction
def test_0014_turns_stored_sentences_into_codes_and_back():
    from coopreg.agreements import services as agreement_services
    from coopreg.agreements.models import RegistrationStatus as S
    from coopreg.batches.services import SENT_IN_BATCH
    from coopreg.cooperatives.services import create_cooperative
    from coopreg.core.sentences import kept
    from coopreg.jobs.models import Job, JobStatus
    from tests.batches.helpers import make_agreement, ready_member

    url = fresh_database_url("migration_0014")
    app = make_test_app(url)
    try:
        with app.app_context():
            upgrade()
            with acting_as(None, "tests"):
                cooperative = create_cooperative("MIG14", "Migración", "CR", "CRC", "es")
                agreement = make_agreement(cooperative, "MIG-1")
                _member, registration = ready_member(cooperative, agreement)
                agreement_services.transition_many([registration.id], S.SUBMITTED, None,
                                                   kept(SENT_IN_BATCH, ref="B-000002"),
                                                   cooperative_id=registration.cooperative_id)
                db.session.add(Job(cooperative_id=cooperative.id, kind="batch_draft",
                                   status=JobStatus.SUCCEEDED, params={},
                                   result={"summary": {"code": "batches.draft_made",
                                                       "params": {"ref": "B-000002"}}}))
                db.session.commit()
            db.session.remove()
            with db.engine.connect() as conn:
                assert _reasons(conn) == [(None, "registrations.enrolled"), (None, None),
                                          (None, "registrations.sent_in_batch")]

            downgrade(revision="0009")
            with db.engine.begin() as conn:
                rows = [r[0] for r in conn.execute(sa.text(
                    "SELECT reason FROM registration_events ORDER BY id"))]
                assert rows == ["Enrolled", None, "Sent in batch B-000002"]
                result = conn.execute(sa.text("SELECT result FROM jobs")).scalar_one()
                assert "Draft B-000002 made: check its lines, then seal it." in str(result)
                # a history line written by a Spanish page before codes existed
                conn.execute(sa.text("UPDATE registration_events SET reason = "
                                     "'Enviada en el lote B-000009' WHERE reason LIKE 'Sent%'"))
                conn.execute(sa.text("UPDATE registration_events SET reason = 'Falta firma' "
                                     "WHERE reason IS NULL"))

            upgrade()
            with db.engine.connect() as conn:
                assert _reasons(conn) == [(None, "registrations.enrolled"),
                                          ("Falta firma", None),
                                          (None, "registrations.sent_in_batch")]
                params = conn.execute(sa.text(
                    "SELECT reason_params FROM registration_events WHERE reason_code = "
                    "'registrations.sent_in_batch'")).scalar_one()
                assert "B-000009" in str(params)
                assert "batches.draft_made" in str(conn.execute(sa.text(
                    "SELECT result FROM jobs")).scalar_one())
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        drop_database(url)
