"""Notifications through Apprise, scrubbed of secrets, never failing the caller.

One URL scheme reaches ~100 services (Discord, Slack, Telegram, ntfy, Gotify, e-mail, JSON
webhooks). Each location names its own variable of space- or comma-separated Apprise URLs
(`urls_var`: AT_NOTIFY_URLS, WST_NOTIFY_URLS); unset or empty, nothing is sent and nothing fails. A message that cannot be delivered is logged (scrubbed) and `send` returns
False: a notification never fails a step, a sensor or a check, and never loses a row.

No secret ever leaves in a message: every text goes through the one scrubber
(dagstributor_shared.scrub), given as extra secrets the values of secret-looking variables
(`*_PASSWORD`, `*_TOKEN`, `*_KEY`, `*_SECRET`) and the notification URLs themselves (their paths
and credentials are tokens); it also removes credentials written into any URL.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, unquote, urlsplit

import dagster as dg

from dagstributor_shared.scrub import MIN_SECRET, scrub
from dagstributor_shared.settings import setting

WEBSERVER_URL_VAR = "DAGSTER_WEBSERVER_URL"
DEFAULT_TIMEOUT_S = 15.0  # the whole delivery to every target, per message
MAX_BODY_CHARS = 3500  # most chat services cut near 4000; keep the end of a long text out

SECRET_VARIABLE = re.compile(r"(PASSWORD|PASSWD|TOKEN|SECRET|API_KEY|_KEY|APIKEY)$", re.IGNORECASE)
logger = logging.getLogger(__name__)


def split_urls(raw: str | None) -> tuple[str, ...]:
    """The value of a location's URL variable -> the URLs (space- or comma-separated; blanks
    ignored)."""
    if not raw:
        return ()
    return tuple(part for part in re.split(r"[\s,]+", raw) if part)


def url_secrets(url: str) -> set[str]:
    """The parts of a notification URL that are or may be tokens: the URL, its credentials,
    its path segments and query values (Discord, Telegram, Slack, ... put tokens there)."""
    found = {url}
    try:
        parts = urlsplit(url)
    except ValueError:
        return found
    found.update(unquote(piece) for piece in re.split(r"[:@]", parts.netloc) if piece)
    found.update(unquote(segment) for segment in parts.path.split("/") if segment)
    found.update(value for _, value in parse_qsl(parts.query) if value)
    return {value for value in found if len(value) >= MIN_SECRET}


def environment_secrets(environ: Mapping[str, str]) -> set[str]:
    """Values of the variables whose name says they hold a secret."""
    return {
        value
        for name, value in environ.items()
        if SECRET_VARIABLE.search(name) and len(value) >= MIN_SECRET
    }


@dataclass(frozen=True)
class Notifier:
    """Sends scrubbed messages to the configured Apprise URLs; without URLs it does nothing."""

    urls: tuple[str, ...] = ()
    secrets: frozenset[str] = field(default_factory=frozenset, repr=False)
    timeout_s: float = DEFAULT_TIMEOUT_S
    log: logging.Logger = field(default=logger, repr=False, compare=False)
    urls_var: str = ""  # where the URLs came from, for the warnings

    def __repr__(self) -> str:  # never the URLs: they carry tokens
        return f"Notifier({len(self.urls)} target(s))"

    @classmethod
    def from_environment(
        cls,
        environ: Mapping[str, str] | None = None,
        *,
        urls_var: str = "",
        urls: str | None = None,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        log: logging.Logger | None = None,
    ) -> Notifier:
        """The notifier of the variable `urls_var` (or of `urls` when given; "" reads no
        variable), scrubbing the secrets of this environment."""
        env = os.environ if environ is None else environ
        raw = setting(urls, urls_var, "", env) if urls_var else urls
        targets = split_urls(None if raw is None else str(raw))
        secrets = environment_secrets(env)
        for url in targets:
            secrets |= url_secrets(url)
        return cls(targets, frozenset(secrets), timeout_s, log or logger, urls_var)

    @property
    def enabled(self) -> bool:
        return bool(self.urls)

    def scrub(self, text: str) -> str:
        return scrub(text, self.secrets)

    def send(self, title: str, body: str) -> bool:
        """Deliver one message to every target; True when all took it. Never raises."""
        if not self.urls:
            return False
        title, body = self.scrub(title), self.scrub(body)
        if len(body) > MAX_BODY_CHARS:
            body = body[: MAX_BODY_CHARS - 1] + "…"
        try:
            import apprise

            sender = apprise.Apprise()
            added = sum(bool(sender.add(url)) for url in self.urls)
            if added < len(self.urls):
                self.log.warning(
                    f"{len(self.urls) - added} of the {len(self.urls)} URLs in "
                    f"{self.urls_var or 'the notification URLs'} are not valid Apprise URLs; "
                    "they are skipped"
                )
            if not added:
                return False
            delivered = bool(sender.notify(body=body, title=title, timeout=self.timeout_s))
        except Exception as error:  # a notification must never fail its caller
            self.log.warning(f"notification {title!r} not sent: {self.scrub(str(error))}")
            return False
        if not delivered:
            self.log.warning(f"notification {title!r} could not be delivered to every target")
        return delivered


class NotifierResource(dg.ConfigurableResource):
    """Where notifications go: the location's variable `urls_var` (space- or comma-separated
    Apprise URLs), read when a run starts; unset or empty -> nothing is sent. An explicit `urls`
    wins (tests); without `urls_var` only `urls` is used."""

    urls_var: str = ""
    urls: str | None = None
    timeout_s: float = DEFAULT_TIMEOUT_S

    def notifier(self, log: logging.Logger | None = None) -> Notifier:
        return Notifier.from_environment(
            urls_var=self.urls_var, urls=self.urls, timeout_s=self.timeout_s, log=log
        )


# --- run failures ------------------------------------------------------------------------------


def run_link(run_id: str, environ: Mapping[str, str] | None = None) -> str | None:
    """The run's page in the UI when DAGSTER_WEBSERVER_URL is set."""
    base = (os.environ if environ is None else environ).get(WEBSERVER_URL_VAR, "").strip()
    return f"{base.rstrip('/')}/runs/{run_id}" if base else None


