"""Drops SynSQL records that cannot be used, each with its reason (missing_sql, unknown_db_id, ...)."""

from __future__ import annotations

from collections.abc import Mapping

from datatrove.data import Document
from datatrove.pipeline.filters.base_filter import BaseFilter
from datatrove.pipeline.writers.disk_base import DiskWriter

from trove_blocks.synsql.records import DEFAULT_DIFFICULTY, invalid_reason
from trove_blocks.taggers.synsql import load_schema_table, synsql_fields


class SynsqlRecordFilter(BaseFilter):
    """Keeps records with the required text fields, a known sql_complexity and a db_id present in the schemas.

    Reasons: ``not_an_object``, ``missing_<field>``, ``wrong_type_<field>``, ``empty_<field>``, ``missing_cot``
    (with ``require_cot``), ``unknown_sql_complexity``, ``unknown_db_id``.

    Args:
        schema_table: rendered-schema table (JSON lines ``{"db_id", "schema"}``) listing the known databases
        difficulty_map: sql_complexity -> difficulty; labels outside it are unknown
        require_cot: drop records without a ``cot`` (for --include-cot)
    """

    name = "🧾 SynSQL record check"

    def __init__(
        self,
        schema_table: str,
        difficulty_map: Mapping[str, str] = DEFAULT_DIFFICULTY,
        require_cot: bool = False,
        exclusion_writer: DiskWriter | None = None,
    ):
        super().__init__(exclusion_writer)
        self.schema_table = schema_table
        self.difficulty_map = dict(difficulty_map)
        self.require_cot = require_cot
        self._db_ids: frozenset[str] | None = None

    def filter(self, document: Document) -> bool | tuple[bool, str]:
        if self._db_ids is None:
            self._db_ids = frozenset(load_schema_table(self.schema_table))
        if "json_value" in document.metadata:
            return False, "not_an_object"
        reason = invalid_reason(synsql_fields(document), self._db_ids, self.difficulty_map, self.require_cot)
        return (False, reason) if reason else True
