"""One-task step: renders every database's schema from tables.json once, into a small JSON-lines table."""

from __future__ import annotations

from pathlib import Path

from datatrove.data import DocumentsPipeline
from datatrove.pipeline.base import PipelineStep

from trove_blocks.io import atomic_output
from trove_blocks.synsql.schema import SCHEMA_FORMATS, iter_table_entries, render_schema, schema_line


class SchemaTableWriter(PipelineStep):
    """Streams tables.json (never holding its raw JSON) and writes ``{"db_id", "schema"}`` lines to ``output_file``.

    Rendering once, instead of in every task, matters for ``ddl``: example values are read from each SQLite
    database (``databases_dir``; skipped when None). A db_id seen twice keeps its first entry (counted).
    """

    name = "🗄 SynSQL schema table"
    type = "✍️ - WRITER"

    def __init__(self, tables_file: str, output_file: str, schema_format: str = "compact", databases_dir=None):
        super().__init__()
        if schema_format not in SCHEMA_FORMATS:
            raise ValueError(f"schema_format must be one of {SCHEMA_FORMATS}, got {schema_format!r}")
        self.tables_file = tables_file
        self.output_file = output_file
        self.schema_format = schema_format
        self.databases_dir = databases_dir

    def run(self, data: DocumentsPipeline = None, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        if world_size != 1:
            raise ValueError(f"{self.name} needs exactly one task, got {world_size}")
        databases = Path(self.databases_dir) if self.databases_dir else None
        seen: set[str] = set()
        with atomic_output(self.output_file, "wb") as out:
            for entry in iter_table_entries(Path(self.tables_file)):
                if entry["db_id"] in seen:
                    self.stat_update("duplicate_db_id")
                    continue
                seen.add(entry["db_id"])
                with self.track_time():
                    out.write(schema_line(entry["db_id"], render_schema(entry, self.schema_format, databases)))
                self.stat_update("schemas")
        yield from data or ()
