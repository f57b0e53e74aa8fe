"""The simulator framework, exercised over real HTTP on loopback."""

from __future__ import annotations

import base64

import pytest
import requests

from tools.simulator import (
    HttpError,
    Response,
    SimClock,
    Simulator,
    TokenIssuer,
    decode_cursor,
    encode_cursor,
    link_header,
    paginate,
    parse_time,
    route,
)


class PetsSimulator(Simulator):
    service_name = "pets"

    def seed_data(self):
        self.pets = self.collection(on_change=self._stamp)
        self.clock.set("2024-03-01T00:00:00Z")
        for _ in range(7):
            pet_id = self.next_id("pet")
            name = self.rng.choice(["rex", "tom", "kit", "bo", "max"]) + str(pet_id)
            self.pets.add({"id": pet_id, "name": name})

    @staticmethod
    def _stamp(record, when, event):
        record["updated_at"] = when.strftime("%Y-%m-%dT%H:%M:%SZ")

    def check_auth(self, request):
        if request.bearer_token() == "good" or request.basic_auth() == ("me", "pw"):
            return None
        return Response.json({"message": "Bad credentials"}, status=401)

    def error_body(self, status, message):
        return {"message": message, "status": str(status)}

    def after_response(self, request, response):
        response.headers["X-Sim"] = "1"

    @route("GET", "/pets")
    def list_pets(self, request):
        per_page = request.int_arg("per_page", 3, minimum=1, maximum=5)
        page = request.int_arg("page", 1, minimum=1)
        items = self.pets.changed_since(request.arg("since"))
        chunk, more = paginate(items, page, per_page)
        headers = {"Link": link_header({"next": request.url_with(page=page + 1) if more else None})}
        return Response.json(chunk, headers=headers)

    @route("GET", "/pets/{pet_id}")
    def get_pet(self, request):
        pet_id = int(request.params["pet_id"])
        if pet_id not in self.pets:
            raise HttpError(404, self.error_body(404, "Not Found"))
        return self.pets.get(pet_id)

    @route("GET", "/pets/search")
    def search(self, request):
        return {"literal": True}

    @route("POST", "/pets")
    def create(self, request):
        body = request.json()
        pet = self.pets.add({"id": self.next_id("pet"), "name": body["name"]})
        return Response.json(pet, status=201)

    @route("POST", "/oauth/token", auth=False)
    def token(self, request):
        return {"form": request.form()}

    @route("GET", "/files/{rest:path}")
    def files(self, request):
        return {"rest": request.params["rest"]}

    @route("GET", "/boom")
    def boom(self, request):
        raise RuntimeError("bug in a handler")


AUTH = {"Authorization": "Bearer good"}


@pytest.fixture
def sim():
    with PetsSimulator(seed=3) as running:
        yield running


def test_routes_params_query_and_paging(sim):
    first = requests.get(f"{sim.url}/pets", params={"per_page": 3}, headers=AUTH, timeout=5)
    assert first.status_code == 200
    assert [p["id"] for p in first.json()] == [1, 2, 3]
    assert first.headers["X-Sim"] == "1"
    ids = []
    url = f"{sim.url}/pets?per_page=3"
    while url:
        page = requests.get(url, headers=AUTH, timeout=5)
        ids += [p["id"] for p in page.json()]
        url = page.links.get("next", {}).get("url")
    assert ids == list(range(1, 8))
    assert [r.arg("page") for r in sim.requests_to("/pets")][-3:] == [None, "2", "3"]
    pet = requests.get(f"{sim.url}/pets/5", headers=AUTH, timeout=5).json()
    assert pet["id"] == 5


def test_literal_route_wins_and_path_params(sim):
    assert requests.get(f"{sim.url}/pets/search", headers=AUTH, timeout=5).json() == {
        "literal": True
    }
    got = requests.get(f"{sim.url}/files/a/b/c.txt", headers=AUTH, timeout=5).json()
    assert got == {"rest": "a/b/c.txt"}


def test_not_found_method_not_allowed_and_handler_errors(sim):
    missing = requests.get(f"{sim.url}/nothing", headers=AUTH, timeout=5)
    assert missing.status_code == 404
    assert missing.json() == {"message": "Not Found", "status": "404"}
    assert requests.delete(f"{sim.url}/pets", headers=AUTH, timeout=5).status_code == 405
    assert requests.get(f"{sim.url}/pets/999", headers=AUTH, timeout=5).status_code == 404
    assert requests.get(f"{sim.url}/boom", headers=AUTH, timeout=5).status_code == 500


def test_json_body_and_form_body(sim):
    created = requests.post(f"{sim.url}/pets", json={"name": "new"}, headers=AUTH, timeout=5)
    assert created.status_code == 201
    assert sim.pets.get(created.json()["id"])["name"] == "new"
    bad = requests.post(f"{sim.url}/pets", data=b"{not json", headers=AUTH, timeout=5)
    assert bad.status_code == 400
    token = requests.post(
        f"{sim.url}/oauth/token", data={"grant_type": "client_credentials"}, timeout=5
    )
    assert token.json() == {"form": {"grant_type": "client_credentials"}}


