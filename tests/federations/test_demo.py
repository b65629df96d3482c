"""The demo has a federation per country holding the demo cooperatives of that country, and
its admin and analyst can log in to it."""

from __future__ import annotations

from sqlalchemy import select

from coopreg.extensions import db
from coopreg.federations.models import Federation, FederationCooperative
from tests.conftest import login


def test_the_demo_groups_its_cooperatives_by_country(app, client):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["demo", "--members", "8"])
    assert result.exit_code == 0, result.output
    assert "analyst@fedcr.demo" in result.output
    again = runner.invoke(args=["demo", "--members", "8"])
    assert again.exit_code == 0, again.output
    with app.app_context():
        grouped = {(f.code, p.cooperative.code) for f, p in db.session.execute(
            select(Federation, FederationCooperative).join(
                FederationCooperative, FederationCooperative.federation_id == Federation.id))}
        assert grouped == {("FEDCR", "CRAGRO"), ("FEDPH", "PHCOOP"), ("FEDAR", "ARCOOP")}
    login(client, "analyst@fedcr.demo", password="coopreg-demo-2026")
    page = client.get("/federation/roll-up").get_data(as_text=True)
    assert "Cooperativa Agrícola Los Santos" in page
    client.post("/logout")
    login(client, "desk@ccss.demo", password="coopreg-demo-2026")
    desk = client.get("/desk/").get_data(as_text=True)
    assert "desk: CCSS" in desk  # its batches: the demo's, when it has enough members
    client.post("/logout")
    assert "platform@federations.demo" in result.output
    login(client, "platform@federations.demo", password="coopreg-demo-2026")
    platform = client.get("/platform/").get_data(as_text=True)
    assert all(code in platform for code in ("FEDCR", "FEDPH", "FEDAR", "desk@ccss.demo"))
