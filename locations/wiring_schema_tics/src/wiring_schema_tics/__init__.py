"""The wiring_schema_tics schema management location."""
