"""The outbox's work in the job worker: delivering a cooperative's due messages, and queuing
the day's reminders; `schedule_once` is what the worker does every MESSAGES_DELIVER_SECONDS."""

from __future__ import annotations

import logging
from datetime import date

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from coopreg.cooperatives.models import Cooperative
from coopreg.core.unit_of_work import checkpoint, discard
from coopreg.extensions import db
from coopreg.jobs.models import Job, JobStatus
from coopreg.jobs.registry import register_kind
from coopreg.jobs.services import create_job, job_handler, start_job
from coopreg.messaging.events import queue_reminders
from coopreg.messaging.services import cooperatives_with_due_messages, deliver_due

log = logging.getLogger(__name__)
DELIVER = "messages_delivery"
REMINDERS = "messages_reminders"


@job_handler(DELIVER)
def run_delivery(job: Job, progress) -> dict:
    """Send the cooperative's due messages (each claimed and recorded on its own commit: a
    message handed to a channel cannot be taken back)."""
    progress(0, 1, _("Sending messages…"))
    done = deliver_due(job.cooperative_id)
    return {"sent": done.sent, "retrying": done.retrying, "failed": done.failed}


@job_handler(REMINDERS)
def run_reminders(job: Job, progress) -> dict:
    """params: day (ISO date). Queue that day's reminders."""
    cooperative = db.session.get(Cooperative, job.cooperative_id)
    messages = queue_reminders(cooperative, date.fromisoformat(job.params["day"]))
    return {"queued": len(messages)}


register_kind(DELIVER, _l("Sending messages"))
register_kind(REMINDERS, _l("Queuing reminders"))


def _already_waiting(cooperative_id: int, kind: str) -> bool:
    return db.session.scalar(select(Job.id).where(
        Job.cooperative_id == cooperative_id, Job.kind == kind,
        Job.status.in_((JobStatus.QUEUED, JobStatus.RUNNING))).limit(1)) is not None


def start_delivery(cooperative_id: int) -> int | None:
    """Hand the cooperative's outbox to the worker, unless a delivery is already waiting or
    running; returns the job's id."""
    if _already_waiting(cooperative_id, DELIVER):
        return None
    job = create_job(cooperative_id, DELIVER, None, {})
    checkpoint()
    start_job(job.id)
    return job.id


def schedule_once(today: date, reminded: dict[int, date]) -> list[int]:
    """What the worker does on each round: queue each cooperative's reminders once a day
    (`reminded` remembers which day each cooperative had them), then start a delivery for
    each cooperative with messages due. Returns the jobs started."""
    started = []
    for cooperative_id in db.session.scalars(select(Cooperative.id)).all():
        if reminded.get(cooperative_id) != today and not _already_waiting(cooperative_id,
                                                                          REMINDERS):
            job = create_job(cooperative_id, REMINDERS, None, {"day": today.isoformat()})
            checkpoint()
            start_job(job.id)
            reminded[cooperative_id] = today
            started.append(job.id)
    for cooperative_id in cooperatives_with_due_messages():
        job_id = start_delivery(cooperative_id)
        if job_id is not None:
            started.append(job_id)
    return started


def schedule_forever(app, stop) -> None:
    """The worker's messages thread: `schedule_once` every MESSAGES_DELIVER_SECONDS until
    `stop` is set; a failure (database down) is logged and tried at the next round."""
    reminded: dict[int, date] = {}
    with app.app_context():
        interval = app.config["MESSAGES_DELIVER_SECONDS"]
        while True:
            try:
                schedule_once(date.today(), reminded)
            except Exception as error:  # noqa: BLE001 - try again at the next round
                discard()
                log.warning("messages round failed: %s", str(error).splitlines()[0])
            finally:
                db.session.remove()
            if stop.wait(interval):
                return
