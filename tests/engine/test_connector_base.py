"""The connector base helpers every connector is built on (libs/connector_base.py)."""

from __future__ import annotations

import pickle

import pytest

from libs.connector_base import ProcessLocal, require_options, require_table, utc_text


class TokenHolder(ProcessLocal):
    process_local = {"_session": None, "_token": None}

    def __init__(self):
        self.name, self._token = "kept", "secret-access-token"


def test_a_pickled_copy_keeps_its_settings_but_not_its_session_or_token():
    holder = TokenHolder()
    session = holder.session()
    assert holder.session() is session  # one session per process, reused
    copy = pickle.loads(pickle.dumps(holder))
    assert copy.name == "kept" and copy._token is None and copy._session is None
    assert copy.session() is not session
    assert holder._token == "secret-access-token"  # pickling leaves the original alone


def test_required_options_are_named_together():
    with pytest.raises(ValueError, match=r"^acme: connection option\(s\) user, key required$"):
        require_options("acme", {"user": " ", "url": "u"}, "user", "key", "url")
    require_options("acme", {"user": "u"}, "user")


def test_an_unknown_table_names_the_known_ones():
    with pytest.raises(ValueError, match="acme: unknown table 'x'; tables are a, b"):
        require_table("acme", "x", ["a", "b"])


def test_utc_text_normalises_iso_and_names_the_option_when_it_cannot():
    assert utc_text("acme", "start_date", "2024-02-03T06:05:06+02:00") == "2024-02-03T04:05:06Z"
    assert utc_text("acme", "start_date", "2024-02-03") == "2024-02-03T00:00:00Z"
    with pytest.raises(ValueError, match="acme: start_date must be an ISO date"):
        utc_text("acme", "start_date", "yesterday")
