"""WatchlistResource: where the watchlist comes from (AT_WATCHLIST_URLS, watchlist.yaml) and
which shows step 06 follows (AT_TV_FOLLOW). The feeds are read by the feed client (timeouts,
retries, size limit); read when a run starts, explicit fields win (tests)."""

from __future__ import annotations

import dagster as dg

from automatic_transmission.clients.feeds import FeedClient
from automatic_transmission.settings import SettingsError, setting

WATCHLIST_URLS_VAR = "AT_WATCHLIST_URLS"
TV_FOLLOW_VAR = "AT_TV_FOLLOW"
TV_FOLLOW_CHOICES = ("all", "watchlist")


class WatchlistResource(dg.ConfigurableResource):
    """`urls`: AT_WATCHLIST_URLS, a comma list of Plex watchlist RSS feeds (they carry the Plex
    token: set it as a secret); `tv_follow`: AT_TV_FOLLOW, `all` (default: every TV release a feed
    brings) or `watchlist` (only shows on the watchlist); `config_dir`: where watchlist.yaml is
    (default config/automatic_transmission/)."""

    urls: str | None = None
    tv_follow: str | None = None
    config_dir: str | None = None
    timeout_s: float = 30.0
    retries: int = 1
    backoff_s: float = 1.0

    def feed_urls(self) -> list[str]:
        value = str(setting(self.urls, WATCHLIST_URLS_VAR, ""))
        return [url.strip() for url in value.split(",") if url.strip()]

    def follows_all_tv(self) -> bool:
        value = str(setting(self.tv_follow, TV_FOLLOW_VAR, "all")).strip().lower()
        if value not in TV_FOLLOW_CHOICES:
            raise SettingsError(f"{TV_FOLLOW_VAR} must be all or watchlist, not {value!r}")
        return value == "all"

    def client(self) -> FeedClient:
        return FeedClient(timeout_s=self.timeout_s, retries=self.retries, backoff_s=self.backoff_s)
