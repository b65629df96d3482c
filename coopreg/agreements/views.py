"""Pages of the agreements area."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("agreements", __name__)
