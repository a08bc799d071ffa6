"""The limits schema `atp` enforces, held once for the Python that fits values to them.

The DDL (wiring_schema_tics/sql/ddl) is the authority; these mirror it so that a value is cut or
dropped in Python instead of failing its batch in PostgreSQL. tests/automatic_transmission/
test_limits.py compares every one with the template database (`information_schema.columns` and
the CHECK constraints), so a DDL change cannot drift from the code. The info-hash pattern is in
`automatic_transmission.torrents` and is compared there too.
"""

import re
from collections.abc import Mapping

# varchar widths, in characters.
TITLE_CHARS = 255  # media_title, original_media_title, tagline, a production company
SHORT_CHARS = 10  # resolution, video_codec, audio_codec, upload_type
UPLOADER_CHARS = 25
PRODUCTION_STATUS_CHARS = 25
GENRE_CHARS = 20  # one genre of atp.training.genre
CODE_CHARS = 2  # char(2): a country (ISO 3166-1) or language (ISO 639-1) code

# Every bounded text column: "table.column" -> its width (for an array, its elements' width).
COLUMN_WIDTHS: Mapping[str, int] = {
    "media.hash": 40,
    "media.media_title": TITLE_CHARS,
    "media.uploader": UPLOADER_CHARS,
    "media.imdb_id": 10,
    "media.resolution": SHORT_CHARS,
    "media.video_codec": SHORT_CHARS,
    "media.audio_codec": SHORT_CHARS,
    "media.upload_type": SHORT_CHARS,
    "training.imdb_id": 10,
    "training.media_title": TITLE_CHARS,
    "training.original_media_title": TITLE_CHARS,
    "training.tagline": TITLE_CHARS,
    "training.production_status": PRODUCTION_STATUS_CHARS,
    "training.production_companies": TITLE_CHARS,
    "training.genre": GENRE_CHARS,
    "training.original_language": CODE_CHARS,
    "training.origin_country": CODE_CHARS,
    "training.production_countries": CODE_CHARS,
    "training.spoken_languages": CODE_CHARS,
    "prediction.imdb_id": 10,
    "prediction.cm_value": 2,
    "watchlist.imdb_id": 10,
    "watchlist.title": TITLE_CHARS,
}

# CHECK `*_imdb_id_format` of atp.media, atp.training, atp.prediction and atp.watchlist.
IMDB_ID_PATTERN = re.compile(r"^tt[0-9]{7,8}$")
# CHECK `*_release_year_range` of atp.media and atp.training.
MIN_YEAR, MAX_YEAR = 1850, 2100
# season, episode, tmdb_id, runtime and the vote counts are `integer`.
MAX_INTEGER = 2**31 - 1
