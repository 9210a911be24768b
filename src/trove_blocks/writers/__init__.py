"""Writers: blocks that turn documents into files (atomically) plus their stats and manifests."""

from trove_blocks.writers.atomic_jsonl import AtomicJsonlWriter
from trove_blocks.writers.images import ImageFilesWriter, ImageParquetWriter
from trove_blocks.writers.packed_parquet import PackedManifestWriter, PackedParquetWriter
from trove_blocks.writers.schema_table import SchemaTableWriter
from trove_blocks.writers.selection import ProcessedLineWriter, SelectionPlanner, SelectionRouter
from trove_blocks.writers.sqlite import SQLiteSchemaError, SQLiteWriter
from trove_blocks.writers.synsql_stats import SynsqlStatsWriter
from trove_blocks.writers.vision_samples import ArrowConverter, CompressionReportWriter, SplitWriter

__all__ = [
    "ArrowConverter",
    "AtomicJsonlWriter",
    "CompressionReportWriter",
    "ImageFilesWriter",
    "ImageParquetWriter",
    "PackedManifestWriter",
    "PackedParquetWriter",
    "ProcessedLineWriter",
    "SQLiteSchemaError",
    "SQLiteWriter",
    "SchemaTableWriter",
    "SelectionPlanner",
    "SelectionRouter",
    "SplitWriter",
    "SynsqlStatsWriter",
]
