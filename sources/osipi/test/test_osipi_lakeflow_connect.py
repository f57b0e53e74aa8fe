"""OSI PI connector against the local PI Web API simulator."""

from __future__ import annotations

import pytest

from libs.http_retry import ConnectorAuthError
from sources.interface.lakeflow_connect import read_to_fixed_point
from sources.osipi.osipi import OsipiLakeflowConnect
from sources.osipi.test.simulator import PiSimulator
from tests.connector_suite import LakeflowConnectTests, simulator_fixtures

sim, make_connector = simulator_fixtures(PiSimulator, OsipiLakeflowConnect, seed=6)


class TestOsipiConnector(LakeflowConnectTests):
    """The shared suite, against the simulator."""


def read_all(connector, table, offset=None, options=None):
    return read_to_fixed_point(connector, table, offset, options or {})


def test_points_are_selected_by_name_filter_and_paged(sim, make_connector):
    records, _ = read_all(
        make_connector(), "points", options={"name_filter": "BA:*", "max_count": "2"}
    )
    assert sorted(r["Name"] for r in records) == ["BA:ACTIVE.1", "BA:LEVEL.1", "BA:TEMP.1"]
    starts = [
        r.arg("startIndex") for r in sim.requests_to("/piwebapi/dataservers/F1DSserver1/points")
    ]
    assert starts == ["0", "2"]


def test_recorded_values_stream_in_max_count_pages_then_only_new_values(sim, make_connector):
    for point in sim.points[:2]:
        sim.append_values(point["WebId"], 2470)  # 2,500 values each
    connector = make_connector()
    options = {"name_filter": "SINUSOID*", "max_count": "1000"}
    values, offset = read_all(connector, "recorded_values", options=options)
    assert len(values) == 5000
    assert len({(v["point_web_id"], v["timestamp"]) for v in values}) == 5000
    assert max(int(r.arg("maxCount")) for r in sim.requests_to("/piwebapi/streams")) == 1000
    sim.append_values(sim.points[0]["WebId"], 3)
    new, _ = read_all(connector, "recorded_values", offset, options)
    assert [v["point_name"] for v in new] == ["SINUSOID"] * 3


def test_digital_states_keep_their_name(make_connector):
    values, _ = read_all(
        make_connector(), "recorded_values", options={"name_filter": "BA:ACTIVE.1"}
    )
    assert values and all(v["value_string"] in ("Active", "Inactive") for v in values)


def test_the_token_is_cached_and_refreshed_when_it_expires(sim, make_connector):
    connector = make_connector()
    read_all(connector, "dataservers")
    read_all(connector, "points")
    assert sim.tokens.issued == 1
    sim.clock.advance(3600)
    read_all(connector, "dataservers")
    assert sim.tokens.issued == 2
    sim.tokens.expire_all()  # revoked early: one refused request, then a new token
    read_all(connector, "points")
    assert sim.tokens.issued == 3


def test_429_is_retried(sim, make_connector):
    sim.fail_next(status=429, retry_after=2, times=2, path="/piwebapi/streams")
    values, _ = read_all(make_connector(), "recorded_values", options={"name_filter": "CDT158"})
    assert len(values) == 30


def test_a_bad_client_secret_gives_a_clear_error(make_connector):
    with pytest.raises(ConnectorAuthError, match="token was refused with HTTP 401.*invalid_client"):
        make_connector(client_secret="wrong").read_table("dataservers", None, {})
