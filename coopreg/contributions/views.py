"""Pages of the contributions area."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("contributions", __name__)
