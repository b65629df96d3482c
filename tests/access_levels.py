"""Who may use a route, for the access matrix (tests/core/test_access_matrix.py)."""

PUBLIC = "public"
LOGIN = "login"
ALL = frozenset({"admin", "secretary", "treasurer", "viewer"})
EDITORS = frozenset({"admin", "secretary"})
MONEY = frozenset({"admin", "treasurer"})
OFFICE = frozenset({"admin", "secretary", "treasurer"})
ADMIN = frozenset({"admin"})
# roles held at federation level (coopreg/federations): checked by their own decorator
FEDERATION = frozenset({"federation_admin", "federation_analyst"})
FEDERATION_ADMIN = frozenset({"federation_admin"})
# an institution's desk account (coopreg/federations/desk.py)
INSTITUTION = frozenset({"institution"})
# a platform admin (users.platform_admin, `coopreg users platform-admin`): the platform's pages
PLATFORM = frozenset({"platform_admin"})
FEDERATION_LEVELS = (FEDERATION, FEDERATION_ADMIN)
OUTSIDE_LEVELS = (FEDERATION, FEDERATION_ADMIN, INSTITUTION, PLATFORM)
