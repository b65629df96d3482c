"""Cooperatives (tenants) and their own settings, such as the documents checklist."""
