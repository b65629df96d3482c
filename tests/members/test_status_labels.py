"""Sentences about a status name it in the reader's language, never by its stored code."""

from __future__ import annotations

from datetime import date

import pytest
from flask_babel import force_locale

from coopreg.agreements.models import RegistrationStatus
from coopreg.core.errors import DomainError
from coopreg.core.labels import label
from coopreg.members import services
from coopreg.members.models import MemberStatus


def test_labels_follow_the_language(ctx):
    assert label(MemberStatus.DECEASED) == "deceased"
    with force_locale("es"):
        assert label(MemberStatus.DECEASED) == "fallecido"
        assert label(RegistrationStatus.PENDING) == "pendiente"


def test_a_refused_status_change_names_both_statuses_in_spanish(cr, enrol):
    member = enrol(cr)
    services.change_member_status(member, "deceased", date(2025, 1, 1), "Acta", None)
    with force_locale("es"), pytest.raises(DomainError) as refused:
        services.change_member_status(member, "active", date(2025, 2, 1), "Error", None)
    message = str(refused.value)
    assert message == "Un socio en estado fallecido no puede pasar a activo."
