"""One framework for every API simulator: a simulator is routes plus seeded data.

Writing one (see sources/github/test/simulator.py for a full example):
- subclass `Simulator`, set `service_name`, create data in `seed_data()` with `self.rng` (seeded)
  and `self.clock` (a `SimClock` only tests move); keep records in `self.collection(...)`, which
  remembers change and delete times (`changed_since`, `deleted_since`);
- add handlers with `@route("GET", "/items/{item_id}")`; they get a `Request` (`arg`, `int_arg`,
  `json`, `form`, `header`, `basic_auth`, `bearer_token`, `params`, `url_with`) and return a
  `Response` (or any JSON value), or raise `HttpError`;
- vendor shapes: `check_auth` (its 401 body), `error_body`, `before_request` (rate limits),
  `after_response` (headers on every answer); `link_header`, `paginate`, `encode_cursor` /
  `decode_cursor` for paging; `TokenIssuer` for OAuth token endpoints (`@route(..., auth=False)`).

In tests: `with MySimulator(seed=1) as sim:` serves on `sim.url` (127.0.0.1, a free port);
`sim.fail_next(status=429, retry_after=1, times=2, headers={...}, path="/items")` injects faults;
`sim.log` holds every request (method, path, query with secrets redacted, status; never headers);
inject `sim.clock.sleep` / `sim.clock.time` into a connector's `RetryPolicy` so waits are instant.
Stdlib only, so connector test sessions need nothing beyond their own requirements.
"""

from tools.simulator.clock import SimClock, parse_time
from tools.simulator.core import (
    Fault,
    HttpError,
    LoggedRequest,
    Request,
    Response,
    Simulator,
    build_url,
    decode_cursor,
    encode_cursor,
    link_header,
    paginate,
    route,
)
from tools.simulator.oauth import TokenIssuer
from tools.simulator.store import Collection, Tombstone

__all__ = [
    "Collection",
    "Fault",
    "HttpError",
    "LoggedRequest",
    "Request",
    "Response",
    "SimClock",
    "Simulator",
    "Tombstone",
    "TokenIssuer",
    "build_url",
    "decode_cursor",
    "encode_cursor",
    "link_header",
    "paginate",
    "parse_time",
    "route",
]
