"""A small HTTP server on 127.0.0.1 standing in for an internet service (feeds, TMDB, OMDb, ...).

Routes answer with fixed replies, a queue of replies (e.g. 500 then 200), or a function of the
request; every request is recorded so tests can count calls and inspect what was sent.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self, TypeVar
from urllib.parse import parse_qs, urlsplit


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body or b"null")

    def param(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: bytes | str | dict[str, Any] | list[Any] = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0  # sleep before answering: longer than the client's timeout = a timeout
    # A server that trickles: the body goes `trickle_bytes` at a time, `trickle_s` apart (each
    # read is quick, the whole answer is not).
    trickle_s: float = 0.0
    trickle_bytes: int = 1
    send_length: bool = True  # False: no Content-Length, the body ends when the connection does
    trickle_headers: bool = False  # with trickle_s: the status line and headers trickle too

    def encoded(self) -> tuple[bytes, dict[str, str]]:
        headers = dict(self.headers)
        if isinstance(self.body, dict | list):
            headers.setdefault("Content-Type", "application/json")
            return json.dumps(self.body).encode(), headers
        if isinstance(self.body, str):
            return self.body.encode(), headers
        return self.body, headers


Responder = Callable[[Request], Reply]


class LocalHttpServer:
    """A threading HTTP server on 127.0.0.1 (a free port) served from a daemon thread; a
    subclass gives the request handler."""

    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


S = TypeVar("S", bound=LocalHttpServer)


@contextmanager
def serving(server: S) -> Iterator[S]:
    """Start `server`, yield it, stop it."""
    server.start()
    try:
        yield server
    finally:
        server.stop()


class FakeHttpServer(LocalHttpServer):
    def __init__(self) -> None:
        self._routes: dict[tuple[str, str], Responder] = {}
        self._queues: dict[tuple[str, str], deque[Reply]] = {}
        self._hooks: dict[tuple[str, str], Callable[[Request], None]] = {}
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        super().__init__(self._handler_class())

    def route(self, method: str, path: str, reply: Reply | Responder) -> None:
        """Answer every request to `path` with `reply` (or what the function returns)."""
        responder: Responder = reply if callable(reply) else (lambda _request: reply)
        self._routes[(method.upper(), path)] = responder

    def queue(self, method: str, path: str, *replies: Reply) -> None:
        """Answer successive requests with these replies; the last one repeats."""
        self._queues[(method.upper(), path)] = deque(replies)

    def before(self, method: str, path: str, action: Callable[[Request], None]) -> None:
        """Run `action` when a request to `path` arrives, before it is answered (something that
        happens while the client waits, e.g. a database going away)."""
        self._hooks[(method.upper(), path)] = action

    def calls(self, path: str | None = None, method: str | None = None) -> list[Request]:
        with self._lock:
            return [
                r
                for r in self.requests
                if (path is None or r.path == path) and (method is None or r.method == method)
            ]

    def _respond(self, request: Request) -> Reply:
        key = (request.method, request.path)
        with self._lock:
            self.requests.append(request)
            hook = self._hooks.get(key)
        if hook is not None:
            hook(request)
        with self._lock:
            queued = self._queues.get(key)
            if queued:
                return queued.popleft() if len(queued) > 1 else queued[0]
        responder = self._routes.get(key)
        if responder is None:
            return Reply(404, {"error": f"no route for {request.method} {request.path}"})
        return responder(request)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                request = Request(
                    method=self.command,
                    path=parts.path,
                    query=parse_qs(parts.query),
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=self.rfile.read(length) if length else b"",
                )
                reply = fake._respond(request)
                if reply.delay_s:
                    time.sleep(reply.delay_s)
                body, headers = reply.encoded()
                if reply.trickle_headers:
                    self._trickle_all(reply, body, headers)
                    return
                try:
                    self.send_response(reply.status)
                    for name, value in headers.items():
                        self.send_header(name, value)
                    if reply.send_length:
                        self.send_header("Content-Length", str(len(body)))
                    else:
                        self.send_header("Connection", "close")
                    self.end_headers()
                    if not reply.trickle_s:
                        self.wfile.write(body)
                    for start in range(0, len(body) if reply.trickle_s else 0, reply.trickle_bytes):
                        self.wfile.write(body[start : start + reply.trickle_bytes])
                        self.wfile.flush()
                        time.sleep(reply.trickle_s)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test); nothing to answer

            def _trickle_all(self, reply: Reply, body: bytes, headers: dict[str, str]) -> None:
                head = f"HTTP/1.1 {reply.status} Whatever\r\n"
                head += "".join(f"{name}: {value}\r\n" for name, value in headers.items())
                head += f"Content-Length: {len(body)}\r\n\r\n"
                raw = head.encode() + body
                try:
                    for start in range(0, len(raw), reply.trickle_bytes):
                        self.wfile.write(raw[start : start + reply.trickle_bytes])
                        self.wfile.flush()
                        time.sleep(reply.trickle_s)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up, as it should
                self.close_connection = True

            do_GET = do_POST = do_PUT = do_DELETE = _handle

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler


def fake_http_server() -> AbstractContextManager[FakeHttpServer]:
    return serving(FakeHttpServer())


class Sleeps:
    """A recording stand-in for `time.sleep`, injected into clients: retries pause without
    waiting, and a test reads which pauses a client asked for."""

    def __init__(self) -> None:
        self.pauses: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.pauses.append(seconds)
