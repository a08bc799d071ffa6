-- atp.training: one row per IMDb title, metadata and labels for the preference model.
-- tests/wiring_schema_tics/test_schema.py checks its constraints; automatic_transmission/limits.py
-- mirrors its widths and CHECKs (tests/automatic_transmission/test_limits.py compares them).

CREATE TABLE atp.training (
    imdb_id varchar(10) PRIMARY KEY CONSTRAINT training_imdb_id_format CHECK (imdb_id ~ '^tt[0-9]{7,8}$'),
    tmdb_id integer UNIQUE CONSTRAINT training_tmdb_id_positive CHECK (tmdb_id > 0),
    label atp.label_type,
    human_labeled boolean NOT NULL DEFAULT false,
    anomalous boolean NOT NULL DEFAULT false,
    reviewed boolean DEFAULT false,
    media_type atp.media_type NOT NULL,
    media_title varchar(255) NOT NULL,
    season smallint,
    episode smallint,
    release_year smallint NOT NULL CONSTRAINT training_release_year_range CHECK (release_year BETWEEN 1850 AND 2100),
    budget bigint CONSTRAINT training_budget_not_negative CHECK (budget >= 0),
    revenue bigint CONSTRAINT training_revenue_not_negative CHECK (revenue >= 0),
    runtime integer CONSTRAINT training_runtime_not_negative CHECK (runtime >= 0),
    origin_country char(2)[],
    production_companies varchar(255)[],
    production_countries char(2)[],
    production_status varchar(25),
    original_language char(2),
    spoken_languages char(2)[],
    genre varchar(20)[],
    original_media_title varchar(255),
    tagline varchar(255),
    overview text,
    tmdb_rating numeric(5, 3) CONSTRAINT training_tmdb_rating_range CHECK (tmdb_rating BETWEEN 0 AND 10),
    tmdb_votes integer CONSTRAINT training_tmdb_votes_not_negative CHECK (tmdb_votes >= 0),
    rt_score integer CONSTRAINT training_rt_score_range CHECK (rt_score BETWEEN 0 AND 100),
    metascore integer CONSTRAINT training_metascore_range CHECK (metascore BETWEEN 0 AND 100),
    -- IMDb rating x 10
    imdb_rating numeric(4, 1) CONSTRAINT training_imdb_rating_range CHECK (imdb_rating BETWEEN 0 AND 100),
    imdb_votes integer CONSTRAINT training_imdb_votes_not_negative CHECK (imdb_votes >= 0),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TRIGGER training_10_stamp_updated_at BEFORE UPDATE ON atp.training
    FOR EACH ROW EXECUTE FUNCTION atp.stamp_updated_at();
