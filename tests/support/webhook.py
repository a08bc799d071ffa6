"""A JSON webhook on 127.0.0.1 that records what Apprise's `json://` target posts to it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from tests.support.http import FakeHttpServer, Reply, fake_http_server

WEBHOOK_PATH = "/notify"


@dataclass
class Webhook:
    server: FakeHttpServer

    @property
    def apprise_url(self) -> str:
        """The Apprise URL that posts JSON here (short timeouts: tests wait for it)."""
        return f"json://127.0.0.1:{self.server.port}{WEBHOOK_PATH}?cto=2&rto=5"

    def messages(self) -> list[dict[str, Any]]:
        """Every JSON document posted so far ({"title", "message", "type", ...})."""
        return [request.json() for request in self.server.calls(WEBHOOK_PATH, "POST")]

    def texts(self) -> list[str]:
        """Each message as `title\\nmessage`, for assertions on what a reader sees."""
        return [f"{m.get('title', '')}\n{m.get('message', '')}" for m in self.messages()]


@contextmanager
def json_webhook() -> Iterator[Webhook]:
    with fake_http_server() as server:
        server.route("POST", WEBHOOK_PATH, Reply(200, {"ok": True}))
        yield Webhook(server)
