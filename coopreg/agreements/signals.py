"""What the registrations tell the areas above them (messaging), which they never import."""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

# A registration moved one status (sender: the registration; `from_status`, `to_status`), in
# the transaction that moved it: the messaging area tells the member when it is registered or
# rejected.
registration_moved = _signals.signal("registration-moved")
