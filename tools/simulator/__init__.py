"""One framework for every API simulator: a simulator is routes plus seeded data.

See `tools.simulator.core` for a worked example. Stdlib only, so connector test sessions need
nothing beyond their own requirements.
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
    link_header,
    paginate,
    route,
)
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
    "build_url",
    "link_header",
    "paginate",
    "parse_time",
    "route",
]
