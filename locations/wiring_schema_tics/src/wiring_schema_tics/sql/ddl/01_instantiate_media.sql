-- Schema atp, its enum types, the trigger functions and atp.media (README "Code locations and jobs";
-- tests/wiring_schema_tics/test_schema.py checks the rules; automatic_transmission/limits.py mirrors
-- the widths and CHECKs of atp.media, compared by tests/automatic_transmission/test_limits.py).
-- Deliberately not idempotent: on an existing schema the first statement fails with
-- SQLSTATE 42P06 "schema atp already exists" and the whole file rolls back.

CREATE SCHEMA atp;

CREATE TYPE atp.media_type AS ENUM ('movie', 'tv_show', 'tv_season', 'tv_episode_pack', 'unknown');

CREATE TYPE atp.pipeline_status AS ENUM (
    'ingested', 'paused', 'parsed', 'rejected', 'file_accepted', 'metadata_collected',
    'media_accepted', 'downloading', 'downloaded', 'transferred', 'complete'
);

CREATE TYPE atp.rejection_status AS ENUM ('unfiltered', 'accepted', 'rejected', 'override');

-- Feed labels the pipeline writes into media.rss_source (AT_RSS_SOURCES must use these);
-- 'torznab' marks rows from an indexer of AT_TORZNAB_URLS (Prowlarr, Jackett).
CREATE TYPE atp.rss_source AS ENUM (
    'yts.mx', 'yts.lt', 'yts.am', 'episodefeed.com', 'eztvx.to', 'eztv.re', 'showrss.info', 'other',
    'torznab'
);

CREATE TYPE atp.label_type AS ENUM ('would_watch', 'would_not_watch');

-- Trigger functions. BEFORE UPDATE only: an INSERT (e.g. a reload) keeps the timestamps it is given.

-- 1. every UPDATE stamps updated_at (media and training).
CREATE FUNCTION atp.stamp_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END;
$$;

-- 2. moving pipeline_status back to 'ingested' restarts the row: filters run again unless the
--    user forced it (override), and the old reason and error go.
CREATE FUNCTION atp.media_reset_on_ingested() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.pipeline_status = 'ingested' AND OLD.pipeline_status IS DISTINCT FROM 'ingested' THEN
        IF NEW.rejection_status IS DISTINCT FROM 'override' THEN
            NEW.rejection_status := 'unfiltered';
        END IF;
        NEW.rejection_reason := NULL;
        NEW.error_status := false;
        NEW.error_condition := NULL;
    END IF;
    RETURN NEW;
END;
$$;

-- 5. a soft delete by an operator rejects the row (runs before 3 and 4, see trigger names).
CREATE FUNCTION atp.media_reject_on_delete() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.deleted_at IS NULL AND NEW.deleted_at IS NOT NULL THEN
        NEW.rejection_status := 'rejected';
        NEW.rejection_reason := 'user deletion';
    END IF;
    RETURN NEW;
END;
$$;

-- 3. a row that is not in error carries no error condition.
CREATE FUNCTION atp.media_clear_error_condition() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT NEW.error_status THEN
        NEW.error_condition := NULL;
    END IF;
    RETURN NEW;
END;
$$;

-- 4. a row that is not rejected carries no rejection reason.
CREATE FUNCTION atp.media_clear_rejection_reason() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.rejection_status IS DISTINCT FROM 'rejected' THEN
        NEW.rejection_reason := NULL;
    END IF;
    RETURN NEW;
END;
$$;

CREATE TABLE atp.media (
    hash char(40) PRIMARY KEY CONSTRAINT media_hash_lowercase_hex CHECK (hash ~ '^[0-9a-f]{40}$'),
    media_type atp.media_type NOT NULL,
    media_title varchar(255),
    season integer,
    episode integer,
    release_year integer CONSTRAINT media_release_year_range CHECK (release_year BETWEEN 1850 AND 2100),
    pipeline_status atp.pipeline_status NOT NULL DEFAULT 'ingested',
    error_status boolean NOT NULL DEFAULT false,
    error_condition text,
    rejection_status atp.rejection_status NOT NULL DEFAULT 'unfiltered',
    rejection_reason text,
    parent_path text,
    target_path text,
    original_title text NOT NULL,
    original_path text,
    original_link text,
    rss_source atp.rss_source,
    uploader varchar(25),
    imdb_id varchar(10) CONSTRAINT media_imdb_id_format CHECK (imdb_id ~ '^tt[0-9]{7,8}$'),
    tmdb_id integer CONSTRAINT media_tmdb_id_positive CHECK (tmdb_id > 0),
    resolution varchar(10),
    video_codec varchar(10),
    audio_codec varchar(10),
    upload_type varchar(10),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    deleted_at timestamptz
);

-- Row triggers of one event fire in name order: the number fixes it. The soft delete (30) sets
-- 'rejected' before the clean-ups (40, 50) look at the row.
CREATE TRIGGER media_10_stamp_updated_at BEFORE UPDATE ON atp.media
    FOR EACH ROW EXECUTE FUNCTION atp.stamp_updated_at();
CREATE TRIGGER media_20_reset_on_ingested BEFORE UPDATE ON atp.media
    FOR EACH ROW EXECUTE FUNCTION atp.media_reset_on_ingested();
CREATE TRIGGER media_30_reject_on_delete BEFORE UPDATE ON atp.media
    FOR EACH ROW EXECUTE FUNCTION atp.media_reject_on_delete();
