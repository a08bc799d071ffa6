"""The automatic_transmission media pipeline."""
