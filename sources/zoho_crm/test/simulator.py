"""A Zoho CRM v6 simulator on the shared framework: routes plus seeded data.

Models what the connector depends on: the accounts server's refresh-token exchange (HTTP 200 with
an `error` field for a bad refresh token, as Zoho does), `Zoho-oauthtoken` auth with tokens that
expire on the simulated clock, the settings API (modules with api_supported, fields with data
types), records sorted by Modified_Time with If-Modified-Since, page/per_page paging with
info.more_records, 204 for no records, and the deleted-records endpoint.
"""

from __future__ import annotations

from datetime import datetime

from tools.simulator import HttpError, Response, Simulator, TokenIssuer, parse_time, route

CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN = (
    "1000.SIMCLIENT",
    "zoho-simulated-secret",
    "1000.refresh.sim",
)
MODULE_FIELDS = {
    "Leads": [("Last_Name", "text"), ("Company", "text"), ("Email", "email"), ("Annual_Revenue", "currency"),
              ("Lead_Source", "picklist"), ("No_of_Employees", "integer"), ("Owner", "ownerlookup"),
              ("Tag", "multiselectpicklist")],
    "Contacts": [("Last_Name", "text"), ("Email", "email"), ("Date_of_Birth", "date"), ("Email_Opt_Out", "boolean"),
                 ("Account_Name", "lookup")],
    "Accounts": [("Account_Name", "text"), ("Website", "website"), ("Employees", "integer")],
    "Deals": [("Deal_Name", "text"), ("Amount", "currency"), ("Stage", "picklist"), ("Closing_Date", "date")],
}  # fmt: skip
UNSUPPORTED = ["Visits"]


def zoho_time(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S+00:00")


class ZohoSimulator(Simulator):
    service_name = "zoho_crm"
    secret_query_params = Simulator.secret_query_params | {"client_secret", "refresh_token"}

    def __init__(self, seed: int = 0, *, per_module: int = 12, deleted: int = 1, **kwargs):
        self.per_module, self.deleted_per_module = per_module, deleted
        self.per_page_cap = 200  # Zoho's maximum; tests lower it to force pages
        super().__init__(seed, **kwargs)

    def connection_options(self) -> dict[str, str]:
        """The connection options of a connector that reads this simulator."""
        return {
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "refresh_token": REFRESH_TOKEN,
            "accounts_url": self.url,
            "api_url": self.url,
        }

    @staticmethod
    def _stamp(record: dict, when: datetime, event: str) -> None:
        if event == "add":
            record["Created_Time"] = zoho_time(when)
        record["Modified_Time"] = zoho_time(when)

    def seed_data(self) -> None:
        self.tokens = TokenIssuer(self.clock, ttl=3600, prefix="1000.access")
        self.records = {module: self.collection(on_change=self._stamp) for module in MODULE_FIELDS}
        for module in MODULE_FIELDS:
            for _ in range(self.per_module):
                self.add_record(module)
            # Records deleted before the first read: the delete flow has records from the start.
            for _ in range(self.deleted_per_module):
                self.records[module].delete(self.add_record(module)["id"])

    def add_record(self, module: str, **values) -> dict:
        rid = str(self.next_id("record", 5_725_767_000_000_000_001))
        record = {"id": rid}
        for name, kind in MODULE_FIELDS[module]:
            if kind == "integer":
                record[name] = self.rng.randint(1, 500)
            elif kind == "currency":
                record[name] = round(self.rng.uniform(1000, 90000), 2)
            elif kind == "boolean":
                record[name] = self.rng.random() < 0.5
            elif kind == "date":
                record[name] = "1990-02-03"
            elif kind in ("lookup", "ownerlookup"):
                record[name] = {"id": "5725767000000999001", "name": "Owner One"}
            elif kind == "multiselectpicklist":
                record[name] = ["vip"]
            else:
                record[name] = f"{name.lower()}-{rid[-4:]}"
        record.update(values)
        return self.records[module].add(record)

    # -- OAuth, auth and errors --------------------------------------------------------------------
    def error_body(self, status: int, message: str):
        return {"code": "INVALID_REQUEST" if status < 500 else "INTERNAL_ERROR", "details": {},
                "message": message, "status": "error"}  # fmt: skip

    @route("POST", "/oauth/v2/token", auth=False)
    def token(self, request):
        form = {**request.form(), **{k: v[0] for k, v in request.query.items()}}
        if form.get("grant_type") != "refresh_token":
            return {"error": "unsupported_grant_type"}
        if (form.get("client_id"), form.get("client_secret")) != (CLIENT_ID, CLIENT_SECRET):
            return {"error": "invalid_client"}
        if form.get("refresh_token") != REFRESH_TOKEN:
            return {"error": "invalid_code"}
        return self.tokens.issue(api_domain="https://www.zohoapis.com")

    def check_auth(self, request):
        if not self.tokens.is_valid(request.bearer_token(schemes=("zoho-oauthtoken",))):
            return Response.json(
                {
                    "code": "INVALID_TOKEN",
                    "details": {},
                    "message": "invalid oauth token",
                    "status": "error",
                },
                status=401,
            )
        return None

    # -- settings --------------------------------------------------------------------------------
    @route("GET", "/crm/v6/settings/modules")
    def modules(self, request):
        listed = [
            {"api_name": m, "api_supported": True, "generated_type": "default"}
            for m in MODULE_FIELDS
        ]
        listed += [
            {"api_name": m, "api_supported": False, "generated_type": "default"}
            for m in UNSUPPORTED
        ]
        return {"modules": listed}

    @route("GET", "/crm/v6/settings/fields")
    def fields(self, request):
        module = request.arg("module")
        if module not in MODULE_FIELDS:
            raise HttpError(400, self.error_body(400, "the module name given seems to be invalid"))
        fields = [{"api_name": n, "data_type": t} for n, t in MODULE_FIELDS[module]]
        fields += [{"api_name": "Modified_Time", "data_type": "datetime"},
                   {"api_name": "Created_Time", "data_type": "datetime"}]  # fmt: skip
        return {"fields": fields}

    # -- records ---------------------------------------------------------------------------------
    def _page(self, request, items: list[dict]):
        page = request.int_arg("page", 1, minimum=1)
        per_page = min(request.int_arg("per_page", 200, minimum=1), self.per_page_cap)
        chunk = items[(page - 1) * per_page : page * per_page]
        if not chunk:
            return Response.empty(204)
        more = page * per_page < len(items)
        return {"data": chunk, "info": {"page": page, "per_page": per_page, "count": len(chunk),
                                        "more_records": more}}  # fmt: skip

    @route("GET", "/crm/v6/{module}/deleted")
    def deleted(self, request):
        module = request.params["module"]
        tombs = self.records[module].deleted_since()
        items = [{"id": t.key, "deleted_time": zoho_time(t.deleted_at), "type": "recycle",
                  "display_name": t.record.get("Last_Name") or t.key} for t in tombs]  # fmt: skip
        return self._page(request, items)

    @route("GET", "/crm/v6/{module}")
    def list_records(self, request):
        module = request.params["module"]
        if module not in self.records:
            raise HttpError(400, self.error_body(400, "the module name given seems to be invalid"))
        items = self.records[module].values()
        since = request.header("If-Modified-Since")
        if since:
            bound = parse_time(since)
            items = [r for r in items if parse_time(r["Modified_Time"]) >= bound]
        items = sorted(items, key=lambda r: (r["Modified_Time"], r["id"]))
        fields = (request.arg("fields") or "").split(",")
        shaped = [{k: v for k, v in r.items() if k in fields or k == "id"} for r in items]
        return self._page(request, shaped)
