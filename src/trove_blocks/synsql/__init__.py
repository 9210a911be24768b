"""SynSQL text-to-SQL preparation logic (no datatrove import): schema rendering, SQL normalisation, sandboxed
SQLite execution, record validation, the processed record and the stats picture; the streaming JSON reading
(:mod:`trove_blocks.json_stream`) re-exported."""

from trove_blocks.json_stream import BoundaryMismatchError, JsonStreamError, byte_range_shard, iter_records
from trove_blocks.synsql.records import (
    DEFAULT_DIFFICULTY,
    invalid_reason,
    parse_difficulty_overrides,
    processed_record,
)
from trove_blocks.synsql.sandbox import DatabasePool, ExecutionResult, execute_sql, open_read_only
from trove_blocks.synsql.schema import SCHEMA_FORMATS, entry_from_ddls, iter_table_entries, render_schema
from trove_blocks.synsql.sql_text import normalize_sql
from trove_blocks.synsql.stats_picture import stats_panels, write_stats_picture

__all__ = [
    "BoundaryMismatchError",
    "DEFAULT_DIFFICULTY",
    "DatabasePool",
    "ExecutionResult",
    "JsonStreamError",
    "SCHEMA_FORMATS",
    "byte_range_shard",
    "entry_from_ddls",
    "execute_sql",
    "invalid_reason",
    "iter_records",
    "iter_table_entries",
    "normalize_sql",
    "open_read_only",
    "parse_difficulty_overrides",
    "processed_record",
    "render_schema",
    "stats_panels",
    "write_stats_picture",
]
