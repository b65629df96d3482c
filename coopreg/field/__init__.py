"""The offline field mode: an installable page for the secretary and the collector, the
members of some localities downloaded to the phone, records kept there and synced later."""
