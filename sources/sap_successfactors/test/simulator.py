"""An SAP SuccessFactors OData v2 simulator on the shared framework: routes plus seeded data.

Models what the connector depends on: `$format=json` answers wrapped in `{"d": {"results": …}}`,
`/Date(ms)/` and `/Date(ms+0000)/` values, `$filter` on lastModifiedDateTime with `gt`/`le`
`datetimeoffset'…'`, `$orderby`, server-side paging with a `__next` link carrying `$skiptoken`,
basic auth `user@company:key` and SuccessFactors' error bodies.
"""

from __future__ import annotations

import re
from datetime import datetime

from tools.simulator import (
    HttpError,
    Response,
    Simulator,
    decode_cursor,
    encode_cursor,
    parse_time,
    route,
)

COMPANY, USERNAME, API_KEY = "ACME01", "apiuser", "sf-simulated-key"
FILTER = re.compile(r"lastModifiedDateTime (gt|le) datetimeoffset'([^']+)'")


def odata_date(when: datetime, offset: bool = False) -> str:
    millis = int(when.timestamp() * 1000)
    return f"/Date({millis}+0000)/" if offset else f"/Date({millis})/"


class SuccessFactorsSimulator(Simulator):
    service_name = "sap_successfactors"

    def __init__(self, seed: int = 0, *, users: int = 20, **kwargs):
        self.user_count = users
        self.page_size = 1000  # SuccessFactors' server-side page; tests lower it
        super().__init__(seed, **kwargs)

    def connection_options(self) -> dict[str, str]:
        """The connection options of a connector that reads this simulator."""
        return {
            "api_url": self.url,
            "company_id": COMPANY,
            "username": USERNAME,
            "api_key": API_KEY,
        }

    @staticmethod
    def _stamp(record: dict, when: datetime, event: str) -> None:
        record["_modified"] = when
        record["lastModifiedDateTime"] = odata_date(when, offset=record.get("_offset_style", False))

    def seed_data(self) -> None:
        self.entities = {
            "User": self.collection(key="userId", on_change=self._stamp),
            "EmpJob": self.collection(key="_key", on_change=self._stamp),
            "PerPerson": self.collection(key="personIdExternal", on_change=self._stamp),
        }
        for _ in range(self.user_count):
            self.add_user()

    def add_user(self) -> dict:
        number = self.next_id("user", 1000)
        uid = f"u{number}"
        hired = parse_time(f"20{10 + number % 14}-0{1 + number % 9}-15T00:00:00Z")
        user = {"userId": uid, "username": f"user{number}", "firstName": f"First{number}",
                "lastName": f"Last{number}", "email": f"user{number}@acme.example",
                "status": "active", "department": self.rng.choice(["Sales", "R&D", "HR"]),
                "hireDate": odata_date(hired), "_offset_style": number % 2 == 0}  # fmt: skip
        self.entities["User"].add(user)
        self.entities["PerPerson"].add(
            {
                "personIdExternal": uid,
                "dateOfBirth": odata_date(parse_time("1990-05-05T00:00:00Z")),
                "countryOfBirth": self.rng.choice(["DEU", "USA", "IND"]),
            }  # fmt: skip
        )
        self.add_job(uid, hired, "Engineer")
        return user

    def add_job(self, uid: str, start: datetime, title: str) -> dict:
        seq = self.next_id(f"seq-{uid}", 1)
        return self.entities["EmpJob"].add(
            {
                "_key": f"{uid}/{seq}",
                "userId": uid,
                "startDate": odata_date(start),
                "seqNumber": str(seq),
                "jobTitle": title,
                "company": "ACME",
                "location": "Walldorf",
                "isFulltimeEmployee": True,
            }  # fmt: skip
        )

    # -- auth and errors -------------------------------------------------------------------------
    def error_body(self, status: int, message: str):
        return {"error": {"code": str(status), "message": {"lang": "en-US", "value": message}}}

    def check_auth(self, request):
        if request.basic_auth() != (f"{USERNAME}@{COMPANY}", API_KEY):
            return Response.json(
                self.error_body(401, "Unauthorized: invalid credentials"), status=401
            )
        return None

    # -- OData -----------------------------------------------------------------------------------
    @route("GET", "/odata/v2/{entity}")
    def entity_set(self, request):
        entity = request.params["entity"]
        if entity not in self.entities:
            raise HttpError(404, self.error_body(404, f"Entity set {entity} not found"))
        if request.arg("$format") != "json":
            raise HttpError(400, self.error_body(400, "this simulator answers $format=json only"))
        token = request.arg("$skiptoken")
        if token:
            state = decode_cursor(token)
            query, position = state["q"], state["p"]
        else:
            query, position = {"filter": request.arg("$filter") or ""}, 0
        records = sorted(
            self.entities[entity].values(), key=lambda r: (r["_modified"], str(r.get("userId")))
        )
        for op, value in FILTER.findall(query["filter"]):
            bound = parse_time(value)
            records = [
                r
                for r in records
                if (r["_modified"] > bound if op == "gt" else r["_modified"] <= bound)
            ]
        page = records[position : position + self.page_size]
        result = {"results": [self._odata(entity, r) for r in page]}
        if position + self.page_size < len(records):
            skiptoken = encode_cursor({"q": query, "p": position + self.page_size})
            result["__next"] = (
                f"{request.url_with()}".split("?")[0] + f"?$format=json&$skiptoken={skiptoken}"
            )
        return {"d": result}

    @staticmethod
    def _odata(entity: str, record: dict) -> dict:
        item = {k: v for k, v in record.items() if not k.startswith("_")}
        item["__metadata"] = {
            "type": f"SFOData.{entity}",
            "uri": f"{entity}('{record.get('userId')}')",
        }
        return item
