"""One module per pipeline step: its decide functions and its thin Dagster op."""
