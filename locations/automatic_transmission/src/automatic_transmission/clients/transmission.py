"""Transmission over its RPC (the `transmission-rpc` library): the few calls the pipeline makes.

Each step run makes one `torrent-get` asking only for the fields it needs, then adds (step 07) or
removes (step 10) what it decided. Failures that concern every row — the daemon unreachable, the
credentials refused, an answer that is not RPC — raise `TransmissionUnavailable` with a message
naming HOST:PORT (never the password), before any row is touched. A torrent the daemon refuses
(a `.torrent` URL it cannot fetch, a corrupt file) raises `TorrentRefused`, which concerns one row.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import dagster as dg

from automatic_transmission.settings import (
    number_setting,
    required_setting,
    setting,
    unset_settings,
)
from dagstributor_shared.scrub import register, scrub

if TYPE_CHECKING:
    import transmission_rpc

DEFAULT_PORT = 9091
DEFAULT_PATH = "/transmission/rpc"
DEFAULT_TIMEOUT_S = 30.0

# Transmission's torrent status numbers (RPC spec, `status`).
STOPPED, CHECK_PENDING, CHECKING, DOWNLOAD_PENDING, DOWNLOADING, SEED_PENDING, SEEDING = range(7)
# Done with the data: the file is in its final place (no longer in the incomplete dir).
DONE_STATUSES = frozenset({STOPPED, SEED_PENDING, SEEDING})
# Transmission's torrent error numbers (RPC spec, `error`): 1 and 2 come from a tracker (the data
# is not concerned, they pass), 3 is local (the data could not be written: "File name too long").
NO_ERROR, TRACKER_WARNING, TRACKER_ERROR, LOCAL_ERROR = range(4)
TRACKER_ERRORS = frozenset({TRACKER_WARNING, TRACKER_ERROR})
ERROR_TEXT_LIMIT = 300  # characters of Transmission's errorString kept (it can quote long paths)

# What each step asks for (RPC field names); `hashString` is always asked.
COLLECT_FIELDS = ("name",)
DOWNLOAD_CHECK_FIELDS = (
    "name", "status", "leftUntilDone", "metadataPercentComplete", "error", "errorString",
)  # fmt: skip
CLEANUP_FIELDS = (
    "activityDate", "addedDate", "leftUntilDone", "status", "uploadRatio", "secondsSeeding",
)  # fmt: skip
# Step 07: the file list of the torrents it added, and what every other torrent still needs.
INITIATION_FIELDS = ("name", "status", "leftUntilDone", "metadataPercentComplete", "files")
ACTIVE_FIELDS = ("status", "leftUntilDone")

T = TypeVar("T")


class TransmissionUnavailable(RuntimeError):
    """Transmission cannot be used at all (down, credentials refused, not an RPC answer): the
    step fails and leaves every row as it was. `unreachable`: no answer at all (down, a dead
    path), as opposed to an answer that refuses (a configuration error)."""

    def __init__(self, message: str, *, unreachable: bool = False) -> None:
        super().__init__(message)
        self.unreachable = unreachable

    @property
    def kind(self) -> str:
        """How a step stopped by it says so."""
        return "Transmission unreachable" if self.unreachable else "configuration error"


class TorrentRefused(RuntimeError):
    """Transmission refused one torrent (e.g. a `.torrent` URL it could not fetch)."""


@dataclass(frozen=True)
class Torrent:
    """One torrent as Transmission reports it; only the fields the step asked for are meaningful."""

    hash: str
    name: str = ""
    status: int | None = None
    left_until_done: int = 0
    metadata_complete: bool = True
    activity_date: dt.datetime | None = None  # last byte received; None if never
    added_date: dt.datetime | None = None
    files: tuple[tuple[str, int], ...] = ()  # (path inside the torrent, bytes); [] until metadata
    upload_ratio: float = 0.0
    seconds_seeding: int = 0
    error: int = NO_ERROR  # Transmission's `error`: 0 none, 1/2 tracker, 3 local
    error_string: str = ""

    @property
    def last_activity(self) -> dt.datetime | None:
        """When the torrent last received data, or when it was added if it never did."""
        return self.activity_date or self.added_date


def _epoch(value: Any) -> dt.datetime | None:
    """Transmission's dates are Unix seconds, 0 meaning never."""
    if not value:
        return None
    return dt.datetime.fromtimestamp(int(value), tz=dt.UTC)


