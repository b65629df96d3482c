"""`coopreg federations …`: create a federation, add cooperatives to it, give people roles in
it. A bad argument (an unknown code, a code already taken) exits 2 with the reason, having
changed nothing."""

from __future__ import annotations

from contextlib import contextmanager

import click
from flask.cli import AppGroup

from coopreg.core.errors import DomainError
from coopreg.core.unit_of_work import unit_of_work
from coopreg.federations.models import FederationRole

federations_cli = AppGroup("federations", help="Federations of cooperatives.")


@contextmanager
def _bad_parameter(hint: str):
    """A broken rule about an argument is a usage error (exit 2); the unit of work around it
    rolls back."""
    try:
        yield
    except DomainError as error:
        raise click.BadParameter(error.message, param_hint=hint) from None


def _federation(code: str, param: str = "code"):
    from coopreg.federations.services import find_federation

    federation = find_federation(code)
    if federation is None:
        raise click.BadParameter(f"no federation with code {code!r}.", param_hint=param)
    return federation


@federations_cli.command("create")
@click.argument("code")
@click.option("--name", required=True, help="The federation's name.")
def create_federation_command(code, name):
    """Create a federation CODE."""
    from coopreg.federations.services import create_federation

    with unit_of_work(), _bad_parameter("CODE"):
        federation = create_federation(code, name)
    click.echo(f"Created federation {federation.code} ({federation.name}).")


@federations_cli.command("add")
@click.argument("code")
@click.argument("cooperative_code", metavar="COOP")
def add_cooperative_command(code, cooperative_code):
    """Add the cooperative COOP to the federation CODE."""
    from coopreg.cooperatives.services import find_cooperative
    from coopreg.federations.services import add_cooperative

    federation = _federation(code)
    cooperative = find_cooperative(cooperative_code)
    if cooperative is None:
        raise click.BadParameter(f"no cooperative with code {cooperative_code!r}.",
                                 param_hint="COOP")
    with unit_of_work(), _bad_parameter("COOP"):
        add_cooperative(federation, cooperative)
    click.echo(f"{cooperative.code} joined {federation.code}.")


@federations_cli.command("grant")
@click.argument("email")
@click.option("--federation", "code", required=True, help="Federation code.")
@click.option("--role", required=True, type=click.Choice([r.value for r in FederationRole]))
def grant_command(email, code, role):
    """Give the existing user EMAIL a role in a federation."""
    from coopreg.auth import services as auth_services
    from coopreg.federations.services import grant_federation_role

    federation = _federation(code, "--federation")
    user = auth_services.find_user_by_email(email)
    if user is None:
        raise click.BadParameter(f"no user {email!r}.", param_hint="EMAIL")
    with unit_of_work(), _bad_parameter("--role"):
        grant_federation_role(user, federation, role)
    click.echo(f"{user.email}: {role} in {federation.code}.")


@federations_cli.command("desk-account")
@click.argument("email")
@click.option("--institution", "code", required=True,
              help="The institution's code (its short name in the cooperatives, e.g. CCSS).")
@click.option("--federation", "federation_code", default=None,
              help="Only the cooperatives of this federation (default: every cooperative).")
@click.option("--name", default="", help="The person's name (for a new account).")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def desk_account_command(email, code, federation_code, name, password_stdin):
    """Make EMAIL an account of an institution's desk (creating the user if needed)."""
    import sys

    from coopreg.auth import services as auth_services
    from coopreg.federations.desk import create_account

    federation = _federation(federation_code, "--federation") if federation_code else None
    with unit_of_work(), _bad_parameter("EMAIL"):
        user = auth_services.find_user_by_email(auth_services.normalise_email(email))
        if user is None:
            if password_stdin:
                password = sys.stdin.readline().rstrip("\r\n")
            else:
                password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
            user = auth_services.create_user(email, name or email, password)
        create_account(user, code, federation)
    click.echo(f"{user.email}: desk of {code.strip().upper()}"
               + (f" in {federation.code}." if federation else "."))


@federations_cli.command("desk-token")
@click.argument("email")
@click.option("--scope", default="read", show_default=True,
              type=click.Choice(["read", "write"]), help="write: may upload answers.")
@click.option("--expires", "days", default=90, show_default=True, type=click.IntRange(1, 366),
              help="Days until the token stops working.")
@click.option("--name", default="", help="What the token is for (shown in lists).")
def desk_token_command(email, scope, days, name):
    """An API token for the desk account EMAIL; its secret is printed once, alone on the last
    line."""
    from coopreg.auth import services as auth_services
    from coopreg.federations.desk import account_of, create_desk_token

    user = auth_services.find_user_by_email(email)
    account = account_of(user.id) if user is not None else None
    if account is None:
        raise click.BadParameter(f"{email!r} is no institution's desk account.",
                                 param_hint="EMAIL")
    with unit_of_work():
        token, secret = create_desk_token(account, name or "CLI", scope, days)
    click.echo(f"Desk token {token.id} for {user.email} ({account.institution_code}, {scope}), "
               f"expires {token.expires_at.date().isoformat()}. Shown once:")
    click.echo(secret)
