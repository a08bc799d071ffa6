"""Threads that keep committing rows into atp.media, and remember exactly which ones committed.

`RowWriter` inserts one row every `interval` seconds, each in its own transaction, and records a
row's hash only after its COMMIT returned: those rows must survive whatever the schema jobs do.
With `use_maintenance_lock` it behaves as a pipeline step will (takes the maintenance lock shared
for each write, and skips the write when maintenance holds it); without, as a person with psql.
"""

from __future__ import annotations

import hashlib
import threading
import time
import uuid
from dataclasses import dataclass, field

import psycopg2
import psycopg2.extensions

from dagstributor_shared.maintenance import MaintenanceLockTimeout, maintenance_shared
from tests.support.database import PgTestServer

INSERT = "INSERT INTO atp.media (hash, media_type, original_title) VALUES (%s, 'movie', %s)"


@dataclass
class RowWriter:
    server: PgTestServer
    database: str
    use_maintenance_lock: bool
    interval: float = 0.05
    lock_wait_seconds: float = 0.05
    committed: list[str] = field(default_factory=list)
    _times: list[float] = field(default_factory=list)  # monotonic time of each commit
    skipped: int = 0  # writes not attempted because maintenance held the lock
    errors: list[str] = field(default_factory=list)  # failed writes (nothing committed)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _prefix: str = field(default_factory=lambda: uuid.uuid4().hex)

    def start(self) -> RowWriter:
        self._thread = threading.Thread(target=self._run, name="row-writer", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=120)
            assert not self._thread.is_alive(), "the writer is stuck"

    def committed_during(self, started: float, ended: float) -> int:
        """How many rows committed between two `time.monotonic()` readings."""
        return sum(1 for t in self._times if started <= t <= ended)

    def _write(self, connection: psycopg2.extensions.connection, n: int) -> None:
        row_hash = hashlib.sha1(f"{self._prefix}-{n}".encode()).hexdigest()
        try:
            with connection.cursor() as cursor:
                cursor.execute(INSERT, (row_hash, f"writer row {n}"))
            connection.commit()
        except psycopg2.Error as error:
            self.errors.append(str(error).strip())
            if not connection.closed:
                connection.rollback()
            return
        self.committed.append(row_hash)
        self._times.append(time.monotonic())

    def _run(self) -> None:
        connection = self.server.connect(self.database)
        try:
            n = 0
            while not self._stop.is_set():
                n += 1
                if self.use_maintenance_lock:
                    try:
                        with maintenance_shared(connection, self.lock_wait_seconds):
                            self._write(connection, n)
                    except MaintenanceLockTimeout:
                        self.skipped += 1
                else:
                    self._write(connection, n)
                self._stop.wait(self.interval)
        finally:
            connection.close()