CREATE TRIGGER media_40_clear_error_condition BEFORE UPDATE ON atp.media
    FOR EACH ROW EXECUTE FUNCTION atp.media_clear_error_condition();
CREATE TRIGGER media_50_clear_rejection_reason BEFORE UPDATE ON atp.media
    FOR EACH ROW EXECUTE FUNCTION atp.media_clear_rejection_reason();

-- Every pipeline step reads "the live rows in my status, oldest first, one batch after another";
-- this partial index answers that without scanning finished, frozen or deleted rows.
CREATE INDEX media_step_queue ON atp.media (pipeline_status, created_at, hash)
    WHERE NOT error_status AND deleted_at IS NULL;

-- What a Torznab indexer says about a release (issue 17), one statement per column so other
-- additions to atp.media merge apart. `indexer` names the indexer without its query string (never
-- the API key); the seeding minimums are the tracker's (minimum_seed_time in seconds).
ALTER TABLE atp.media ADD COLUMN indexer text;
ALTER TABLE atp.media ADD COLUMN seeders integer
    CONSTRAINT media_seeders_non_negative CHECK (seeders >= 0);
ALTER TABLE atp.media ADD COLUMN peers integer
    CONSTRAINT media_peers_non_negative CHECK (peers >= 0);
ALTER TABLE atp.media ADD COLUMN size_bytes bigint
    CONSTRAINT media_size_bytes_non_negative CHECK (size_bytes >= 0);
ALTER TABLE atp.media ADD COLUMN tvdb_id integer
    CONSTRAINT media_tvdb_id_positive CHECK (tvdb_id > 0);
ALTER TABLE atp.media ADD COLUMN minimum_ratio real
    CONSTRAINT media_minimum_ratio_non_negative CHECK (minimum_ratio >= 0);
ALTER TABLE atp.media ADD COLUMN minimum_seed_time integer
    CONSTRAINT media_minimum_seed_time_non_negative CHECK (minimum_seed_time >= 0);
ALTER TABLE atp.media ADD COLUMN download_volume_factor real
    CONSTRAINT media_download_volume_factor_non_negative CHECK (download_volume_factor >= 0);

-- Items (issue 16). A release (a row) belongs to an item: a movie (its tmdb_id) or an episode (its
-- show's tmdb_id, season and episode); a season pack covers every episode of its seasons, a
-- multi-episode pack its episodes. Parsing stores the first season/episode in season/episode and
-- the last one of a pack in last_season/last_episode (null: only the first).
ALTER TABLE atp.media ADD COLUMN last_season integer;
ALTER TABLE atp.media ADD COLUMN last_episode integer;
-- PROPER/REPACK/REAL: 2, REPACK2: 3 ... (parsing/revision.py); 1 is the first release.
ALTER TABLE atp.media ADD COLUMN revision smallint NOT NULL DEFAULT 1
    CONSTRAINT media_revision_positive CHECK (revision >= 1);
-- The indexer's seeders when the feed says (ties on the quality ladder go to more seeders).
ALTER TABLE atp.media ADD COLUMN IF NOT EXISTS seeders integer;

-- The item as a range of one bigint line, so that "covers the same episode" is range overlap
-- (&&), which a GiST index and an exclusion constraint understand without any extension:
--   movie      [-tmdb_id, -tmdb_id + 1)
--   episodes   tmdb_id * 2^26 + season * 2^14 + episode, first to last episode of a pack
--   seasons    every episode number of the seasons, first to last season of a pack
-- Null (no item known: no tmdb_id yet, a number out of range): the release is judged alone, as
-- before items existed. Generated, so it is never out of step with the columns it reads, and a
-- reload (which skips generated columns) recomputes it.
ALTER TABLE atp.media ADD COLUMN item_span int8range GENERATED ALWAYS AS (
    CASE
        WHEN tmdb_id IS NULL THEN NULL
        WHEN media_type = 'movie' THEN int8range(-tmdb_id::bigint, -tmdb_id::bigint + 1)
        WHEN media_type = 'unknown' OR season IS NULL OR season NOT BETWEEN 0 AND 4095
            OR coalesce(last_season, season) NOT BETWEEN season AND 4095 THEN NULL
        WHEN media_type = 'tv_season' OR episode IS NULL OR last_season > season THEN int8range(
            tmdb_id::bigint * 67108864 + season::bigint * 16384,
            tmdb_id::bigint * 67108864 + (coalesce(last_season, season) + 1)::bigint * 16384)
        WHEN episode NOT BETWEEN 0 AND 16383
            OR coalesce(last_episode, episode) NOT BETWEEN episode AND 16383 THEN NULL
        ELSE int8range(
            tmdb_id::bigint * 67108864 + season::bigint * 16384 + episode,
            tmdb_id::bigint * 67108864 + season::bigint * 16384 + coalesce(last_episode, episode) + 1)
    END
) STORED;

-- One download per item, guaranteed by the database: no two live releases whose items overlap may
-- be "being fetched" (accepted, downloading, downloaded) at once, whatever runs overlap. Held
-- releases (transferred, complete) are not in it: an upgrade downloads while the old file stays.
ALTER TABLE atp.media ADD CONSTRAINT media_one_fetch_per_item
    EXCLUDE USING gist (item_span WITH &&)
    WHERE (pipeline_status IN ('media_accepted', 'downloading', 'downloaded')
           AND NOT error_status AND deleted_at IS NULL);

-- Step 06 reads every release of the items of a batch (held, being fetched, waiting) at once.
CREATE INDEX media_item_span ON atp.media USING gist (item_span) WHERE item_span IS NOT NULL;
