"""The health surface: the media_pipeline asset and its checks."""
