"""Developer commands. Importable as `scripts` from the repository root, as the tests do."""
