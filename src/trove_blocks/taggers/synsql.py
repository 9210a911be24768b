"""SynSQL taggers: the difficulty label, and the schema text merged in by db_id (metadata only, text untouched)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import orjson
from datatrove.data import Document, DocumentsPipeline
from datatrove.pipeline.base import PipelineStep

from trove_blocks.synsql.records import DEFAULT_DIFFICULTY


def synsql_question(document: Document) -> object:
    """The question of a SynSQL document read with ``text_key="question"``: its text, or where that is empty the raw
    value the reader left in the metadata (a wrong type), None when the record had none. The other fields of the
    record are the document's metadata."""
    return document.text or document.metadata.get("question")


def load_schema_table(path: str | Path) -> dict[str, str]:
    """``{db_id: schema text}`` from a rendered-schema table (JSON lines ``{"db_id", "schema"}``)."""
    with open(path, "rb") as handle:
        return {row["db_id"]: row["schema"] for row in map(orjson.loads, handle)}


class DifficultyTagger(PipelineStep):
    """Sets ``metadata["difficulty"]`` from ``metadata["sql_complexity"]`` (default: the seed's curriculum map).

    Run it after :class:`~trove_blocks.filters.synsql_validation.SynsqlRecordFilter`, which drops unknown labels.
    """

    name = "🏷 SynSQL difficulty"
    type = "🏷 - TAGGER"

    def __init__(self, difficulty_map: Mapping[str, str] = DEFAULT_DIFFICULTY):
        super().__init__()
        self.difficulty_map = dict(difficulty_map)

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        for document in data:
            difficulty = self.difficulty_map[document.metadata["sql_complexity"]]
            document.metadata["difficulty"] = difficulty
            self.stat_update(f"difficulty_{difficulty}")
            yield document


class SchemaMerger(PipelineStep):
    """Sets ``metadata["schema"]`` to the rendered schema of the document's database.

    The schemas come from the table written by
    :class:`~trove_blocks.writers.schema_table.SchemaTableWriter` (rendered once, from tables.json);
    ``db_id_path`` says where the db_id sits: ``("db_id",)`` or e.g. ``("record", "db_id")``.
    """

    name = "🗄 SynSQL schema merger"
    type = "🏷 - TAGGER"

    def __init__(self, schema_table: str, db_id_path: tuple[str, ...] = ("db_id",)):
        super().__init__()
        self.schema_table = schema_table
        self.db_id_path = tuple(db_id_path)
        self._schemas: dict[str, str] | None = None

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        if self._schemas is None:
            self._schemas = load_schema_table(self.schema_table)
        for document in data:
            value = document.metadata
            for key in self.db_id_path:
                value = value[key]
            schema = self._schemas.get(value)
            if schema is None:
                raise KeyError(f"document {document.id}: db_id {value!r} is not in {self.schema_table}")
            document.metadata["schema"] = schema
            self.stat_update("schema_chars", value=len(schema))
            yield document
