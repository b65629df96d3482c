"""The `coopreg` command: Flask's CLI (run, db, shell…) plus coopreg's own commands.

Every command works in one transaction: it commits at the end or, on any error, rolls back,
prints a one-line reason and exits non-zero, having changed nothing.
"""

from __future__ import annotations

import sys

import click
from flask import Flask
from flask.cli import AppGroup, FlaskGroup, with_appcontext

from coopreg.core.errors import DomainError
from coopreg.core.languages import LANGUAGES
from coopreg.core.unit_of_work import unit_of_work
from coopreg.extensions import db

cooperatives_cli = AppGroup("cooperatives", help="Create and list cooperatives.")
users_cli = AppGroup("users", help="Create users and give them roles.")
tokens_cli = AppGroup("tokens", help="API tokens: create, list and revoke.")


@cooperatives_cli.command("create")
@click.argument("code")
@click.option("--name", required=True, help="The cooperative's name.")
@click.option("--country", required=True, help="ISO 3166 country code, e.g. CR.")
@click.option("--currency", required=True, help="ISO 4217 currency code, e.g. CRC.")
@click.option("--locale", default="en", type=click.Choice(LANGUAGES),
              show_default=True)
@click.option("--id-label", default=None, help="Name of the local ID (countries without a "
              "built-in check).")
@click.option("--id-pattern", default=None, help="Regular expression for the local ID.")
def create_cooperative_command(code, name, country, currency, locale, id_label, id_pattern):
    """Create a cooperative CODE."""
    from coopreg.cooperatives.services import create_cooperative

    with unit_of_work():
        cooperative = create_cooperative(code, name, country, currency, locale, id_label,
                                         id_pattern)
    click.echo(f"Created cooperative {cooperative.code} ({cooperative.name}, "
               f"{cooperative.country}, {cooperative.currency}).")


@cooperatives_cli.command("list")
def list_cooperatives_command():
    """List the cooperatives of this installation."""
    from coopreg.cooperatives.models import Cooperative

    for cooperative in db.session.scalars(db.select(Cooperative).order_by(Cooperative.code)):
        click.echo(f"{cooperative.code}\t{cooperative.country}\t{cooperative.currency}\t"
                   f"{cooperative.name}")


@users_cli.command("create")
@click.argument("email")
@click.option("--cooperative", "cooperative_code", required=True, help="Cooperative code.")
@click.option("--role", required=True, type=click.Choice(["admin", "secretary", "treasurer",
                                                          "viewer"]))
