"""Users, roles, login and the permission decorator."""
