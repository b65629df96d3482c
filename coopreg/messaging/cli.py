"""`coopreg reminders send`: queue (or list) the day's reminders of a cooperative."""

from __future__ import annotations

from datetime import date

import click
from flask.cli import AppGroup

from coopreg.cooperatives.services import find_cooperative
from coopreg.core.languages import speaking
from coopreg.core.unit_of_work import discard, unit_of_work
from coopreg.messaging.events import reminders_due
from coopreg.messaging.models import MessageStatus
from coopreg.messaging.services import queue_message

reminders_cli = AppGroup("reminders", help="Reminders to members (dues coming up, arrears).")


@reminders_cli.command("send")
@click.option("--cooperative", "cooperative_code", required=True, help="Cooperative code.")
@click.option("--day", "day", default=None,
              help="The day to remind for, YYYY-MM-DD (default: today).")
@click.option("--dry-run", "dry_run", is_flag=True,
              help="List what is due and queue nothing.")
def send_reminders_command(cooperative_code, day, dry_run):
    """Queue the reminders due today (a due coming up, arrears past grace); the worker sends
    them. A reminder already queued is not queued again."""
    cooperative = find_cooperative(cooperative_code)
    if cooperative is None:
        raise click.ClickException(f"No cooperative with code {cooperative_code!r}.")
    try:
        today = date.fromisoformat(day) if day else date.today()
    except ValueError:
        raise click.ClickException(f"--day {day!r} is not a date (YYYY-MM-DD).") from None
    with speaking(cooperative.locale), unit_of_work("coopreg reminders send"):
        due = reminders_due(cooperative, today)
        for reminder in due:
            click.echo(f"{reminder.member.member_number:>10}  {reminder.event.value:<10}  "
                       f"{reminder.parameters.get('amount', '')}")
        if dry_run:
            click.echo(f"{len(due)} reminder(s) due; nothing queued (--dry-run).")
            discard()
            return
        messages = [queue_message(r.member, r.event, r.parameters, dedup_key=r.dedup_key)
                    for r in due]
    queued = sum(1 for m in messages if m.status == MessageStatus.QUEUED)
    skipped = sum(1 for m in messages if m.status == MessageStatus.SKIPPED)
    click.echo(f"{queued} reminder(s) queued, {skipped} not sent (no consent, no address or "
               "the daily limit; see the messages page).")