def torrent_from_fields(fields: dict[str, Any]) -> Torrent:
    return Torrent(
        hash=str(fields["hashString"]).lower(),
        name=str(fields.get("name", "")),
        status=int(fields["status"]) if "status" in fields else None,
        left_until_done=int(fields.get("leftUntilDone", 0)),
        metadata_complete=float(fields.get("metadataPercentComplete", 1)) >= 1,
        activity_date=_epoch(fields.get("activityDate")),
        added_date=_epoch(fields.get("addedDate")),
        files=tuple((str(f["name"]), int(f["length"])) for f in fields.get("files") or ()),
        upload_ratio=max(float(fields.get("uploadRatio", 0)), 0.0),  # -1: nothing downloaded
        seconds_seeding=int(fields.get("secondsSeeding", 0)),
        error=int(fields.get("error") or NO_ERROR),
        error_string=scrub(str(fields.get("errorString") or ""))[:ERROR_TEXT_LIMIT],
    )


class TransmissionClient:
    """One connection to the daemon (the RPC session is opened by `connect`)."""

    def __init__(self, rpc: transmission_rpc.Client, where: str, timeout_s: float) -> None:
        self._rpc = rpc
        self._where = where
        self._timeout_s = timeout_s

    @classmethod
    def connect(
        cls,
        host: str,
        port: int = DEFAULT_PORT,
        username: str | None = None,
        password: str | None = None,
        path: str = DEFAULT_PATH,
        timeout_s: float = DEFAULT_TIMEOUT_S,
    ) -> TransmissionClient:
        """Open the RPC session (one `session-get`); TransmissionUnavailable when that fails."""
        import transmission_rpc

        register(password)  # run tables and errors never show it, whatever a refusal echoes
        where = f"{host}:{port}"
        with _translated(where, timeout_s):
            rpc = transmission_rpc.Client(
                host=host,
                port=port,
                username=username or None,
                password=password or None,
                path=path,
                timeout=timeout_s,
            )
        return cls(rpc, where, timeout_s)

    def _call(self, action: Callable[[], T]) -> T:
        with _translated(self._where, self._timeout_s):
            return action()

    def torrents(
        self, fields: Sequence[str], hashes: Collection[str] | None = None
    ) -> list[Torrent]:
        """Every torrent the daemon holds (or just `hashes`), with `fields` (+ its hash): ONE
        `torrent-get`."""
        asked = sorted({"hashString", *fields})
        ids: list[int | str] | None = None if hashes is None else sorted(hashes)
        if ids == []:
            return []
        found = self._call(lambda: self._rpc.get_torrents(ids=ids, arguments=asked))
        return [torrent_from_fields(t.fields) for t in found]

    def add(self, link: str, paused: bool = False) -> str:
        """Add a `.torrent` URL or a magnet (one `torrent-add`), `paused` if asked, and return
        its hash; a torrent the daemon already holds counts as added (and is left as it is).
        TorrentRefused when it refuses this one."""
        import transmission_rpc

        try:
            torrent = self._call(lambda: self._rpc.add_torrent(link, paused=paused or None))
        except transmission_rpc.TransmissionError as error:  # not a connection problem
            raise TorrentRefused(_rpc_result(error)) from None
        # transmission-rpc folds `torrent-added` and `torrent-duplicate` into one answer.
        return str(torrent.fields.get("hashString", "")).lower()

    def start(self, hashes: Collection[str]) -> None:
        """Start these torrents (ONE `torrent-start`)."""
        if hashes:
            ids: list[int | str] = sorted(hashes)
            self._call(lambda: self._rpc.start_torrent(ids))

    def stop(self, hashes: Collection[str]) -> None:
        """Stop (pause) these torrents (ONE `torrent-stop`)."""
        if hashes:
            ids: list[int | str] = sorted(hashes)
            self._call(lambda: self._rpc.stop_torrent(ids))

    def rpc_version(self) -> int:
        """The daemon's RPC version (one `session-get`): labels need 16 (Transmission 3.00)."""
        return int(self._call(lambda: self._rpc.get_session().rpc_version))

    def set_seeding(
        self,
        hashes: Collection[str],
        *,
        ratio_mode: int,
        ratio: float,
        idle_mode: int,
        idle_minutes: int,
        label: str | None,
    ) -> None:
        """Seeding limits (and a label, when given) for these torrents: ONE `torrent-set`."""
        if not hashes:
            return
        ids: list[int | str] = sorted(hashes)
        self._call(
            lambda: self._rpc.change_torrent(
                ids,
                seed_ratio_mode=ratio_mode,
                seed_ratio_limit=ratio,
                seed_idle_mode=idle_mode,
                seed_idle_limit=idle_minutes,
                labels=[label] if label else None,
            )
        )

    def free_space(self) -> int:
        """Bytes free in the daemon's download folder, as the daemon sees it (`session-get`,
        then `free-space` of its download-dir: no path mapping needed)."""
        directory = self._call(lambda: self._rpc.get_session().download_dir)
        free = self._call(lambda: self._rpc.free_space(directory))
        if free is None:
            raise TransmissionUnavailable(
                f"Transmission at {self._where} cannot tell the free space of {directory}"
            )
        return int(free)

    def remove(self, hashes: Collection[str]) -> None:
        """Remove these torrents and their downloaded data (ONE `torrent-remove`). Hashes the
        daemon does not hold are ignored by it."""
        if not hashes:
            return
        ids: list[int | str] = sorted(hashes)
        self._call(lambda: self._rpc.remove_torrent(ids, delete_data=True))


