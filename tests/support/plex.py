"""A stand-in for Plex Media Server on 127.0.0.1: the paths plexapi uses to find library sections
and to ask for a partial scan (`/library/sections/<key>/refresh?path=...`)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from xml.sax.saxutils import quoteattr

from tests.support.http import FakeHttpServer, Reply, Request, Responder, fake_http_server

PLEX_TOKEN = "plex-test-token-123"
XML = {"Content-Type": "text/xml;charset=utf-8"}


@dataclass
class FakePlex:
    server: FakeHttpServer
    sections: dict[str, tuple[str, str, list[str]]]  # key -> (type, title, locations)

    @property
    def url(self) -> str:
        return self.server.url

    def scans(self) -> list[tuple[str, str | None]]:
        """(section key, path) of every refresh request, in order."""
        return [
            (request.path.split("/")[3], request.param("path"))
            for request in self.server.requests
            if request.path.endswith("/refresh")
        ]

    def _authorized(self, request: Request) -> bool:
        return request.headers.get("x-plex-token") == PLEX_TOKEN

    def _sections_xml(self) -> str:
        directories = "".join(
            f"<Directory key={quoteattr(key)} type={quoteattr(kind)} title={quoteattr(title)} "
            f'agent="tv.plex.agents.movie" scanner="Plex Movie" language="en-US" '
            f'uuid="uuid-{key}" updatedAt="1700000000" createdAt="1700000000">'
            + "".join(
                f"<Location id={quoteattr(key + str(n))} path={quoteattr(p)} />"
                for n, p in enumerate(locations)
            )
            + "</Directory>"
            for key, (kind, title, locations) in self.sections.items()
        )
        return f'<MediaContainer size="{len(self.sections)}">{directories}</MediaContainer>'

    def install(self) -> None:
        def guarded(body: str) -> Responder:
            def respond(request: Request) -> Reply:
                if not self._authorized(request):
                    return Reply(401, "<html>Unauthorized</html>")
                return Reply(200, body, XML)

            return respond

        root = (
            '<MediaContainer size="0" friendlyName="stand-in" machineIdentifier="standin1" '
            'version="1.40.0.0" platform="Linux" myPlex="0" />'
        )
        library = '<MediaContainer size="0" identifier="com.plexapp.plugins.library" />'
        self.server.route("GET", "/", guarded(root))
        self.server.route("GET", "/library", guarded(library))
        self.server.route("GET", "/library/sections", guarded(self._sections_xml()))
        for key in self.sections:
            self.server.route("GET", f"/library/sections/{key}/refresh", guarded(""))


@contextmanager
def fake_plex(sections: dict[str, tuple[str, str, list[str]]]) -> Iterator[FakePlex]:
    with fake_http_server() as server:
        plex = FakePlex(server, sections)
        plex.install()
        yield plex
