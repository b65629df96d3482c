"""What the register tells the areas above it. Members sit below agreements, batches and
contributions, so it never calls them: it sends these signals and they connect to them."""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

# A member left or died (sender: the member; `reason`, `on`): the agreements area flags the
# registrations still open with an institution, in the same transaction.
member_left = _signals.signal("member-left")

# A dependant is about to be removed (sender: the dependant): an area holding records of them
# (the agreements area: their registrations) refuses with a DomainError.
dependant_removing = _signals.signal("dependant-removing")
