"""Clients of the systems outside: feeds, TMDB, OMDb, reel-driver, Transmission."""
