"""A TCP proxy on 127.0.0.1 in front of the test PostgreSQL that can go silent mid-run.

Silent means what a hung server or a black-holed route looks like from the client: the TCP
connection stays open (the proxy's kernel even acknowledges what the client sends, so keepalives
are answered too) but nothing is forwarded any more, either way, and no answer ever comes.
"""

from __future__ import annotations

import contextlib
import select
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from dagstributor_shared.postgres import ConnectionSettings

LOOPBACK = "127.0.0.1"


class SilentProxy:
    def __init__(self, settings: ConnectionSettings) -> None:
        self._settings = settings
        self._listener = socket.create_server((LOOPBACK, 0))
        self.port: int = self._listener.getsockname()[1]
        self.silent = threading.Event()
        self._closed = threading.Event()
        self._sockets: list[socket.socket] = [self._listener]
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, name="proxy-accept", daemon=True).start()

    def _upstream(self) -> socket.socket:
        s = self._settings
        if s.host.startswith("/"):  # the embedded server's Unix socket folder
            upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            upstream.connect(str(Path(s.host) / f".s.PGSQL.{s.port}"))
            return upstream
        return socket.create_connection((s.host, s.port), timeout=10)

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            upstream = self._upstream()
            upstream.settimeout(None)
            with self._lock:
                self._sockets += [client, upstream]
            threading.Thread(
                target=self._pump, args=(client, upstream), name="proxy-pump", daemon=True
            ).start()

    def _pump(self, client: socket.socket, upstream: socket.socket) -> None:
        peers = {client: upstream, upstream: client}
        while not self._closed.is_set():
            if self.silent.is_set():
                self._closed.wait(0.05)  # hold both connections open, forward nothing
                continue
            try:
                readable, _, _ = select.select(list(peers), [], [], 0.05)
                for source in readable:
                    if self.silent.is_set():
                        break
                    data = source.recv(65536)
                    if not data:
                        return
                    peers[source].sendall(data)
            except OSError:
                return

    def go_silent(self) -> None:
        self.silent.set()

    def close(self) -> None:
        self._closed.set()
        with self._lock:
            for s in self._sockets:
                with contextlib.suppress(OSError):
                    s.close()


@contextmanager
def silent_proxy(settings: ConnectionSettings) -> Iterator[SilentProxy]:
    proxy = SilentProxy(settings)
    try:
        yield proxy
    finally:
        proxy.close()
