"""The library: naming (presets, safe names), placement (pure planning) and files (the work)."""
