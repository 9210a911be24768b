"""Readers: blocks that turn files or databases into datatrove Documents (metadata keys documented per reader)."""

from trove_blocks.readers.curriculum import CurriculumFileReader, CurriculumJsonlReader, CurriculumSourceReader
from trove_blocks.readers.finewiki import FineWikiReader
from trove_blocks.readers.html import HtmlFileReader
from trove_blocks.readers.json_array import JsonArrayReader
from trove_blocks.readers.jsonl import CheckedJsonlReader
from trove_blocks.readers.sqlite import SQLiteReader
from trove_blocks.readers.stage_output import StageOutputJsonlReader

__all__ = [
    "CheckedJsonlReader",
    "CurriculumFileReader",
    "CurriculumJsonlReader",
    "CurriculumSourceReader",
    "FineWikiReader",
    "HtmlFileReader",
    "JsonArrayReader",
    "SQLiteReader",
    "StageOutputJsonlReader",
]
