"""Readers: blocks that turn files or databases into datatrove Documents (metadata keys documented per reader)."""
