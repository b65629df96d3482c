"""`coopreg dues generate`: dues from the command line (cron, or a first catch-up)."""

from __future__ import annotations

from datetime import date

import click
from flask.cli import AppGroup
from sqlalchemy import func, select

from coopreg.agreements.models import Agreement
from coopreg.contributions.services import dues_months, generate_dues, month_start, preview_dues
from coopreg.cooperatives.services import find_cooperative
from coopreg.core.errors import DomainError
from coopreg.core.languages import LANGUAGES, speaking
from coopreg.core.text import read_month
from coopreg.extensions import db

dues_cli = AppGroup("dues", help="Contributions due from members.")


# The service names the months by their form fields; a person at the shell typed options.
_OPTIONS = {"through": "--through", "start": "--from"}


@dues_cli.command("generate")
@click.option("--cooperative", "cooperative_code", required=True, help="Cooperative code.")
@click.option("--agreement", "reference", required=True, help="Agreement reference.")
@click.option("--through", "through", default=None,
              help="The month to bill, YYYY-MM (default: the current month).")
@click.option("--from", "start", default=None,
              help="Reach back: the first month, YYYY-MM (default: --through alone).")
@click.option("--from-start", "from_start", is_flag=True,
              help="Reach back to the agreement's first month (catch up every month).")
@click.option("--dry-run", "dry_run", is_flag=True,
              help="Print what would be created (per period and payer share, and what "
                   "already exists) and write nothing.")
@click.option("--lang", "lang", default=None, type=click.Choice(LANGUAGES),
              help="Language of the summary (default: the cooperative's).")
def generate_dues_command(cooperative_code, reference, through, start, from_start, dry_run,
                          lang):
    """Generate the dues of an agreement for a month, or a range of months (idempotent)."""
    from coopreg.core.unit_of_work import unit_of_work

    cooperative = find_cooperative(cooperative_code)
    if cooperative is None:
        raise click.ClickException(f"No cooperative with code {cooperative_code!r}.")
    agreement = db.session.scalar(select(Agreement).where(
        Agreement.cooperative_id == cooperative.id,
        func.upper(Agreement.reference) == reference.strip().upper()))
    if agreement is None:
        raise click.ClickException(f"No agreement {reference!r} in {cooperative.code}.")
    through = through or month_start(date.today()).strftime("%Y-%m")
    try:
        first, last = dues_months(agreement, start, through, from_start)
    except DomainError as error:
        value = start if error.field == "start" else through
        if read_month(value) is not None:  # both months readable: their order is wrong
            raise click.ClickException("--through is before --from.") from None
        raise click.ClickException(
            f"{_OPTIONS[error.field]} {value!r} is not a month (YYYY-MM).") from None
    with speaking(lang or cooperative.locale):
        if dry_run:
            try:
                preview = preview_dues(agreement, first, last)
            except DomainError as error:
                raise click.ClickException(error.message) from None
            finally:
                db.session.rollback()
            click.echo(f"{cooperative.code} {agreement.reference} (dry run, nothing written):")
            for line in preview.lines(cooperative.currency):
                click.echo(f"  {line}")
            return
        with unit_of_work("cli: dues generate"):
            result = generate_dues(agreement, first, last)
        click.echo(f"{cooperative.code} {agreement.reference}: {result.summary()}")