def _rpc_result(error: Exception) -> str:
    response = getattr(error, "response", None)
    if isinstance(response, dict) and response.get("result"):
        return scrub(str(response["result"]))
    return scrub(str(getattr(error, "message", "") or type(error).__name__))


@contextmanager
def _translated(where: str, timeout_s: float) -> Iterator[None]:
    """transmission-rpc's errors -> TransmissionUnavailable with a message that names HOST:PORT
    and never the credentials (the library's URL carries them). A refused torrent passes
    through as transmission_rpc.TransmissionError for `add` to classify."""
    import requests
    import transmission_rpc

    try:
        yield
    except transmission_rpc.TransmissionAuthError:
        raise TransmissionUnavailable(
            f"Transmission at {where} refused the credentials"
            " (TRANSMISSION_USERNAME / TRANSMISSION_PASSWORD)"
        ) from None
    except transmission_rpc.TransmissionTimeoutError:
        raise TransmissionUnavailable(
            f"Transmission at {where} unreachable: no answer within {timeout_s:g} s",
            unreachable=True,
        ) from None
    except transmission_rpc.TransmissionConnectError:
        raise TransmissionUnavailable(
            f"Transmission at {where} unreachable: connection failed", unreachable=True
        ) from None
    except transmission_rpc.TransmissionError as error:
        if getattr(error, "method", None) is None or getattr(error, "response", None) is None:
            # No RPC answer at all (e.g. an HTTP error page, a session-id loop): not Transmission.
            raise TransmissionUnavailable(
                f"Transmission at {where} gave no usable RPC answer: {error.message}"
            ) from None
        if error.method != "torrent-add":
            raise TransmissionUnavailable(
                f"Transmission at {where} answered {error.method} with: {_rpc_result(error)}"
            ) from None
        raise
    except requests.RequestException as error:  # anything the library did not wrap
        raise TransmissionUnavailable(
            f"Transmission at {where} unreachable: {type(error).__name__}", unreachable=True
        ) from None


TRANSMISSION_HOST_VAR = "TRANSMISSION_HOST"
TRANSMISSION_PORT_VAR = "TRANSMISSION_PORT"
TRANSMISSION_USERNAME_VAR = "TRANSMISSION_USERNAME"
TRANSMISSION_PASSWORD_VAR = "TRANSMISSION_PASSWORD"
TRANSMISSION_PATH_VAR = "TRANSMISSION_PATH"


class TransmissionResource(dg.ConfigurableResource):
    """The Transmission daemon: TRANSMISSION_HOST (required), TRANSMISSION_PORT (9091),
    TRANSMISSION_USERNAME, TRANSMISSION_PASSWORD, TRANSMISSION_PATH (/transmission/rpc)."""

    host: str | None = None
    port: int | None = None
    username: str | None = None
    password: str | None = None
    path: str | None = None
    timeout_s: float = 30.0

    def missing_settings(self) -> list[str]:
        return unset_settings({TRANSMISSION_HOST_VAR: self.host})

    def client(self) -> TransmissionClient:
        """Connected (one session-get); TransmissionUnavailable names HOST:PORT when it fails."""
        host = required_setting(self.host, TRANSMISSION_HOST_VAR)
        port = int(
            number_setting(self.port, TRANSMISSION_PORT_VAR, DEFAULT_PORT, 1, 65535, whole=True)
        )
        return TransmissionClient.connect(
            host,
            port,
            username=str(setting(self.username, TRANSMISSION_USERNAME_VAR, "")),
            password=str(setting(self.password, TRANSMISSION_PASSWORD_VAR, "")),
            path=str(setting(self.path, TRANSMISSION_PATH_VAR, DEFAULT_PATH)),
            timeout_s=self.timeout_s,
        )
