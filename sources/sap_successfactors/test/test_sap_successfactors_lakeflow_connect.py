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
    API_KEY,
    COMPANY,
    USERNAME,
    SuccessFactorsSimulator,
)
from tests.connector_suite import LakeflowConnectTests


@pytest.fixture
def sim():
    with SuccessFactorsSimulator(seed=3) as running:
        yield running


def make_connector(sim, key: str = API_KEY) -> SapSuccessfactorsLakeflowConnect:
    connector = SapSuccessfactorsLakeflowConnect(
        {"api_url": sim.url, "company_id": COMPANY, "username": USERNAME, "api_key": key}
    )
    connector.retry_policy.sleep = sim.clock.sleep
    connector.retry_policy.clock = sim.clock.time
    return connector


class TestSuccessFactorsConnector(LakeflowConnectTests):
    @pytest.fixture
    def connector(self, sim):
        return make_connector(sim)


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


def test_server_side_paging_follows_next_links(sim):
    sim.page_size = 6
    records, _ = read_all(make_connector(sim), "User")
    assert len({r["userId"] for r in records}) == len(records) == 20
    requests = sim.requests_to("/odata/v2/User")
    # 20 users, 6 a page: the query, three `__next` pages, then the check that nothing is newer.
    assert [bool(r.arg("$skiptoken")) for r in requests] == [False, True, True, True, False]


def test_incremental_filter_returns_only_changed_records(sim):
    connector = make_connector(sim)
    _, offset = read_all(connector, "User")
    sim.entities["User"].update("u1003", department="Finance")
    added = sim.add_user()
    changed, _ = read_all(connector, "User", offset)
    assert [r["userId"] for r in changed] == ["u1003", added["userId"]]
    last = sim.requests_to("/odata/v2/User")[-1]
    assert "lastModifiedDateTime gt datetimeoffset'" in last.arg("$filter")


def test_start_and_end_date_bound_the_window(sim):
    connector = make_connector(sim)
    everything, _ = read_all(connector, "EmpJob")
    times = sorted(r["lastModifiedDateTime"] for r in everything)
    window = {"start_date": times[4][:19], "end_date": times[9][:19]}
    bounded, _ = read_all(connector, "EmpJob", options=window)
    assert len(bounded) == 5


def test_429_is_retried(sim):
    sim.fail_next(status=429, retry_after=5, times=2, path="/odata/v2/PerPerson")
    records, _ = read_all(make_connector(sim), "PerPerson")
    assert len(records) == 20


def test_bad_credentials_give_a_clear_error(sim):
    with pytest.raises(ConnectorAuthError, match="HTTP 401.*invalid credentials"):
        make_connector(sim, key="wrong").read_table("User", None, {})
