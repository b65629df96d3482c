"""Pages of the batches area."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("batches", __name__)
