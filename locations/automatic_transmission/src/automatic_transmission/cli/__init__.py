"""The command-line tools: at-item and at-parse."""
