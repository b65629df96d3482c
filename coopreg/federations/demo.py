"""The demo's federations: one per country, holding the demo cooperatives of that country,
with a federation admin and an analyst, and a desk account for each institution the
cooperatives' agreements name (the agreements send through the desk); and the platform admin
who keeps them all (`platform@federations.demo`). Idempotent: what exists is left as it is."""

from __future__ import annotations

from coopreg.auth import services as auth_services
from coopreg.cooperatives.models import Cooperative
from coopreg.federations import services
from coopreg.federations.models import FederationRole

PLATFORM_ADMIN = "platform@federations.demo"
FEDERATION_NAMES = {"CR": "Unión Nacional de Cooperativas de Costa Rica (demo)",
                    "PH": "Philippine Federation of Cooperatives (demo)",
                    "AR": "Federación Argentina de Cooperativas de Trabajo (demo)"}


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
        for cooperative in members:
            logins.extend(_desks(cooperative, federation, password))
    user = auth_services.find_user_by_email(PLATFORM_ADMIN)
    if user is None:
        user = auth_services.create_user(PLATFORM_ADMIN, "Platform admin", password)
        auth_services.set_platform_admin(user, True)
    logins.append((PLATFORM_ADMIN, "platform admin (every federation and desk account)"))
    return lines, logins


def _desks(cooperative: Cooperative, federation, password: str) -> list[tuple[str, str]]:
    from coopreg.agreements.services import agreements_of
    from coopreg.federations import desk

    logins = []
    for agreement in agreements_of(cooperative.id):
        code = agreement.institution.short_name.upper()
        if agreement.id not in desk.desk_settings(cooperative):
            desk.set_desk_mode(cooperative, agreement.id, "desk")
        email = f"desk@{code.lower()}.demo"
        user = auth_services.find_user_by_email(email)
        if user is None:
            desk.create_account_for(email, f"{code} desk", password, code, federation)
        logins.append((email, f"institution desk of {code} in {federation.code}"))
    return logins
