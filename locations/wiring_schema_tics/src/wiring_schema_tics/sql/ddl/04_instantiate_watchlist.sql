-- atp.watchlist: what the household follows (schema.md "Items"), one row per watched title and
-- source. A Plex watchlist feed (AT_WATCHLIST_URLS) or config/automatic_transmission/watchlist.yaml
-- fills it; step 06 takes the movies on it without the model and, with AT_TV_FOLLOW=watchlist,
-- only episodes of the shows on it. A sync that fails keeps the rows (never empties the list).

CREATE TYPE atp.watch_kind AS ENUM ('movie', 'show');

CREATE TABLE atp.watchlist (
    -- the feed the title came from (its URL without credentials) or 'watchlist.yaml'
    source text NOT NULL,
    kind atp.watch_kind NOT NULL,
    -- what identifies the title within its source: imdb:tt0133093, tmdb:603, tvdb:81189, or
    -- title:<normalised title>:<year> for a YAML entry that gives only a title
    watch_key text NOT NULL,
    imdb_id varchar(10) CONSTRAINT watchlist_imdb_id_format CHECK (imdb_id ~ '^tt[0-9]{7,8}$'),
    tmdb_id integer CONSTRAINT watchlist_tmdb_id_positive CHECK (tmdb_id > 0),
    tvdb_id integer CONSTRAINT watchlist_tvdb_id_positive CHECK (tvdb_id > 0),
    title varchar(255),
    year integer CONSTRAINT watchlist_year_range CHECK (year BETWEEN 1850 AND 2100),
    first_seen timestamptz NOT NULL DEFAULT now(),
    last_seen timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (source, kind, watch_key)
);

-- Step 06 matches releases by id after step 05.
CREATE INDEX watchlist_imdb_id ON atp.watchlist (imdb_id) WHERE imdb_id IS NOT NULL;
CREATE INDEX watchlist_tmdb_id ON atp.watchlist (kind, tmdb_id) WHERE tmdb_id IS NOT NULL;
