"""HubSpot connector against the local HubSpot simulator: the shared suite and its own cases."""

from __future__ import annotations

import pytest

from libs.http_retry import ConnectorAuthError
from sources.hubspot.hubspot import HubspotLakeflowConnect
from sources.hubspot.test.simulator import TOKEN, HubspotSimulator
from sources.interface.lakeflow_connect import read_to_fixed_point
from tests.connector_suite import LakeflowConnectTests


@pytest.fixture
def sim():
    with HubspotSimulator(seed=9) as running:
        yield running


def make_connector(sim, token: str = TOKEN) -> HubspotLakeflowConnect:
    connector = HubspotLakeflowConnect({"access_token": token, "base_url": sim.url})
    connector.retry_policy.sleep = sim.clock.sleep  # waits move the simulated clock
    connector.retry_policy.clock = sim.clock.time
    return connector


class TestHubspotConnector(LakeflowConnectTests):
    @pytest.fixture
    def connector(self, sim):
        return make_connector(sim)


def read_all(connector, table, offset=None, options=None, deletes=False):
    return read_to_fixed_point(connector, table, offset, options or {}, deletes=deletes)


def searches(sim, kind="contacts"):
    return sim.requests_to(f"/crm/v3/objects/{kind}/search")


def test_schema_follows_the_portals_custom_properties(sim):
    sim.add_property("contacts", "favourite_colour")
    sim.add_property("contacts", "lifetime_value", "number")
    schema = make_connector(sim).get_table_schema("contacts", {})
    types = {f.name: f.dataType.simpleString() for f in schema.fields}
    assert types["favourite_colour"] == "string" and types["lifetime_value"] == "double"
    assert types["hs_lastmodifieddate"] == "timestamp" and types["id"] == "string"


def test_paging_with_after_across_pages(sim):
    records, _ = read_all(make_connector(sim), "contacts", options={"page_size": "4"})
    ids = [r["id"] for r in records]
    assert len(ids) == len(set(ids)) == 15
    assert len(searches(sim)) >= 4


def test_the_search_cap_moves_the_window_instead_of_paging_past_it(sim):
    for _ in range(25):
        sim.add_object("deals")
    sim.search_cap = 10
    options = {"search_cap": "10", "page_size": "5"}
    records, _ = read_all(make_connector(sim), "deals", options=options)
    ids = [r["id"] for r in records]
    assert len(ids) == len(set(ids)) == 40
    statuses = [r.status for r in searches(sim, "deals")]
    assert statuses and all(s == 200 for s in statuses), "the connector paged past the cap"
    assert len(statuses) >= 8  # 40 results through windows of at most 10


def test_incremental_read_returns_only_changed_records(sim):
    connector = make_connector(sim)
    _, offset = read_all(connector, "companies")
    sim.update_object("companies", "103", name="Renamed Inc")
    added = sim.add_object("companies")
    changed, _ = read_all(connector, "companies", offset)
    assert [r["id"] for r in changed] == ["103", added["id"]]
    assert changed[0]["name"] == "Renamed Inc"


def test_archived_objects_are_read_as_deletes(sim):
    connector = make_connector(sim)
    _, offset = read_all(connector, "tickets", deletes=True)
    sim.archive("tickets", "105")
    sim.archive("tickets", "107")
    deleted, new_offset = read_all(connector, "tickets", offset, deletes=True)
    assert [d["id"] for d in deleted] == ["105", "107"]
    assert read_all(connector, "tickets", new_offset, deletes=True)[0] == []
    live, _ = read_all(connector, "tickets")
    assert {"105", "107"}.isdisjoint(r["id"] for r in live)


def test_429_is_retried(sim):
    sim.fail_next(status=429, times=3, path="/crm/v3/objects/deals/search",
                  headers={"X-HubSpot-RateLimit-Interval-Milliseconds": "1000"})  # fmt: skip
    records, _ = read_all(make_connector(sim), "deals")
    assert len(records) == 15
    assert [r.status for r in searches(sim, "deals")][:4] == [429, 429, 429, 200]


def test_bad_token_gives_a_clear_error(sim):
    with pytest.raises(ConnectorAuthError, match="HTTP 401.*Authentication credentials not found"):
        make_connector(sim, token="wrong").get_table_schema("contacts", {})
