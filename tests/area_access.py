"""The areas whose routes join the access matrix: each has `tests/<area>/access.py`."""

from tests.agreements import access as agreements_access
from tests.batches import access as batches_access
from tests.contributions import access as contributions_access
from tests.federations import access as federations_access
from tests.field import access as field_access
from tests.imports import access as imports_access
from tests.jobs import access as jobs_access
from tests.messaging import access as messaging_access
from tests.selfservice import access as selfservice_access

AREA_MODULES = (agreements_access, imports_access, jobs_access, batches_access,
                contributions_access, federations_access, messaging_access, field_access,
                selfservice_access)
