"""FineWiki vision-text compression: chunking, sample records, safe paths, report, splits, Arrow (no datatrove)."""

from trove_blocks.finewiki.arrow import convert_to_arrow, open_arrow
from trove_blocks.finewiki.chunks import Chunk, chunk_article, sample_id, sample_number
from trove_blocks.finewiki.paths import UnsafePathError, check_name, image_relpath, inside
from trove_blocks.finewiki.report import aggregate, contact_sheet, markdown_table
from trove_blocks.finewiki.splitting import make_splits

__all__ = [
    "Chunk",
    "UnsafePathError",
    "aggregate",
    "check_name",
    "chunk_article",
    "contact_sheet",
    "convert_to_arrow",
    "image_relpath",
    "inside",
    "make_splits",
    "markdown_table",
    "open_arrow",
    "sample_id",
    "sample_number",
]
