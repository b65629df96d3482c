"""Values an app process keeps between requests: a few pages or figures that cost much to
build and change rarely. Least recently used out; optionally each for at most some seconds.
Whoever keeps something puts in its key everything the value depends on (for what the
register holds, the cooperative's register version: members/versions.py), so a kept value is
never wrong, only, with a time limit, up to that many seconds old."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

from flask import current_app


class Kept:
    def __init__(self, size: int, seconds: float | None = None):
        self.size = size
        self.seconds = seconds
        self._values: OrderedDict[Hashable, tuple[float, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> Any | None:
        with self._lock:
            found = self._values.get(key)
            if found is None:
                return None
            if self.seconds is not None and found[0] < time.monotonic():
                del self._values[key]
                return None
            self._values.move_to_end(key)
            return found[1]

    def put(self, key: Hashable, value: Any) -> None:
        if self.size <= 0:
            return
        until = time.monotonic() + self.seconds if self.seconds is not None else 0.0
        with self._lock:
            self._values[key] = (until, value)
            self._values.move_to_end(key)
            while len(self._values) > self.size:
                self._values.popitem(last=False)

    def get_or_make(self, key: Hashable, make: Callable[[], Any]) -> Any:
        found = self.get(key)
        if found is None:
            found = make()
            self.put(key, found)
        return found


def kept(name: str, size: int, seconds: float | None = None) -> Kept:
    """The app's store called `name` (made on first use, again when its settings change)."""
    stores = current_app.extensions.setdefault("coopreg.kept", {})
    store = stores.get(name)
    if store is None or store.size != size or store.seconds != seconds:
        store = stores[name] = Kept(size, seconds)
    return store
