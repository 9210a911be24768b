"""Formatters: blocks that turn documents into other documents (e.g. one article into its context windows)."""

from trove_blocks.formatters.context_chunks import ContextChunker

__all__ = ["ContextChunker"]
