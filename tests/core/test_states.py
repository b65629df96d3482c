"""The one checker of status changes (core/states.Lifecycle) and the lifecycles that use it."""

from __future__ import annotations

import enum

import pytest

from coopreg.agreements.models import REGISTRATION_LIFECYCLE, RegistrationStatus
from coopreg.auth.models import INVITATION_LIFECYCLE, InvitationStatus
from coopreg.batches.models import ACK_LIFECYCLE, BATCH_LIFECYCLE, AckStatus, BatchStatus
from coopreg.core.errors import DomainError
from coopreg.core.states import Lifecycle
from coopreg.imports.models import IMPORT_LIFECYCLE, ImportStatus
from coopreg.members.models import MEMBER_LIFECYCLE, MemberStatus


class Light(enum.StrEnum):
    RED = "red"
    GREEN = "green"
    AMBER = "amber"


LIGHTS = Lifecycle({Light.RED: frozenset({Light.GREEN}), Light.GREEN: frozenset({Light.AMBER}),
                    Light.AMBER: frozenset({Light.RED})},
                   lambda current, new: f"{current} cannot become {new}")


class Lamp:
    status = Light.RED


def test_a_move_in_the_table_is_made_and_returns_the_old_status():
    lamp = Lamp()
    assert LIGHTS.move(lamp, Light.GREEN) == Light.RED
    assert lamp.status == Light.GREEN


def test_a_move_outside_the_table_is_refused_and_changes_nothing():
    lamp = Lamp()
    with pytest.raises(DomainError) as refused:
        LIGHTS.move(lamp, Light.AMBER, field="status")
    assert refused.value.message == "red cannot become amber"
    assert refused.value.field == "status"
    assert lamp.status == Light.RED


def test_allowed_and_sources_read_the_table():
    assert LIGHTS.allowed(Light.RED) == [Light.GREEN]
    assert LIGHTS.sources(Light.RED) == {Light.AMBER}


def test_a_lifecycle_must_list_every_status():
    with pytest.raises(ValueError, match="missing"):
        Lifecycle({Light.RED: frozenset()}, lambda current, new: "")


@pytest.mark.parametrize("lifecycle, statuses", [
    (REGISTRATION_LIFECYCLE, RegistrationStatus), (MEMBER_LIFECYCLE, MemberStatus),
    (IMPORT_LIFECYCLE, ImportStatus), (BATCH_LIFECYCLE, BatchStatus),
    (ACK_LIFECYCLE, AckStatus), (INVITATION_LIFECYCLE, InvitationStatus)])
def test_every_status_enum_with_a_lifecycle_refuses_in_words(ctx, lifecycle, statuses):
    """Each refusal is a sentence with the statuses' labels, never a bare code."""
    for current in statuses:
        for target in statuses:
            if lifecycle.can(current, target):
                continue
            with pytest.raises(DomainError) as refused:
                lifecycle.check(current, target)
            assert refused.value.message and "_" not in refused.value.message
