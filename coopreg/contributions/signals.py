"""What the ledger tells the areas above it (messaging), which it never imports."""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

# A receipt was recorded (sender: the receipt), in the transaction that recorded it: the
# messaging area queues the member's confirmation in the same transaction.
receipt_recorded = _signals.signal("receipt-recorded")
