"""A local postcodes.io: GET /postcodes/<postcode> answers like https://api.postcodes.io does.

Known postcodes answer 200 with `result.parliamentary_constituency` and
`result.codes.parliamentary_constituency`; others 404 {"error": "Postcode not found"}. The shared
FakeServer script can make the next lookups fail (`error(500)`), stall past the client's timeout
(`sleep(s)`) or, with `garbage()`, answer 200 with a body that is not JSON.
"""
from __future__ import annotations

from urllib.parse import unquote

from . import Behaviour, FakeServer, Received, json_answer


def garbage() -> Behaviour:
    """Answer 200 with an HTML page instead of JSON (a captive portal, a misconfigured proxy)."""
    return Behaviour("garbage")


def _compact(postcode: str) -> str:
    return "".join(postcode.split()).upper()


class FakePostcodesIo(FakeServer):
    name = "postcodes-io"

    def __init__(self, postcodes: dict[str, tuple[str, str]] | None = None):
        super().__init__()
        # compact postcode → (constituency code, constituency name)
        self.postcodes = {_compact(pc): answer for pc, answer in (postcodes or {}).items()}

    def add(self, postcode: str, code: str, name: str) -> "FakePostcodesIo":
        self.postcodes[_compact(postcode)] = (code, name)
        return self

    @property
    def lookups(self) -> list[str]:
        """The postcodes asked for, as they appeared in the path."""
        return [unquote(r.path[len("/postcodes/"):]) for r in self.received if r.path.startswith("/postcodes/")]

    def _error(self, behaviour: Behaviour):
        return json_answer(behaviour.status, {"status": behaviour.status,
                                              "error": behaviour.message or "Internal server error"})

    def _respond(self, received: Received):
        self._record(received)
        if received.method != "GET" or not received.path.startswith("/postcodes/"):
            return json_answer(404, {"status": 404, "error": "Resource not found"})
        asked = unquote(received.path[len("/postcodes/"):])
        behaviour = self._next_behaviour()
        if behaviour.kind == "garbage":
            return 200, {"Content-Type": "text/html"}, b"<html><body>Sign in to the Wi-Fi</body></html>"
        return self._apply(behaviour, lambda: self._answer(asked))

    def _answer(self, asked: str):
        found = self.postcodes.get(_compact(asked))
        if found is None:
            return json_answer(404, {"status": 404, "error": "Postcode not found"})
        code, name = found
        compact = _compact(asked)
        canonical = f"{compact[:-3]} {compact[-3:]}"
        return json_answer(200, {"status": 200, "result": {
            "postcode": canonical,
            "country": "England",
            "parliamentary_constituency": name,
            "parliamentary_constituency_2024": name,
            "codes": {"parliamentary_constituency": code, "parliamentary_constituency_2024": code},
        }})