def test_auth_checking_bearer_and_basic(sim):
    no_auth = requests.get(f"{sim.url}/pets", timeout=5)
    assert no_auth.status_code == 401
    assert no_auth.json() == {"message": "Bad credentials"}
    wrong = requests.get(f"{sim.url}/pets", headers={"Authorization": "Bearer bad"}, timeout=5)
    assert wrong.status_code == 401
    assert requests.get(f"{sim.url}/pets", auth=("me", "pw"), timeout=5).status_code == 200
    assert requests.get(f"{sim.url}/pets", auth=("me", "no"), timeout=5).status_code == 401
    garbage = {"Authorization": "Basic " + base64.b64encode(b"nocolon").decode()}
    assert requests.get(f"{sim.url}/pets", headers=garbage, timeout=5).status_code == 401


def test_fail_next_counts_headers_and_path_filter(sim):
    sim.fail_next(status=429, retry_after=2, times=2, headers={"X-RateLimit-Remaining": "0"})
    statuses = []
    for _ in range(3):
        resp = requests.get(f"{sim.url}/pets", headers=AUTH, timeout=5)
        statuses.append(resp.status_code)
        if resp.status_code == 429:
            assert resp.headers["Retry-After"] == "2"
            assert resp.headers["X-RateLimit-Remaining"] == "0"
            assert resp.json() == {"message": "Too Many Requests", "status": "429"}
    assert statuses == [429, 429, 200]
    assert [r.status for r in sim.log] == [429, 429, 200]

    sim.fail_next(status=503, path="/pets/")
    assert requests.get(f"{sim.url}/pets", headers=AUTH, timeout=5).status_code == 200
    assert sim.pending_faults() == 1
    assert requests.get(f"{sim.url}/pets/1", headers=AUTH, timeout=5).status_code == 503
    assert sim.pending_faults() == 0


def test_log_has_paths_and_query_but_no_secrets(sim):
    requests.get(
        f"{sim.url}/pets",
        params={"since": "2024-01-01T00:00:00Z", "api_key": "s3cret"},
        headers=AUTH,
        timeout=5,
    )
    entry = sim.log[-1]
    assert entry.method == "GET" and entry.path == "/pets"
    assert entry.arg("since") == "2024-01-01T00:00:00Z"
    assert entry.query["api_key"] == ["***"]
    assert "s3cret" not in repr(sim.log) and "good" not in repr(sim.log)
    sim.clear_log()
    assert sim.log == []


def test_mutations_between_reads_and_since(sim):
    before = sim.clock.now()
    sim.pets.update(2, name="renamed")
    sim.pets.add({"id": sim.next_id("pet"), "name": "late"})
    tomb = sim.pets.delete(3)
    since = before.strftime("%Y-%m-%dT%H:%M:%SZ")
    changed = requests.get(f"{sim.url}/pets", params={"since": since}, headers=AUTH, timeout=5)
    # `since` is inclusive: pet 7 was seeded at exactly `before`; 2 and 8 changed after it.
    assert [p["id"] for p in changed.json()] == [7, 2, 8]
    assert sim.pets.get(2)["name"] == "renamed"
    assert 3 not in sim.pets
    assert [t.key for t in sim.pets.deleted_since(before)] == [3]
    assert tomb.deleted_at > sim.pets.modified_at(8) > sim.pets.modified_at(2)


def test_seeded_data_is_deterministic():
    assert PetsSimulator(seed=1).pets.values() == PetsSimulator(seed=1).pets.values()
    names = {tuple(p["name"] for p in PetsSimulator(seed=s).pets.values()) for s in range(5)}
    assert len(names) > 1


def test_clock_is_controlled_by_tests():
    clock = SimClock("2024-01-01T00:00:00Z", step=2)
    assert clock.tick() == parse_time("2024-01-01T00:00:02Z")
    clock.sleep(10)
    clock.advance(minutes=1)
    assert clock.now() == parse_time("2024-01-01T00:01:12+00:00")
    assert clock.time() == parse_time("2024-01-01T00:01:12Z").timestamp()
    with pytest.raises(ValueError):
        clock.advance(-1)


def test_collection_rejects_duplicates_and_missing_keys(sim):
    with pytest.raises(KeyError):
        sim.pets.add({"id": 1, "name": "dup"})
    with pytest.raises(KeyError):
        sim.pets.add({"name": "no id"})


def test_server_stops_on_exit():
    with PetsSimulator() as sim:
        url = sim.url
        assert requests.get(f"{url}/pets", headers=AUTH, timeout=5).ok
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{url}/pets", headers=AUTH, timeout=5)
    with pytest.raises(RuntimeError):
        _ = sim.url


def test_opaque_cursors_round_trip_and_reject_tampering():
    cursor = encode_cursor({"after": 10, "since": "2024-01-01"})
    assert decode_cursor(cursor) == {"after": 10, "since": "2024-01-01"}
    with pytest.raises(HttpError) as info:
        decode_cursor("not-a-cursor!")
    assert info.value.status == 400


def test_token_issuer_expires_on_the_simulated_clock():
    clock = SimClock()
    issuer = TokenIssuer(clock, ttl=60)
    body = issuer.issue(scope="read")
    assert body["token_type"] == "Bearer" and body["expires_in"] == 60 and body["scope"] == "read"
    token = body["access_token"]
    assert issuer.is_valid(token) and not issuer.is_valid("forged") and not issuer.is_valid(None)
    clock.advance(59)
    assert issuer.is_valid(token)
    clock.advance(1)
    assert not issuer.is_valid(token)
    fresh = issuer.issue()["access_token"]
    assert fresh != token and issuer.issued == 2
    issuer.expire_all()
    assert not issuer.is_valid(fresh)
