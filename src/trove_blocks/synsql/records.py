"""SynSQL records: validation (with exclusion reasons), difficulty mapping, and the processed record.

A raw SynSQL record has exactly: db_id, sql_complexity, question_style, question, external_knowledge, cot, sql.
The processed record is the seed's format (question, schema, sql, db_id, difficulty) plus sql_complexity (the
original label), question_style, external_knowledge, and ``cot`` only when asked for.
"""

from __future__ import annotations

from collections.abc import Container, Mapping

from trove_blocks.synsql.sql_text import normalize_sql

#: the seed's curriculum: Simple -> Medium -> Complex; SynSQL has four labels
DEFAULT_DIFFICULTY = {"Simple": "Simple", "Moderate": "Medium", "Complex": "Complex", "Highly Complex": "Complex"}

REQUIRED_TEXT_FIELDS = ("question", "sql", "db_id", "sql_complexity")
OPTIONAL_TEXT_FIELDS = ("question_style", "external_knowledge")
OPTIONAL_FIELDS = (*OPTIONAL_TEXT_FIELDS, "cot")
PROCESSED_FIELDS = (
    "question",
    "schema",
    "sql",
    "db_id",
    "difficulty",
    "sql_complexity",
    "question_style",
    "external_knowledge",
)


def parse_difficulty_overrides(items: list[str], base: Mapping[str, str] = DEFAULT_DIFFICULTY) -> dict[str, str]:
    """``["Highly Complex=Hard"]`` applied over ``base``; raises ValueError on an item without ``=``."""
    mapping = dict(base)
    for item in items:
        label, sep, difficulty = item.partition("=")
        if not sep or not label.strip() or not difficulty.strip():
            raise ValueError(f"difficulty mapping {item!r}: expected SQL_COMPLEXITY=DIFFICULTY")
        mapping[label.strip()] = difficulty.strip()
    return mapping


def invalid_reason(
    question: object,
    fields: Mapping,
    known_db_ids: Container[str],
    difficulty_map: Mapping[str, str],
    require_cot: bool = False,
) -> str | None:
    """Why a record cannot be used (a short reason such as ``missing_sql``), or None when it is valid.

    ``question`` apart from the other ``fields`` (a ``question`` key there is not looked at): a document holds it
    as its text, and copying the metadata to put it back costs more than the whole check.
    """
    get = fields.get
    for field in REQUIRED_TEXT_FIELDS:
        value = question if field == "question" else get(field)
        if not isinstance(value, str):
            return f"missing_{field}" if value is None else f"wrong_type_{field}"
        if not value or value.isspace():  # what strip() would leave empty
            return f"empty_{field}"
    for field in OPTIONAL_FIELDS:
        value = get(field)
        if value is not None and not isinstance(value, str):
            return f"wrong_type_{field}"
    if require_cot and not get("cot"):
        return "missing_cot"
    if fields["sql_complexity"] not in difficulty_map:
        return "unknown_sql_complexity"
    if fields["db_id"] not in known_db_ids:
        return "unknown_db_id"
    return None


def processed_record(question: str, fields: Mapping, schema: str, difficulty: str, include_cot: bool = False) -> dict:
    """The processed record of a valid raw record (``question`` and the other ``fields``), fields in
    :data:`PROCESSED_FIELDS` order (then ``cot``). ``schema`` may be text or a pre-serialised ``orjson.Fragment``.
    """
    get = fields.get
    processed = {
        "question": question,
        "schema": schema,
        "sql": normalize_sql(fields["sql"]),
        "db_id": fields["db_id"],
        "difficulty": difficulty,
        "sql_complexity": fields["sql_complexity"],
        "question_style": get("question_style") or "",
        "external_knowledge": get("external_knowledge") or "",
    }
    if include_cot:
        processed["cot"] = get("cot") or ""
    return processed
