"""The admin's pages of a cooperative: settings, documents checklist, users and roles, the
audit log. Above auth and cooperatives, which they both use."""
