"""SAP SuccessFactors connector against the local OData simulator."""

from __future__ import annotations

import pytest

from libs.http_retry import ConnectorAuthError
from sources.interface.lakeflow_connect import read_to_fixed_point
from sources.sap_successfactors.sap_successfactors import (
    SapSuccessfactorsLakeflowConnect,
    sf_parse_value,
)
from sources.sap_successfactors.test.simulator import (
    SuccessFactorsSimulator,
)
from tests.connector_suite import LakeflowConnectTests, simulator_fixtures

sim, make_connector = simulator_fixtures(
    SuccessFactorsSimulator, SapSuccessfactorsLakeflowConnect, seed=3
)


class TestSuccessFactorsConnector(LakeflowConnectTests):
    """The shared suite, against the simulator."""


def read_all(connector, table, offset=None, options=None):
    return read_to_fixed_point(connector, table, offset, options or {})


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("/Date(1700000000000)/", "2023-11-14T22:13:20+00:00"),
        ("/Date(1700000000000+0000)/", "2023-11-14T22:13:20+00:00"),
        ("/Date(1700000000000+0130)/", "2023-11-14T23:43:20+01:30"),
        ("plain", "plain"),
    ],
)
def test_odata_dates_are_parsed(value, expected):
    assert sf_parse_value(value) == expected


def test_server_side_paging_follows_next_links(sim, make_connector):
    sim.page_size = 6
    records, _ = read_all(make_connector(), "User")
    assert len({r["userId"] for r in records}) == len(records) == 20
    requests = sim.requests_to("/odata/v2/User")
    # 20 users, 6 a page: the query, three `__next` pages, then the check that nothing is newer.
    assert [bool(r.arg("$skiptoken")) for r in requests] == [False, True, True, True, False]


def test_incremental_filter_returns_only_changed_records(sim, make_connector):
    connector = make_connector()
    _, offset = read_all(connector, "User")
    sim.entities["User"].update("u1003", department="Finance")
    added = sim.add_user()
    changed, _ = read_all(connector, "User", offset)
    assert [r["userId"] for r in changed] == ["u1003", added["userId"]]
    last = sim.requests_to("/odata/v2/User")[-1]
    assert "lastModifiedDateTime gt datetimeoffset'" in last.arg("$filter")


def test_start_and_end_date_bound_the_window(make_connector):
    connector = make_connector()
    everything, _ = read_all(connector, "EmpJob")
    times = sorted(r["lastModifiedDateTime"] for r in everything)
    window = {"start_date": times[4][:19], "end_date": times[9][:19]}
    bounded, _ = read_all(connector, "EmpJob", options=window)
    assert len(bounded) == 5


def test_429_is_retried(sim, make_connector):
    sim.fail_next(status=429, retry_after=5, times=2, path="/odata/v2/PerPerson")
    records, _ = read_all(make_connector(), "PerPerson")
    assert len(records) == 20


def test_bad_credentials_give_a_clear_error(make_connector):
    with pytest.raises(ConnectorAuthError, match="HTTP 401.*invalid credentials"):
        make_connector(api_key="wrong").read_table("User", None, {})
