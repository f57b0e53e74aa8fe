"""Zoho CRM connector against the local Zoho simulator."""

from __future__ import annotations

import pytest

from libs.http_retry import ConnectorAuthError
from sources.interface.lakeflow_connect import read_to_fixed_point
from sources.zoho_crm.test.simulator import CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN, ZohoSimulator
from sources.zoho_crm.zoho_crm import ZohoCrmLakeflowConnect
from tests.connector_suite import LakeflowConnectTests
from tools.lakeflow import merge


@pytest.fixture
def sim():
    with ZohoSimulator(seed=12) as running:
        yield running


def make_connector(sim, refresh_token: str = REFRESH_TOKEN) -> ZohoCrmLakeflowConnect:
    connector = ZohoCrmLakeflowConnect(
        {
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "refresh_token": refresh_token,
            "accounts_url": sim.url,
            "api_url": sim.url,
        }  # fmt: skip
    )
    connector.retry_policy.sleep = sim.clock.sleep
    connector.retry_policy.clock = sim.clock.time
    return connector


class TestZohoConnector(LakeflowConnectTests):
    @pytest.fixture
    def connector(self, sim):
        return make_connector(sim)


def read_all(connector, table, offset=None, deletes=False):
    return read_to_fixed_point(connector, table, offset, {}, deletes=deletes)


def test_modules_are_discovered_from_the_settings_api(sim):
    connector = make_connector(sim)
    assert connector.list_tables() == ["Leads", "Contacts", "Accounts", "Deals"]  # not Visits
    schema = connector.get_table_schema("Leads", {})
    types = {f.name: f.dataType.simpleString() for f in schema.fields}
    assert types["Annual_Revenue"] == "double" and types["No_of_Employees"] == "bigint"
    assert types["Tag"] == "array<string>" and types["Modified_Time"] == "timestamp"


def test_paging_across_pages(sim):
    sim.per_page_cap = 5
    records, _ = read_all(make_connector(sim), "Leads")
    assert len({r["id"] for r in records}) == len(records) == 12
    pages = [r.arg("page") for r in sim.requests_to("/crm/v6/Leads")]
    assert pages[:3] == ["1", "2", "3"]


def test_incremental_read_returns_only_changed_records(sim):
    connector = make_connector(sim)
    _, offset = read_all(connector, "Contacts")
    first = sim.records["Contacts"].values()[2]["id"]
    sim.records["Contacts"].update(first, Email="changed@example.com")
    added = sim.add_record("Contacts")
    changed, _ = read_all(connector, "Contacts", offset)
    assert [r["id"] for r in changed] == [first, added["id"]]
    assert changed[0]["Account_Name"] == "5725767000000999001"  # lookups keep their id


def test_deleted_records_come_from_the_deleted_endpoint(sim):
    connector = make_connector(sim)
    _, offset = read_all(connector, "Deals", deletes=True)
    ids = [r["id"] for r in sim.records["Deals"].values()[:2]]
    for rid in ids:
        sim.records["Deals"].delete(rid)
    deleted, _ = read_all(connector, "Deals", offset, deletes=True)
    assert [d["id"] for d in deleted] == ids


def test_the_access_token_is_refreshed_when_it_expires(sim):
    connector = make_connector(sim)
    read_all(connector, "Accounts")
    assert sim.tokens.issued == 1
    sim.tokens.expire_all()
    read_all(connector, "Accounts")
    assert sim.tokens.issued == 2


def test_429_is_retried(sim):
    sim.fail_next(status=429, retry_after=3, times=2, path="/crm/v6/Leads")
    records, _ = read_all(make_connector(sim), "Leads")
    assert len(records) == 12


def test_a_bad_refresh_token_gives_a_clear_error(sim):
    with pytest.raises(ConnectorAuthError, match="refresh token exchange.*invalid_code"):
        make_connector(sim, refresh_token="wrong").list_tables()


def test_the_merged_file_orders_the_connector_modules_by_their_imports():
    names = [p.name for p in merge.merge_source("zoho_crm").modules]
    assert names.index("auth.py") < names.index("client.py") < names.index("schemas.py")
    assert names.index("schemas.py") < names.index("zoho_crm.py")
