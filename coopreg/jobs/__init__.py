"""Background jobs with progress that survives a page reload (Huey: SQLite or Redis)."""
