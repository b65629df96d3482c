"""Federations: unions of cooperatives, their roles, the cross-cooperative duplicate check and
the roll-up reports (docs/federations.md)."""
