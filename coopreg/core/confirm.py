"""Irreversible actions ask first.

A view declared with `@confirm_first(...)` runs only when the posted form carries
`confirmed=y`: the page's form holds a required "I understand" checkbox next to the consequence
(the `confirm_step` macro of _form.html, no JavaScript needed). A post without it (an old page, a
hand-made request, a browser that ignores `required`) is answered with a confirmation page that
states the consequence and posts the same fields again with the box to tick: the action is never
done unconfirmed."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, render_template, request

from coopreg.core.tenancy import get_scoped_or_404

CONFIRMED_FIELD = "confirmed"
CONFIRM_ATTR = "_coopreg_confirm"


def is_confirmed() -> bool:
    """The posted form says the person ticked "I understand"."""
    return request.form.get(CONFIRMED_FIELD, "") in {"y", "yes", "on", "1", "true"}


def confirm_first(model: type | tuple | Callable | None, consequence: Any, *, action: Any = None,
                  when: Callable[[], bool] | None = None):
    """Declare the view irreversible: `consequence` (a lazy text) is what the person is told;
    `model` is the record the URL's id names, a tuple for several ids, or a function taking
    the URL's arguments that finds the record or aborts (looked up through the tenancy helper
    before the confirmation page, so an id of another cooperative still answers 404); `when`
    limits the confirmation to some posts (a transition to one status)."""
    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            if request.method != "POST" or is_confirmed() or (when is not None and not when()):
                return view(*args, **kwargs)
            if callable(model) and not isinstance(model, type):
                model(**kwargs)  # the view's own lookup: 404 before anything is asked
            models = model if isinstance(model, tuple) else (model,)
            ids = [value for key, value in kwargs.items() if key.endswith("_id")]
            for each, object_id in zip(models, ids, strict=False):
                if isinstance(each, type):
                    get_scoped_or_404(each, object_id)
            fields = [(name, value) for name, values in request.form.lists()
                      if name != CONFIRMED_FIELD for value in values]
            back = request.referrer or ""
            back = urlsplit(back).path if urlsplit(back).netloc == request.host else ""
            return render_template("core/confirm.html", consequence=consequence,
                                   action_label=action, fields=fields, back=back or None), 409

        setattr(wrapper, CONFIRM_ATTR, consequence)
        return wrapper
    return decorate


def irreversible_endpoints(app: Flask) -> dict[str, Any]:
    """Endpoint → consequence, for every view declared with `confirm_first`."""
    found = {}
    for endpoint, view in app.view_functions.items():
        current = view
        while current is not None:
            if hasattr(current, CONFIRM_ATTR):
                found[endpoint] = getattr(current, CONFIRM_ATTR)
                break
            current = getattr(current, "__wrapped__", None)
    return found
