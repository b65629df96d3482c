"""The API's documentation page, rendered by the app from its own OpenAPI document (no
JavaScript, no CDN): every operation with its parameters, body and answers."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template

from coopreg.auth.access import public

bp = Blueprint("api_docs", __name__)


def _operations(spec: dict) -> list[dict]:
    operations = []
    for path, item in spec.get("paths", {}).items():
        shared = item.get("parameters", [])
        for method, operation in item.items():
            if method == "parameters":
                continue
            operations.append({
                "method": method.upper(), "path": path, "tag": (operation.get("tags") or [""])[0],
                "summary": operation.get("summary", ""),
                "description": operation.get("description", ""),
                "parameters": shared + operation.get("parameters", []),
                "body": operation.get("requestBody"),
                "responses": operation.get("responses", {}),
            })
    return operations


@bp.route("/docs")
@public
def docs():
    spec = current_app.extensions["coopreg_api"].spec.to_dict()
    return render_template("api/docs.html", spec=spec, operations=_operations(spec))