@click.option("--name", default="", help="The person's name.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def create_user_command(email, cooperative_code, role, name, password_stdin):
    """Create a user EMAIL with a ROLE in a cooperative (or give an existing user the role)."""
    from coopreg.auth import services
    from coopreg.cooperatives.services import find_cooperative

    cooperative = find_cooperative(cooperative_code)
    if cooperative is None:
        raise click.ClickException(f"No cooperative with code {cooperative_code!r}.")
    with unit_of_work():
        user = services.find_user_by_email(services.normalise_email(email))
        if user is None:
            if password_stdin:
                password = sys.stdin.readline().rstrip("\r\n")
            else:
                password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
            user = services.create_user(email, name, password, (cooperative,))
            created = True
        else:
            created = False
        services.grant_role(user, cooperative, role)
    verb = "Created" if created else "Updated"
    click.echo(f"{verb} {user.email}: {role} in {cooperative.code}.")


@users_cli.command("platform-admin")
@click.argument("email")
@click.option("--revoke", is_flag=True, help="Take the platform admin's rights back.")
def platform_admin_command(email, revoke):
    """Make the existing user EMAIL a platform admin, who keeps the installation's federations
    and institution desk accounts (/platform/), or, with --revoke, no longer one."""
    from coopreg.auth import services

    try:
        user = services.find_user_by_email(services.normalise_email(email))
    except DomainError as error:
        raise click.BadParameter(error.message, param_hint="EMAIL") from None
    if user is None:
        raise click.BadParameter(f"no user {email!r} (create it first with "
                                 "'coopreg users create').", param_hint="EMAIL")
    if user.platform_admin == (not revoke):
        state = "is already" if not revoke else "is not"
        click.echo(f"{user.email} {state} a platform admin: nothing changed.")
        return
    with unit_of_work():
        try:
            services.set_platform_admin(user, not revoke)
        except DomainError as error:
            raise click.BadParameter(error.message, param_hint="EMAIL") from None
    click.echo(f"{user.email} is {'no longer' if revoke else 'now'} a platform admin.")


@tokens_cli.command("create")
@click.option("--user", "email", required=True, help="The user the token acts for.")
@click.option("--cooperative", "cooperative_code", required=True, help="Cooperative code.")
@click.option("--scope", default="read", show_default=True,
              type=click.Choice(["read", "write"]), help="read: only reads.")
@click.option("--expires", "days", default=90, show_default=True, type=click.IntRange(1, 366),
              help="Days until the token stops working.")
@click.option("--name", default="", help="What the token is for (shown in lists).")
def create_token_command(email, cooperative_code, scope, days, name):
    """Create an API token; its secret is printed once, alone on the last line."""
    from coopreg.auth import services
    from coopreg.auth.tokens import create_token
    from coopreg.cooperatives.services import find_cooperative

    cooperative = find_cooperative(cooperative_code)
    if cooperative is None:
        raise click.ClickException(f"No cooperative with code {cooperative_code!r}.")
    user = services.find_user_by_email(services.normalise_email(email))
    if user is None:
        raise click.ClickException(f"No user {email!r}.")
    with unit_of_work():
        try:
            token, secret = create_token(user, cooperative, name or "CLI", scope, days)
        except DomainError as error:
            raise click.ClickException(error.message) from None
        role = user.role_in(cooperative.id)
    click.echo(f"Token {token.id} for {user.email} in {cooperative.code} ({role.value}, "
               f"{scope}), expires {token.expires_at.date().isoformat()}. Shown once:")
    click.echo(secret)


@tokens_cli.command("list")
@click.option("--cooperative", "cooperative_code", required=True, help="Cooperative code.")
def list_tokens_command(cooperative_code):
    """The cooperative's API tokens (never their secrets)."""
    from sqlalchemy import select

    from coopreg.auth.tokens import ApiToken
    from coopreg.cooperatives.services import find_cooperative

    cooperative = find_cooperative(cooperative_code)
    if cooperative is None:
        raise click.ClickException(f"No cooperative with code {cooperative_code!r}.")
    for token in db.session.scalars(select(ApiToken).where(
            ApiToken.cooperative_id == cooperative.id).order_by(ApiToken.id)):
        state = "active" if token.active else "revoked" if token.revoked_at else "expired"
        click.echo(f"{token.id}\t{token.hint}…\t{token.user.email}\t{token.scope.value}\t"
                   f"{state}\t{token.expires_at.date().isoformat()}\t{token.name}")


@tokens_cli.command("revoke")
@click.argument("token_id", type=click.IntRange(1))
@click.option("--cooperative", "cooperative_code", required=True, help="Cooperative code.")
def revoke_token_command(token_id, cooperative_code):
    """Revoke a token at once (it answers 401 from the next request)."""
    from coopreg.auth.tokens import ApiToken, revoke_token
    from coopreg.cooperatives.services import find_cooperative
    from coopreg.core.tenancy import get_scoped

    cooperative = find_cooperative(cooperative_code)
    if cooperative is None:
        raise click.ClickException(f"No cooperative with code {cooperative_code!r}.")
    with unit_of_work():
        token = get_scoped(ApiToken, token_id, cooperative.id)
        if token is None:
            raise click.ClickException(f"No token {token_id} in {cooperative.code}.")
        revoke_token(token)
    click.echo(f"Token {token_id} revoked.")


@click.command("demo")
@with_appcontext
@click.option("--members", "member_count", default=300, show_default=True,
              type=click.IntRange(1, 100_000), help="Members per demo cooperative.")
def demo_command(member_count):
    """Load the demo data (idempotent) and print the demo logins."""
    from coopreg.demo.loader import DEMO_PASSWORD, load_demo

    with unit_of_work("demo"):
        report = load_demo(member_count=member_count)
    for line in report.lines:
        click.echo(line)
    click.echo("")
    click.echo("Demo logins (password for all: " + DEMO_PASSWORD + "):")
    for email, roles in report.logins:
        click.echo(f"  {email:32} {roles}")


@click.command("worker")
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 32))
@with_appcontext
def worker_command(workers):
    """Run the background-job worker (imports, exports, dues) until stopped."""
    import threading

    from flask import current_app

    from coopreg.jobs.queue import huey
    from coopreg.jobs.services import set_worker_app, supervise_forever

    app = current_app._get_current_object()
    set_worker_app(app)
    from coopreg.batches.files import tidy_exports

    try:  # files a killed sealing left behind (coopreg/batches/files.py)
        report = tidy_exports(app.config["EXPORT_DIR"])
        db.session.commit()
        for name in report.completed:
            click.echo(f"exports: {name} took its name (its sealing had committed)")
        for name in report.moved_aside:
            click.echo(f"exports: {name} is recorded by no sealed batch; moved to unrecorded/")
    except Exception as error:  # noqa: BLE001 - the worker runs all the same
        db.session.rollback()
        click.echo(f"exports not tidied: {str(error).splitlines()[0]}")
    click.echo(f"coopreg worker: {workers} thread(s) on {type(huey).__name__}")
    # leases, retries and lost messages are looked after by every worker, with no manual
    # step (coopreg/jobs/services.py, supervise_jobs)
    stop = threading.Event()
    threading.Thread(target=supervise_forever, args=(app, stop), name="jobs-supervisor",
                     daemon=True).start()
    # the outbox: the day's reminders and the messages due, handed to this worker
    from coopreg.messaging.jobs import schedule_forever

    threading.Thread(target=schedule_forever, args=(app, stop), name="messages-scheduler",
                     daemon=True).start()
    try:
        huey.create_consumer(workers=workers, worker_type="thread").run()
    finally:
        stop.set()


