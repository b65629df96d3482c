"""Institutions, schemes, group registration agreements and each member's registrations."""
