"""`coopreg members import` and `coopreg members export`."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import click
from flask.cli import AppGroup

from coopreg.core.audit import acting_as
from coopreg.core.errors import DomainError
from coopreg.core.languages import language_option, speaking
from coopreg.extensions import db

members_cli = AppGroup("members", help="Import members from a spreadsheet, export the register.")


def _cooperative(code: str):
    from coopreg.cooperatives.services import find_cooperative

    cooperative = find_cooperative(code)
    if cooperative is None:
        raise click.ClickException(f"No cooperative with code {code!r}.")
    return cooperative


def _print_analysis(analysis, *, mode: str, limit: int) -> None:
    """mode: "written" (the counts are what was done), "dry-run" (what would be done), or
    "refused" (a real run that wrote nothing because rows failed)."""
    counts = analysis.counts
    label = {"written": "", "dry-run": " (dry run: would be)",
             "refused": " (nothing written: rows were refused)"}[mode]
    click.echo(f"Read {counts['read']} rows (header on row {analysis.header_row}).")
    click.echo(f"Counts{label}: created {counts['created']}, updated {counts['updated']}, "
               f"unchanged {counts['unchanged']}, skipped (already members) "
               f"{counts['skipped']}, refused {counts['refused']}, "
               f"warnings {counts['warnings']}.")
    problems = list(analysis.problems)
    if problems:
        click.echo(f"Problems ({len(problems)}):")
        for problem in problems[:limit]:
            where = f"row {problem.row}" + (f", {problem.column}" if problem.column else "")
            click.echo(f"  {where}: [{problem.severity}] {problem.message}")
        if len(problems) > limit:
            click.echo(f"  … and {len(problems) - limit} more (use --show-problems N, or "
                       "--problems FILE for all of them).")


def _write_problems(analysis, path: Path | None) -> None:
    """The problems workbook the web page offers (rows to fix with a Problems column, and
    every problem listed), written to `path` whatever the outcome, through a temporary name
    so a failed write leaves no half file."""
    if path is None:
        return
    from coopreg.imports.services import write_problems_file

    partial = path.with_name(path.name + ".part")
    try:
        with partial.open("wb") as stream:
            write_problems_file(analysis, stream)
        partial.replace(path)
    except OSError as error:
        partial.unlink(missing_ok=True)
        raise click.ClickException(f"The problems file {path} could not be written: "
                                   f"{error.strerror or error}.") from None
    refused = analysis.count("refused")
    click.echo(f"Problems file written to {path} ({refused} row(s) to fix, "
               f"{len(list(analysis.problems))} problem(s)).")


@members_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--cooperative", "code", required=True, help="Cooperative code.")
@click.option("--dry-run", is_flag=True, help="Check every row and print what would happen; "
              "write nothing.")
@click.option("--update-existing", is_flag=True, help="Change members already in the register "
              "(matched by national ID) to the file's values.")
@click.option("--valid-rows-only", is_flag=True, help="Import the valid rows even when others "
              "have problems (they are listed).")
@click.option("--default", "defaults", multiple=True, metavar="FIELD=VALUE",
              help="A value for rows that have none, as on the mapping page; repeatable: "
                   "--default sector=agriculture --default joined_on=2020-01-15.")
@click.option("--problems", "problems_file", default=None,
              type=click.Path(dir_okay=False, writable=True, path_type=Path),
              help="Write the problems workbook (rows to fix, every problem) to this .xlsx "
                   "file, as the web page offers it.")
@click.option("--show-problems", default=200, show_default=True, type=click.IntRange(0),
              help="How many problems to print.")
@language_option
def import_command(file, code, dry_run, update_existing, valid_rows_only, defaults,
                   problems_file, show_problems, lang):
    """Import members from FILE (xlsx, ods, xls or csv) into a cooperative, all or nothing."""
    from coopreg.imports.services import parse_defaults

    cooperative = _cooperative(code)
    try:
        given = parse_defaults(defaults)
    except DomainError as error:
        raise click.ClickException(f"--default: {error.message}") from None
    data = file.read_bytes()
    with speaking(lang or cooperative.locale):
        _import(cooperative, data, file.name, dry_run=dry_run, update_existing=update_existing,
                valid_rows_only=valid_rows_only, show_problems=show_problems, given=given,
                problems_file=problems_file)


def _import(cooperative, data: bytes, filename: str, *, dry_run: bool, update_existing: bool,
            valid_rows_only: bool, show_problems: int, given: dict,
            problems_file: Path | None) -> None:
    from coopreg.imports.services import ImportRefused, import_file

    try:
        with acting_as(None, "cli"):
            analysis, run = import_file(cooperative, data, filename,
                                        update_existing=update_existing,
                                        valid_rows_only=valid_rows_only, dry_run=dry_run,
                                        defaults=given)
            if dry_run:
                db.session.rollback()
            else:
                db.session.commit()
    except ImportRefused as refusal:
        db.session.rollback()
        _print_analysis(refusal.analysis, mode="refused", limit=show_problems)
        _write_problems(refusal.analysis, problems_file)
        click.echo(refusal.message, err=True)
        click.echo("Nothing was written.")
        sys.exit(1)
    except DomainError as error:
        db.session.rollback()
        from coopreg.imports.services import DEFAULTABLE
        hint = ""
        keys = getattr(error, "keys", None)
        if keys and all(k in DEFAULTABLE for k in keys):
            hint = (" Or give one value for every row: "
                    + " ".join(f"--default {k}=…" for k in keys) + ".")
        raise click.ClickException(error.message + hint) from None
    except Exception:
        db.session.rollback()
        raise
    _print_analysis(analysis, mode="written" if not dry_run else "dry-run",
                    limit=show_problems)
    _write_problems(analysis, problems_file)
    if dry_run:
        click.echo("Dry run: nothing was written.")
        if analysis.count("refused") and not valid_rows_only:
            sys.exit(1)
    else:
        click.echo(f"Import recorded as run {run.id} (SHA-256 {run.sha256}).")


@members_cli.command("export")
@click.option("--cooperative", "code", required=True, help="Cooperative code.")
@click.option("--as-of", "as_of", default=None, help="YYYY-MM-DD: the members on that day, "
              "with their status then (default: every member, current status).")
@click.option("--format", "fmt", default=None, type=click.Choice(["xlsx", "csv"]),
              help="Default: from the output file's name.")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path))
@language_option
def export_command(code, as_of, fmt, output, lang):
    """Write the register (as it stood on a date) to a spreadsheet that imports back as is."""
    from coopreg.imports.export import export_register

    cooperative = _cooperative(code)
    day = None
    if as_of:
        try:
            day = date.fromisoformat(as_of)
        except ValueError:
            raise click.ClickException(f"--as-of {as_of!r} is not a date (YYYY-MM-DD).") from None
    fmt = fmt or ("csv" if output.suffix.lower() == ".csv" else "xlsx")
    partial = output.with_name(output.name + ".part")
    try:
        with speaking(lang or cooperative.locale):
            count = export_register(cooperative, day, fmt, str(partial))
    except DomainError as error:
        partial.unlink(missing_ok=True)
        raise click.ClickException(error.message) from None
    partial.replace(output)
    db.session.rollback()
    when = f"on {day.isoformat()}" if day else "all members"
    click.echo(f"Wrote {count} members ({when}) to {output}.")
