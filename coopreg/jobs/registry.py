"""How a job's page names a kind of job and links onward when it is done, registered by the
area that owns the kind at import time (`register_kind`), so that the jobs area never imports
the areas above it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from coopreg.jobs.models import Job

# How the page names and links onward a job of a kind, registered by the area that owns the
# kind (`register_kind`). Handlers run in the worker, without a request to build URLs from:
# their result (or the job's params) names the record, e.g. {"batch_id": 5}, and the page
# builds the link here.
KIND_LABELS: dict[str, Any] = {}
NEXT_LINKS: dict[str, Callable[[Job], tuple[str, dict] | None]] = {}


def register_kind(kind: str, label: Any,
                  next_link: Callable[[Job], tuple[str, dict] | None] | None = None) -> None:
    """`label`: the page's title for jobs of this kind (a lazy string); `next_link(job)`:
    the (endpoint, values) a finished job's "Continue" button goes to, or None."""
    KIND_LABELS[kind] = label
    if next_link is not None:
        NEXT_LINKS[kind] = next_link
