"""Shared pieces of both Dagstributor code locations."""
