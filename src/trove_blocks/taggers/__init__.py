"""Taggers: blocks that add metadata to documents and never change their text."""
