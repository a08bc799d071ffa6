-- Restore atp.watchlist from its newest backup in one transaction (bak.reload_table in 00_functions.sql).
SELECT * FROM bak.reload_table('atp', 'watchlist');
