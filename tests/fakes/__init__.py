"""Local HTTP servers that answer like the providers' APIs, so the real SDKs can be driven in tests.

Each fake is a real HTTP/1.1 server on 127.0.0.1 (a thread per connection, keep-alive like the
real APIs) that records every request it receives and can be told, request by request, to accept,
answer with an error, stall longer than the client's timeout, or hold a request until released.
"""
from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


@dataclass
class Received:
    """One request as the fake saw it."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    form: dict[str, str] = field(default_factory=dict)
    json: object = None


@dataclass
class Behaviour:
    """What the fake does with the next request it would otherwise accept."""

    kind: str  # "accept", "error", "sleep", "hold"
    status: int = 0
    code: int | None = None
    message: str = ""
    seconds: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)


def accept() -> Behaviour:
    return Behaviour("accept")


def error(status: int, code: int | None = None, message: str = "", headers: dict | None = None) -> Behaviour:
    """Answer with this HTTP status (and provider error code), as the provider would."""
    return Behaviour("error", status=status, code=code, message=message, headers=dict(headers or {}))


def sleep(seconds: float) -> Behaviour:
    """Take longer than the client waits, then answer as if accepted (the client has given up)."""
    return Behaviour("sleep", seconds=seconds)


def hold() -> Behaviour:
    """Accept the message, then keep the answer back until release() (a worker killed meanwhile)."""
    return Behaviour("hold")


class FakeServer:
    """The shared machinery: a threaded HTTP server, a script of behaviours and a request log."""

    name = "fake"

    def __init__(self):
        self._lock = threading.Lock()
        self._received: list[Received] = []
        self._script: deque[Behaviour] = deque()
        self._default = accept()
        self._release = threading.Event()
        self._held = threading.Event()
        self._arrived = threading.Condition(self._lock)
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in two writes: without TCP_NODELAY, Nagle's algorithm and the
            # client's delayed ACK add 40 ms to every answer on a kept-alive connection.
            disable_nagle_algorithm = True

            def log_message(self, *args):  # quiet: the test output is for the tests
                pass

            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
                received = Received(method=self.command, path=parts.path, query=query,
                                    headers={k.lower(): v for k, v in self.headers.items()}, body=body)
                content_type = received.headers.get("content-type", "")
                if "application/x-www-form-urlencoded" in content_type:
                    received.form = {k: v[-1] for k, v in parse_qs(body.decode(), keep_blank_values=True).items()}
                elif "json" in content_type and body:
                    try:
                        received.json = json.loads(body)
                    except ValueError:
                        received.json = None
                status, headers, payload = fake._respond(received)
                try:
                    self.send_response(status)
                    for key, value in headers.items():
                        self.send_header(key, value)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:
                    pass  # the client gave up (timeout) or was killed: nothing to answer

            do_GET = do_POST = do_PUT = do_DELETE = _handle

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> "FakeServer":
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"{self.name}-fake", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._release.set()
        self._server.shutdown()
        self._server.server_close()

    # -- controls ----------------------------------------------------------------------------

    def then(self, *behaviours: Behaviour) -> "FakeServer":
        """Use these behaviours, in order, for the next requests that would send a message."""
        with self._lock:
            self._script.extend(behaviours)
        return self

    def always(self, behaviour: Behaviour) -> "FakeServer":
        """Use this behaviour once the script is used up (accept, unless told otherwise)."""
        with self._lock:
            self._default = behaviour
        return self

    def release(self) -> None:
        """Let held requests answer."""
        self._release.set()

    def wait_until_held(self, timeout: float = 30) -> bool:
        """Block until a request is being held."""
        return self._held.wait(timeout)

    def wait_for(self, count: int, timeout: float = 30, path_part: str = "") -> bool:
        """Block until at least `count` requests (whose path contains `path_part`) have arrived."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while len([r for r in self._received if path_part in r.path]) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._arrived.wait(remaining)
        return True

    @property
    def received(self) -> list[Received]:
        with self._lock:
            return list(self._received)

    # -- internals -------------------------------------------------------------------------

    def _record(self, received: Received) -> None:
        with self._arrived:
            self._received.append(received)
            self._arrived.notify_all()

    def _next_behaviour(self) -> Behaviour:
        with self._lock:
            return self._script.popleft() if self._script else self._default

    def _apply(self, behaviour: Behaviour, accepted) -> tuple[int, dict, bytes]:
        """Run a send's behaviour; `accepted` stores the message and returns the success answer."""
        if behaviour.kind == "error":
            status, headers, payload = self._error(behaviour)
            return status, {**headers, **behaviour.headers}, payload
        if behaviour.kind == "sleep":
            answer = accepted()
            time.sleep(behaviour.seconds)
            return answer
        if behaviour.kind == "hold":
            answer = accepted()
            self._held.set()
            self._release.wait(300)
            return answer
        return accepted()

    def _error(self, behaviour: Behaviour) -> tuple[int, dict, bytes]:
        raise NotImplementedError

    def _respond(self, received: Received) -> tuple[int, dict, bytes]:
        raise NotImplementedError


def json_answer(status: int, payload, headers: dict | None = None) -> tuple[int, dict, bytes]:
    return status, {"Content-Type": "application/json", **(headers or {})}, json.dumps(payload).encode()
