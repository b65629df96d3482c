"""The demo's federations: one per country, holding the demo cooperatives of that country,
with a federation admin and an analyst. Idempotent: what exists is left as it is."""

from __future__ import annotations

from coopreg.auth import services as auth_services
from coopreg.cooperatives.models import Cooperative
from coopreg.federations import services
from coopreg.federations.models import FederationRole

FEDERATION_NAMES = {"CR": "Unión Nacional de Cooperativas de Costa Rica (demo)",
                    "PH": "Philippine Federation of Cooperatives (demo)"}


def load_demo_federations(cooperatives: list[Cooperative], password: str) -> tuple[list, list]:
    """(report lines, logins): a federation per country of the demo cooperatives."""
    lines, logins = [], []
    by_country: dict[str, list[Cooperative]] = {}
    for cooperative in cooperatives:
        by_country.setdefault(cooperative.country, []).append(cooperative)
    for country, members in sorted(by_country.items()):
        code = f"FED{country}"
        federation = services.find_federation(code)
        if federation is None:
            federation = services.create_federation(
                code, FEDERATION_NAMES.get(country, f"Federation {country} (demo)"))
            lines.append(f"Created federation {code}: {federation.name}")
        for cooperative in members:
            if services.federation_of(cooperative.id) is None:
                services.add_cooperative(federation, cooperative)
        for role, word in ((FederationRole.ADMIN, "admin"), (FederationRole.ANALYST, "analyst")):
            email = f"{word}@{code.lower()}.demo"
            user = auth_services.find_user_by_email(email)
            if user is None:
                user = auth_services.create_user(email, f"{code} {word}", password)
                services.grant_federation_role(user, federation, role)
            logins.append((email, f"{role.value} of {code}"))
    return lines, logins
