"""An OSI PI Web API simulator on the shared framework: routes plus seeded data.

Models what the connector depends on: an OAuth2 client-credentials token endpoint whose tokens
expire on the simulated clock, data servers, points with PI's `nameFilter` wildcards and
`startIndex`/`maxCount` paging, and recorded values per stream with `startTime`/`endTime`
(boundary inclusive, as PI is) and `maxCount`, numeric and digital-state values.
"""

from __future__ import annotations

import fnmatch
from datetime import datetime, timedelta

from tools.simulator import HttpError, Response, Simulator, TokenIssuer, parse_time, route

CLIENT_ID, CLIENT_SECRET = "pi-client", "pi-simulated-secret"
POINT_NAMES = [
    "SINUSOID",
    "SINUSOIDU",
    "CDT158",
    "CDM158",
    "BA:TEMP.1",
    "BA:LEVEL.1",
    "BA:ACTIVE.1",
]
EPOCH = parse_time("2024-01-01T00:00:00Z")


def pi_time(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


class PiSimulator(Simulator):
    service_name = "osipi"
    secret_query_params = Simulator.secret_query_params | {"client_secret"}

    def __init__(self, seed: int = 0, *, values_per_point: int = 30, **kwargs):
        self.values_per_point = values_per_point
        super().__init__(seed, **kwargs)

    def connection_options(self) -> dict[str, str]:
        """The connection options of a connector that reads this simulator."""
        return {
            "base_url": f"{self.url}/piwebapi",
            "token_url": f"{self.url}/identity/connect/token",
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
        }

    def seed_data(self) -> None:
        # "Now" is nine days after the first value: recorded values up to then exist.
        self.clock.set(EPOCH + timedelta(days=9))
        self.tokens = TokenIssuer(self.clock, ttl=3600)
        self.servers = [{"WebId": "F1DSserver1", "Id": "s-1", "Name": "PISRV01", "Path": r"\\PISRV01",
                         "IsConnected": True, "ServerVersion": "3.4.440.477"}]  # fmt: skip
        self.points = []
        self.values: dict[str, list[dict]] = {}
        for index, name in enumerate(POINT_NAMES):
            web_id = f"F1DPpoint{index:03d}"
            digital = name.endswith("ACTIVE.1")
            self.points.append({"WebId": web_id, "Id": index, "Name": name, "Path": rf"\\PISRV01\{name}",
                                "PointClass": "classic", "PointType": "Digital" if digital else "Float32",
                                "EngineeringUnits": "" if digital else "degC", "Descriptor": name.lower()})  # fmt: skip
            self.values[web_id] = []
            self.append_values(web_id, self.values_per_point)

    def append_values(self, web_id: str, count: int) -> list[dict]:
        series = self.values[web_id]
        digital = any(p["WebId"] == web_id and p["PointType"] == "Digital" for p in self.points)
        added = []
        for _ in range(count):
            when = EPOCH + timedelta(minutes=len(series))
            value = ({"Name": self.rng.choice(["Active", "Inactive"]), "Value": self.rng.randint(0, 1)}
                     if digital else round(self.rng.uniform(-10, 40), 3))  # fmt: skip
            item = {"Timestamp": pi_time(when), "Value": value, "UnitsAbbreviation": "" if digital else "°C",
                    "Good": True, "Questionable": False, "Substituted": False}  # fmt: skip
            series.append(item)
            added.append(item)
        return added

    # -- OAuth and errors ------------------------------------------------------------------------
    def error_body(self, status: int, message: str):
        return {"Errors": [message]}

    @route("POST", "/identity/connect/token", auth=False)
    def token(self, request):
        form = request.form()
        if form.get("grant_type") != "client_credentials":
            return Response.json({"error": "unsupported_grant_type"}, status=400)
        if (form.get("client_id"), form.get("client_secret")) != (CLIENT_ID, CLIENT_SECRET):
            return Response.json({"error": "invalid_client"}, status=401)
        return self.tokens.issue(scope=form.get("scope", ""))

    def check_auth(self, request):
        if not self.tokens.is_valid(request.bearer_token()):
            return Response.json(
                {"Errors": ["Authorization has been denied for this request."]}, status=401
            )
        return None

    # -- PI Web API --------------------------------------------------------------------------------
    @route("GET", "/piwebapi/dataservers")
    def dataservers(self, request):
        return {"Links": {}, "Items": [dict(s) for s in self.servers]}

    @route("GET", "/piwebapi/dataservers/{web_id}/points")
    def points_of(self, request):
        if request.params["web_id"] not in {s["WebId"] for s in self.servers}:
            raise HttpError(404, self.error_body(404, "Unknown data server"))
        pattern = request.arg("nameFilter", "*")
        start = request.int_arg("startIndex", 0)
        count = request.int_arg("maxCount", 1000, minimum=1)
        matching = [
            p for p in self.points if fnmatch.fnmatchcase(p["Name"].upper(), pattern.upper())
        ]
        return {"Links": {}, "Items": [dict(p) for p in matching[start : start + count]]}

    def _time(self, value: str, default: datetime) -> datetime:
        if value in (None, "", "*"):
            return self.clock.now()
        if value.startswith("*-") and value.endswith("d"):
            return self.clock.now() - timedelta(days=int(value[2:-1]))
        return parse_time(value) if value else default

    @route("GET", "/piwebapi/streams/{web_id}/recorded")
    def recorded(self, request):
        series = self.values.get(request.params["web_id"])
        if series is None:
            raise HttpError(404, self.error_body(404, "Unknown stream"))
        start = self._time(request.arg("startTime", "*-1d"), EPOCH)
        end = self._time(request.arg("endTime", "*"), self.clock.now())
        count = request.int_arg("maxCount", 1000, minimum=1, maximum=150000)
        items = [v for v in series if start <= parse_time(v["Timestamp"]) <= end]
        return {"Links": {}, "Items": [dict(v) for v in items[:count]]}
