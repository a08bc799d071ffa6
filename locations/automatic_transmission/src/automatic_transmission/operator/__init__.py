"""The operator surface: jobs that retry, override or reject items by hand."""