def first_line(text: str | None) -> str:
    for line in (text or "").splitlines():
        if line.strip():
            return line.strip()
    return ""


@dataclass(frozen=True)
class RunFailure:
    location: str
    job_name: str
    run_id: str
    error: str  # the first line of the error
    link: str | None = None

    def title(self) -> str:
        return f"Dagstributor: run of {self.job_name} failed"

    def body(self) -> str:
        lines = [
            f"Job {self.job_name} ({self.location}) failed.",
            f"Run: {self.run_id}",
            f"Error: {self.error or 'see the run'}",
        ]
        if self.link:
            lines.append(self.link)
        return "\n".join(lines)


def _error_message(error: object) -> str:
    """The user's error of a SerializableErrorInfo, past Dagster's wrapper around it."""
    while error is not None:
        message = str(getattr(error, "message", "") or "")
        cause = getattr(error, "cause", None)
        if cause is not None and message.startswith("dagster._core.errors."):
            error = cause
            continue
        return message
    return ""


def failure_error_line(context: dg.RunFailureSensorContext) -> str:
    """The first line of what failed: the first failed step's error, else the run's."""
    for event in context.get_step_failure_events():
        data = event.step_failure_data
        if data is not None and data.error is not None:
            return first_line(_error_message(data.error))
    run_data = context.failure_event.event_specific_data
    error = getattr(run_data, "error", None)
    return first_line(_error_message(error) if error is not None else context.failure_event.message)


def run_failure_sensor(
    location: str,
    urls_var: str,
    notifier_factory: Callable[[], Notifier] | None = None,
) -> dg.RunFailureSensorDefinition:
    """A sensor of one code location that notifies every failed run of its jobs to the URLs of
    the location's variable `urls_var` (read when a run fails)."""

    @dg.run_failure_sensor(
        name=f"{location}_run_failure_notification",
        description=(
            f"Notifies {urls_var} of each failed run of this location: job, run id, the "
            f"error's first line and a link to the run ({WEBSERVER_URL_VAR})."
        ),
        default_status=dg.DefaultSensorStatus.RUNNING,
    )
    def notify_run_failure(context: dg.RunFailureSensorContext) -> None:
        notifier = (
            notifier_factory() if notifier_factory else Notifier.from_environment(urls_var=urls_var)
        )
        if not notifier.enabled:
            return
        run = context.dagster_run
        failure = RunFailure(
            location=location,
            job_name=run.job_name,
            run_id=run.run_id,
            error=failure_error_line(context),
            link=run_link(run.run_id),
        )
        if not notifier.send(failure.title(), failure.body()):
            context.log.warning(f"the failure of run {run.run_id} was not notified")

    return notify_run_failure
