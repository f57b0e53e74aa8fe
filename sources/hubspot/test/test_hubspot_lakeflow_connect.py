"""HubSpot connector against the local HubSpot simulator: the shared suite and its own cases."""

from __future__ import annotations

import pytest

from libs.http_retry import ConnectorAuthError
from sources.hubspot.hubspot import HubspotLakeflowConnect
from sources.hubspot.test.simulator import HubspotSimulator
from sources.interface.lakeflow_connect import read_to_fixed_point
from tests.connector_suite import LakeflowConnectTests, simulator_fixtures

sim, make_connector = simulator_fixtures(HubspotSimulator, HubspotLakeflowConnect, seed=9)


class TestHubspotConnector(LakeflowConnectTests):
    """The shared suite, against the simulator."""


def read_all(connector, table, offset=None, options=None, deletes=False):
    return read_to_fixed_point(connector, table, offset, options or {}, deletes=deletes)


def searches(sim, kind="contacts"):
    return sim.requests_to(f"/crm/v3/objects/{kind}/search")


def test_schema_follows_the_portals_custom_properties(sim, make_connector):
    sim.add_property("contacts", "favourite_colour")
    sim.add_property("contacts", "lifetime_value", "number")
    schema = make_connector().get_table_schema("contacts", {})
    types = {f.name: f.dataType.simpleString() for f in schema.fields}
    assert types["favourite_colour"] == "string" and types["lifetime_value"] == "double"
    assert types["hs_lastmodifieddate"] == "timestamp" and types["id"] == "string"


def test_paging_with_after_across_pages(sim, make_connector):
    records, _ = read_all(make_connector(), "contacts", options={"page_size": "4"})
    ids = [r["id"] for r in records]
    assert len(ids) == len(set(ids)) == 15
    assert len(searches(sim)) >= 4


def test_the_search_cap_moves_the_window_instead_of_paging_past_it(sim, make_connector):
    for _ in range(25):
        sim.add_object("deals")
    sim.search_cap = 10
    options = {"search_cap": "10", "page_size": "5"}
    records, _ = read_all(make_connector(), "deals", options=options)
    ids = [r["id"] for r in records]
    assert len(ids) == len(set(ids)) == 40
    statuses = [r.status for r in searches(sim, "deals")]
    assert statuses and all(s == 200 for s in statuses), "the connector paged past the cap"
    assert len(statuses) >= 8  # 40 results through windows of at most 10


def test_incremental_read_returns_only_changed_records(sim, make_connector):
    connector = make_connector()
    _, offset = read_all(connector, "companies")
    sim.update_object("companies", "103", name="Renamed Inc")
    added = sim.add_object("companies")
    changed, _ = read_all(connector, "companies", offset)
    assert [r["id"] for r in changed] == ["103", added["id"]]
    assert changed[0]["name"] == "Renamed Inc"


def test_archived_objects_are_read_as_deletes(sim, make_connector):
    connector = make_connector()
    _, offset = read_all(connector, "tickets", deletes=True)
    sim.archive("tickets", "105")
    sim.archive("tickets", "107")
    deleted, new_offset = read_all(connector, "tickets", offset, deletes=True)
    assert [d["id"] for d in deleted] == ["105", "107"]
    assert read_all(connector, "tickets", new_offset, deletes=True)[0] == []
    live, _ = read_all(connector, "tickets")
    assert {"105", "107"}.isdisjoint(r["id"] for r in live)


def test_429_is_retried(sim, make_connector):
    sim.fail_next(status=429, times=3, path="/crm/v3/objects/deals/search",
                  headers={"X-HubSpot-RateLimit-Interval-Milliseconds": "1000"})  # fmt: skip
    records, _ = read_all(make_connector(), "deals")
    assert len(records) == 15
    assert [r.status for r in searches(sim, "deals")][:4] == [429, 429, 429, 200]


def test_bad_token_gives_a_clear_error(make_connector):
    with pytest.raises(ConnectorAuthError, match="HTTP 401.*Authentication credentials not found"):
        make_connector(access_token="wrong").get_table_schema("contacts", {})
