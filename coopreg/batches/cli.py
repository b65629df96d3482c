"""`coopreg batches …`: batches for scheduled use (cron, a task scheduler)."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from coopreg.batches.models import BatchKind
from coopreg.core.errors import DomainError
from coopreg.core.languages import language_option, speaking
from coopreg.core.unit_of_work import unit_of_work
from coopreg.extensions import db

batches_cli = AppGroup("batches", help="Batch files for the institutions.")


@batches_cli.command("create")
@click.option("--cooperative", "cooperative_code", required=True, help="Cooperative code.")
@click.option("--agreement", "reference", required=True, help="Agreement reference.")
@click.option("--kind", required=True, type=click.Choice([k.value for k in BatchKind]))
@click.option("--period", default=None, help="Remittance month, YYYY-MM.")
@click.option("--seal", is_flag=True, help="Seal the batch: write its file and print its path.")
@click.option("--leave-out-problems", is_flag=True,
              help="Leave lines with problems out instead of refusing the whole batch.")
@language_option
def create_batch_command(cooperative_code, reference, kind, period, seal, leave_out_problems,
                         lang):
    """Make a batch (and with --seal, write its file). Exits non-zero with the reason when
    there is nothing to send or a line has a problem (unless --leave-out-problems)."""
    from coopreg.batches import services
    from coopreg.cooperatives.services import find_cooperative

    cooperative = find_cooperative(cooperative_code)
    if cooperative is None:
        raise click.ClickException(f"No cooperative with code {cooperative_code!r}.")
    agreement = services.agreement_by_reference(cooperative.id, reference)
    if agreement is None:
        raise click.ClickException(f"No agreement {reference!r} in {cooperative.code}.")
    policy = "exclude" if leave_out_problems else "block"
    path = None
    try:
        with speaking(lang or cooperative.locale), unit_of_work("cli"):
            batch = services.create_batch(cooperative, agreement, kind, None, period=period,
                                          policy=policy)
            counts = services.line_counts(batch)
            if counts.with_problems and policy == "block":
                first = services.batch_lines(batch, "problems", limit=5)
                details = "; ".join(f"line {line.line_no}: {line.problem.splitlines()[0]}"
                                    for line in first)
                raise DomainError(f"{counts.with_problems} line(s) have problems ({details}). "
                                  "Nothing was made.")
            if seal:
                path = services.seal_batch(batch, None, current_app.config["EXPORT_DIR"])
    except BaseException:
        services.remove_file(path)
        raise
    if seal:
        click.echo(str(path))
    else:
        click.echo(f"Draft {batch.reference}: {counts.included} line(s) to send, "
                   f"{counts.with_problems} with problems.")


@batches_cli.command("tidy")
@click.option("--grace-minutes", default=10, show_default=True, type=click.FloatRange(0),
              help="Leave files younger than this (a sealing may be under way).")
def tidy_command(grace_minutes):
    """Give a sealed batch's file its name if a killed worker left it under its temporary
    one, and move aside (to EXPORT_DIR/unrecorded/) every file no sealed batch records.
    A worker does this when it starts."""
    from coopreg.batches.files import tidy_exports

    report = tidy_exports(current_app.config["EXPORT_DIR"], grace_minutes * 60)
    db.session.commit()
    for name in report.completed:
        click.echo(f"{name}: took its name (its sealing had committed)")
    for name in report.moved_aside:
        click.echo(f"{name}: recorded by no sealed batch; moved to unrecorded/")
    click.echo(f"{len(report.completed)} finished, {len(report.moved_aside)} moved aside.")
