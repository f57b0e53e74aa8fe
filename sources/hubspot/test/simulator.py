"""A HubSpot CRM v3 API simulator on the shared framework: routes plus seeded data.

Models what the connector depends on: the properties endpoint (with custom properties tests can
add), the search endpoint (filter on hs_lastmodifieddate, ascending sort, `after` paging, and the
10,000-result cap: paging past it is a 400, as in HubSpot), archived objects listed with
`archived=true`, HubSpot's 401 and 429 bodies and rate-limit headers.
"""

from __future__ import annotations

from datetime import datetime

from tools.simulator import HttpError, Response, Simulator, route

TOKEN = "pat-na1-simulated-0000-1111"
OBJECTS = ("contacts", "companies", "deals", "tickets")
BASE_PROPERTIES = {
    "contacts": [("email", "string"), ("firstname", "string"), ("lastname", "string"), ("lifecyclestage", "enumeration")],
    "companies": [("name", "string"), ("domain", "string"), ("numberofemployees", "number")],
    "deals": [("dealname", "string"), ("amount", "number"), ("closedate", "datetime"), ("dealstage", "enumeration")],
    "tickets": [("subject", "string"), ("hs_pipeline_stage", "enumeration"), ("hs_ticket_priority", "enumeration")],
}  # fmt: skip
COMMON_PROPERTIES = [
    ("hs_object_id", "number"),
    ("createdate", "datetime"),
    ("hs_lastmodifieddate", "datetime"),
]


def hs_time(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def millis(value: str) -> int:
    return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() * 1000)


class HubspotSimulator(Simulator):
    service_name = "hubspot"

    def __init__(self, seed: int = 0, *, per_object: int = 15, archived: int = 2, **kwargs):
        self.per_object, self.archived_per_object = per_object, archived
        self.search_cap = 10_000  # tests lower it to exercise the window move
        self.max_search_limit = 200
        super().__init__(seed, **kwargs)

    def connection_options(self) -> dict[str, str]:
        """The connection options of a connector that reads this simulator."""
        return {"access_token": TOKEN, "base_url": self.url}

    @staticmethod
    def _stamp(record: dict, when: datetime, event: str) -> None:
        if event == "add":
            record["createdAt"] = hs_time(when)
            record["properties"]["createdate"] = hs_time(when)
        record["updatedAt"] = hs_time(when)
        record["properties"]["hs_lastmodifieddate"] = hs_time(when)

    def seed_data(self) -> None:
        self.properties = {
            name: [
                {"name": p, "type": t, "label": p.title()}
                for p, t in COMMON_PROPERTIES + BASE_PROPERTIES[name]
            ]
            for name in OBJECTS
        }
        self.objects = {name: self.collection(on_change=self._stamp) for name in OBJECTS}
        for name in OBJECTS:
            for _ in range(self.per_object):
                self.add_object(name)
            # Objects archived before the first read: the delete flow has records from the start.
            for _ in range(self.archived_per_object):
                self.archive(name, self.add_object(name)["id"])

    def add_object(self, kind: str, **props) -> dict:
        oid = str(self.next_id(kind, 100))
        values = {"hs_object_id": oid}
        for prop in self.properties[kind]:
            if prop["name"] in values or prop["name"] in ("createdate", "hs_lastmodifieddate"):
                continue
            values[prop["name"]] = (
                str(self.rng.randint(1, 10_000))
                if prop["type"] == "number"
                else f"{prop['name']}-{oid}"
            )
        if kind == "deals":
            values["closedate"] = "2024-06-01T00:00:00.000Z"
        values.update(props)
        return self.objects[kind].add({"id": oid, "properties": values, "archived": False})

    def update_object(self, kind: str, oid: str, **props) -> dict:
        record = self.objects[kind].get(oid)
        return self.objects[kind].update(oid, properties={**record["properties"], **props})

    def archive(self, kind: str, oid: str):
        return self.objects[kind].delete(oid)

    def add_property(self, kind: str, name: str, type_: str = "string") -> None:
        self.properties[kind].append({"name": name, "type": type_, "label": name})

    # -- auth, errors, rate limits -----------------------------------------------------------
    def error_body(self, status: int, message: str):
        category = {429: "RATE_LIMITS", 404: "OBJECT_NOT_FOUND"}.get(status, "VALIDATION_ERROR")
        return {"status": "error", "message": message, "correlationId": "sim", "category": category}

    def check_auth(self, request):
        if request.bearer_token() != TOKEN:
            return Response.json(
                {"status": "error", "category": "INVALID_AUTHENTICATION", "correlationId": "sim",
                 "message": "Authentication credentials not found. This API supports OAuth 2.0 "
                            "authentication and you can find more details at https://developers.hubspot.com"},
                status=401,
            )  # fmt: skip
        return None

    def after_response(self, request, response):
        response.headers.setdefault("X-HubSpot-RateLimit-Daily", "500000")
        response.headers.setdefault("X-HubSpot-RateLimit-Secondly", "19")

    def _object(self, record: dict, archived_at: datetime | None = None) -> dict:
        out = {k: v for k, v in record.items()}
        out["properties"] = dict(record["properties"])
        if archived_at is not None:
            out["archived"], out["archivedAt"] = True, hs_time(archived_at)
        return out

    # -- routes --------------------------------------------------------------------------------
    @route("GET", "/crm/v3/properties/{kind}")
    def list_properties(self, request):
        kind = request.params["kind"]
        if kind not in self.properties:
            raise HttpError(404, self.error_body(404, f"Unable to infer object type from: {kind}"))
        return {"results": [dict(p) for p in self.properties[kind]]}

    @route("POST", "/crm/v3/objects/{kind}/search")
    def search(self, request):
        kind = request.params["kind"]
        body = request.json() or {}
        limit = int(body.get("limit", 10))
        after = int(body.get("after", 0))
        if limit > self.max_search_limit:
            raise HttpError(
                400, self.error_body(400, f"limit must be at most {self.max_search_limit}")
            )
        if after + limit > self.search_cap:
            raise HttpError(
                400,
                self.error_body(
                    400, f"Cannot page past {self.search_cap} results (after={after})."
                ),
            )
        records = self.objects[kind].values()
        for group in body.get("filterGroups") or []:
            for flt in group.get("filters") or []:
                if flt["propertyName"] == "hs_lastmodifieddate" and flt["operator"] == "GTE":
                    bound = int(flt["value"])
                    records = [r for r in records if millis(r["updatedAt"]) >= bound]
        records.sort(key=lambda r: (millis(r["updatedAt"]), int(r["id"])))
        page = records[after : after + limit]
        result = {"total": len(records), "results": [self._object(r) for r in page]}
        if after + limit < len(records):
            result["paging"] = {"next": {"after": str(after + limit)}}
        return result

    @route("GET", "/crm/v3/objects/{kind}")
    def list_objects(self, request):
        kind = request.params["kind"]
        limit = request.int_arg("limit", 10, minimum=1, maximum=100)
        after = request.int_arg("after", 0)
        if request.arg("archived") == "true":
            items = [
                self._object(t.record, t.deleted_at) for t in self.objects[kind].deleted_since()
            ]
        else:
            items = [self._object(r) for r in self.objects[kind].values()]
        page = items[after : after + limit]
        result = {"results": page}
        if after + limit < len(items):
            result["paging"] = {"next": {"after": str(after + limit)}}
        return result
