"""Domain-free helpers: money, tenancy, audit, security, errors."""
