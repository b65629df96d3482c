"""Dashboards: the day's work of each role on the first page, with pictures."""
