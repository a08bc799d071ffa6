-- atp.prediction (model output per IMDb title) and the view atp.movies
-- (tests/wiring_schema_tics/test_schema.py).
-- No updated_at and no update trigger here: a trigger writing a missing column once made every
-- upsert fail.

CREATE TABLE atp.prediction (
    imdb_id varchar(10) PRIMARY KEY CONSTRAINT prediction_imdb_id_format CHECK (imdb_id ~ '^tt[0-9]{7,8}$'),
    prediction smallint NOT NULL CONSTRAINT prediction_is_binary CHECK (prediction IN (0, 1)),
    probability numeric NOT NULL,
    cm_value char(2) NOT NULL CONSTRAINT prediction_cm_value_known CHECK (cm_value IN ('tp', 'tn', 'fp', 'fn')),
    created_at timestamptz NOT NULL DEFAULT now()
);

-- While this view exists training columns cannot be dropped: schema changes drop and recreate it.
CREATE VIEW atp.movies AS
SELECT
    t.imdb_id, t.tmdb_id, t.label, t.human_labeled, t.anomalous, t.reviewed, t.media_type,
    t.media_title, t.season, t.episode, t.release_year, t.budget, t.revenue, t.runtime,
    t.origin_country, t.production_companies, t.production_countries, t.production_status,
    t.original_language, t.spoken_languages, t.genre, t.original_media_title, t.tagline,
    t.overview, t.tmdb_rating, t.tmdb_votes, t.rt_score, t.metascore, t.imdb_rating, t.imdb_votes,
    p.prediction, p.probability, p.cm_value,
    t.created_at AS training_created_at,
    t.updated_at AS training_updated_at,
    p.created_at AS prediction_created_at
FROM atp.training AS t
JOIN atp.prediction AS p ON p.imdb_id = t.imdb_id;
