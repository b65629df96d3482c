"""One commit per unit of work, in one place: services add and flush, and the boundary that
called them (a request, a CLI command, a job) commits once or rolls everything back."""

from __future__ import annotations

from contextlib import contextmanager

import click

from coopreg.core.audit import acting_as
from coopreg.core.errors import DomainError
from coopreg.extensions import db


@contextmanager
def unit_of_work(label: str = "cli"):
    """A CLI command's unit of work: commit once at the end; on a broken rule, roll back and
    exit 1 with the reason; on any other error, roll back and let it rise."""
    try:
        with acting_as(None, label):
            yield
            db.session.commit()
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(error.message) from None
    except Exception:
        db.session.rollback()
        raise
