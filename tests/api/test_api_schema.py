"""Schemathesis over the whole OpenAPI document, bounded so it fits CI: generated requests
(valid and invalid) to every operation with a write token, and no answer may be a server error
or break the document's own schema.

Driven through schemathesis' Python API (each operation's Hypothesis strategy) rather than its
pytest plugin, whose collection hook does not run under the pytest this project uses."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)

from tests.api.test_api_agreements import ledger  # noqa: F401 - a fixture: dues, remittances
from tests.api.test_api_batches import _sealed_batch

CHECKS = (not_a_server_error, content_type_conformance, response_schema_conformance)
EXAMPLES = 12


def test_no_server_error_and_every_answer_fits_the_schema(app, coop, make_member, token_for,
                                                         ledger):  # noqa: F811
    for i in range(3):
        make_member(coop, first_name=f"Schema{i}")
    _sealed_batch(app, coop)
    secret, _ = token_for("admin", scope="write")
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 25
    tried = []

    def exercise(operation):
        @settings(max_examples=EXAMPLES, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def check(case):
            case.headers = {**(case.headers or {}), "Authorization": f"Bearer {secret}"}
            response = case.call()
            tried.append((operation.label, response.status_code))
            assert response.status_code < 500, (case.path, response.text[:300])
            case.validate_response(response, checks=CHECKS)

        check()

    for operation in operations:
        exercise(operation)
    assert {label for label, _status in tried} == {op.label for op in operations}
