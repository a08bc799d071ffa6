-- Connection test: which server, database and user we reached, and the server's clock.
SELECT
    version() AS server_version,
    current_database() AS database,
    current_user AS "user",
    now() AS server_time;
