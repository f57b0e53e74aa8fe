"""Zoho CRM connector against the local Zoho simulator."""

from __future__ import annotations

import pytest

from libs.http_retry import ConnectorAuthError
from sources.interface.lakeflow_connect import read_to_fixed_point
from sources.zoho_crm.test.simulator import ZohoSimulator
from sources.zoho_crm.zoho_crm import ZohoCrmLakeflowConnect
from tests.connector_suite import LakeflowConnectTests, simulator_fixtures
from tools.lakeflow import merge

sim, make_connector = simulator_fixtures(ZohoSimulator, ZohoCrmLakeflowConnect, seed=12)


class TestZohoConnector(LakeflowConnectTests):
    """The shared suite, against the simulator."""


def read_all(connector, table, offset=None, deletes=False):
    return read_to_fixed_point(connector, table, offset, {}, deletes=deletes)


def test_modules_are_discovered_from_the_settings_api(make_connector):
    connector = make_connector()
    assert connector.list_tables() == ["Leads", "Contacts", "Accounts", "Deals"]  # not Visits
    schema = connector.get_table_schema("Leads", {})
    types = {f.name: f.dataType.simpleString() for f in schema.fields}
    assert types["Annual_Revenue"] == "double" and types["No_of_Employees"] == "bigint"
    assert types["Tag"] == "array<string>" and types["Modified_Time"] == "timestamp"


def test_paging_across_pages(sim, make_connector):
    sim.per_page_cap = 5
    records, _ = read_all(make_connector(), "Leads")
    assert len({r["id"] for r in records}) == len(records) == 12
    pages = [r.arg("page") for r in sim.requests_to("/crm/v6/Leads")]
    assert pages[:3] == ["1", "2", "3"]


def test_incremental_read_returns_only_changed_records(sim, make_connector):
    connector = make_connector()
    _, offset = read_all(connector, "Contacts")
    first = sim.records["Contacts"].values()[2]["id"]
    sim.records["Contacts"].update(first, Email="changed@example.com")
    added = sim.add_record("Contacts")
    changed, _ = read_all(connector, "Contacts", offset)
    assert [r["id"] for r in changed] == [first, added["id"]]
    assert changed[0]["Account_Name"] == "5725767000000999001"  # lookups keep their id


def test_deleted_records_come_from_the_deleted_endpoint(sim, make_connector):
    connector = make_connector()
    _, offset = read_all(connector, "Deals", deletes=True)
    ids = [r["id"] for r in sim.records["Deals"].values()[:2]]
    for rid in ids:
        sim.records["Deals"].delete(rid)
    deleted, _ = read_all(connector, "Deals", offset, deletes=True)
    assert [d["id"] for d in deleted] == ids


def test_the_access_token_is_refreshed_when_it_expires(sim, make_connector):
    connector = make_connector()
    read_all(connector, "Accounts")
    assert sim.tokens.issued == 1
    sim.tokens.expire_all()
    read_all(connector, "Accounts")
    assert sim.tokens.issued == 2


def test_429_is_retried(sim, make_connector):
    sim.fail_next(status=429, retry_after=3, times=2, path="/crm/v6/Leads")
    records, _ = read_all(make_connector(), "Leads")
    assert len(records) == 12


def test_a_bad_refresh_token_gives_a_clear_error(make_connector):
    with pytest.raises(ConnectorAuthError, match="refresh token exchange.*invalid_code"):
        make_connector(refresh_token="wrong").list_tables()


def test_the_merged_file_orders_the_connector_modules_by_their_imports():
    names = [p.name for p in merge.merge_source("zoho_crm").modules]
    assert names.index("auth.py") < names.index("client.py") < names.index("schemas.py")
    assert names.index("schemas.py") < names.index("zoho_crm.py")
