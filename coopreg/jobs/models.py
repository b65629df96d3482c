"""A background job: what runs, for whom, and how it ended."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, DateTime, Enum, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from coopreg.core.models import CooperativeOwned, utcnow
from coopreg.extensions import db


class JobStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class Job(CooperativeOwned, db.Model):
    """One run of long work (an import, a large export, dues generation). Its progress lives
    in the task queue's storage so it can be written while the job's own transaction is open;
    the row records the start, the end and the outcome, and is the record of jobs: the queue
    may lose a message, the row says what must still run. A running job holds a lease its
    worker renews; when it lapses the worker is dead and the job runs again (every job
    commits only at its end, so a retry starts clean) or, after the last attempt, fails."""

    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_coop_created", "cooperative_id", "id"),
                      Index("ix_jobs_status_lease", "status", "lease_expires_at"))

    cooperative_index = False
    kind: Mapped[str] = mapped_column(String(40))
    status: Mapped[JobStatus] = mapped_column(
        Enum(JobStatus, native_enum=False, length=20,
             values_callable=lambda e: [m.value for m in e]), default=JobStatus.QUEUED)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    # The language of the person who started it (a CLI: the cooperative's, or --lang):
    # everything the job writes for people (problems, files, its result) is in it.
    language: Mapped[str | None] = mapped_column(String(10))
    result: Mapped[dict | None] = mapped_column(JSON)
    # why it failed: a sentence kept as its code and values (core/sentences), never as text
    error: Mapped[dict | None] = mapped_column(JSON)
    lease_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    enqueued_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    @property
    def finished(self) -> bool:
        return self.status in (JobStatus.SUCCEEDED, JobStatus.FAILED)

    def __repr__(self) -> str:
        return f"<Job {self.id} {self.kind} {self.status}>"
