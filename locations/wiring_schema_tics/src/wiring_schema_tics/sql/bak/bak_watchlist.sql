-- Back up atp.watchlist into bak.atp_watchlist_<YYYYMMDD, UTC> with metadata and column mapping, verified.
-- REPEATABLE READ: the copy and the source count share one snapshot. Needs bak/00_functions.sql.
-- dagstributor: autocommit
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT * FROM bak.backup_table('atp', 'watchlist');
COMMIT;