jobs_cli = AppGroup("jobs", help="Background jobs.")


@jobs_cli.command("reap")
@click.option("--older-than", default=3600, show_default=True, type=click.IntRange(0),
              help="Seconds a job may run before it counts as abandoned.")
def reap_jobs_command(older_than):
    """Mark failed the jobs left running by a worker that died, so they can be rerun."""
    from coopreg.jobs.services import fail_abandoned_jobs

    with unit_of_work():
        count = fail_abandoned_jobs(older_than)
    click.echo(f"{count} abandoned job(s) marked failed.")


@jobs_cli.command("clean")
@click.option("--older-than", default=None, type=click.FloatRange(0),
              help="Hours an export's file is kept after its job ended "
                   "(default: EXPORT_RETENTION_HOURS, 24).")
def clean_jobs_command(older_than):
    """Remove the files of export jobs past their retention (and of failed jobs), and the
    uploads never previewed, and the institution's answer files never applied, past
    IMPORT_UPLOAD_RETENTION_HOURS (72). Run it from cron."""
    from coopreg.batches.acks import expire_answers
    from coopreg.imports.services import expire_uploads
    from coopreg.jobs.files import clean_job_files

    with unit_of_work():
        count = clean_job_files(older_than)
        uploads = expire_uploads()
        answers = expire_answers()
    click.echo(f"{count} export file(s) removed.")
    click.echo(f"{uploads} upload(s) never previewed removed.")
    click.echo(f"{answers} answer file(s) never applied removed.")


@click.command("backup")
@click.argument("file", type=click.Path(dir_okay=False))
@with_appcontext
def backup_command(file):
    """Back up the SQLite database and the exports folder into FILE (safe while running)."""
    from flask import current_app

    from coopreg.maintenance import backup

    try:
        report = backup(current_app._get_current_object(), file)
    except DomainError as error:
        raise click.ClickException(error.message) from None
    click.echo(f"Backed up {report['database']} and {report['export_files']} export file(s) "
               f"to {report['archive']}.")


@click.command("restore")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@with_appcontext
def restore_command(file, yes):
    """Replace the SQLite database and exports with those of a backup FILE (stop the app
    first). The current database is kept as <name>.before-restore."""
    from flask import current_app

    from coopreg.maintenance import restore

    if not yes:
        click.confirm("This replaces the current database. Go on?", abort=True)
    try:
        report = restore(current_app._get_current_object(), file)
    except DomainError as error:
        raise click.ClickException(error.message) from None
    click.echo(f"Restored {report['database']} and {report['export_files']} export file(s).")


@click.command("check")
@with_appcontext
def check_command():
    """Report what is missing or unsafe in the running configuration (exit 1 on errors)."""
    from flask import current_app

    from coopreg.maintenance import check_configuration

    findings = check_configuration(current_app._get_current_object())
    for finding in findings:
        click.echo(f"{finding.level.upper():8} {finding.message}")
    if not findings:
        click.echo("OK       nothing missing or unsafe found")
    if any(f.level == "error" for f in findings):
        raise SystemExit(1)


def register_commands(app: Flask) -> None:
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)
    app.cli.add_command(check_command)
    app.cli.add_command(worker_command)
    app.cli.add_command(jobs_cli)
    app.cli.add_command(cooperatives_cli)
    app.cli.add_command(users_cli)
    app.cli.add_command(tokens_cli)
    app.cli.add_command(demo_command)
    from coopreg.batches.cli import batches_cli

    app.cli.add_command(batches_cli)
    from coopreg.contributions.cli import dues_cli

    app.cli.add_command(dues_cli)
    from coopreg.imports.cli import members_cli
    app.cli.add_command(members_cli)
    from coopreg.federations.cli import federations_cli

    app.cli.add_command(federations_cli)
    from coopreg.messaging.cli import reminders_cli

    app.cli.add_command(reminders_cli)


def _create_app():
    from coopreg import create_app

    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app, add_version_option=False)
def cli():
    """coopreg — the back-office of cooperatives registering members with social security."""


def main() -> None:
    cli(prog_name="coopreg")
