"""Taggers: blocks that add metadata (or media) to documents and never change their text."""

from trove_blocks.taggers.curriculum import CurriculumTagger
from trove_blocks.taggers.page_render import PageRenderer
from trove_blocks.taggers.synsql import DifficultyTagger, SchemaMerger

__all__ = ["CurriculumTagger", "DifficultyTagger", "PageRenderer", "SchemaMerger"]
