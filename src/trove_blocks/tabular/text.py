"""Tabular rows as text documents: the SQL a SQLiteReader runs to read a dataset's rows as ``{id, text, ...}``.

The text is built by SQLite itself (no Python per row): ``feature_0: 1.47085, feature_1: -0.36045, ..., target: 1``,
each value with 6 significant digits (``%.6g``). The exact values stay in the database and the Parquet export.
"""

from __future__ import annotations

from trove_blocks.tabular.database import DatasetInfo, feature_columns

#: metadata columns of the documents the query returns
DOCUMENT_METADATA_COLUMNS = ("dataset_name", "sample_index", "target")


def row_text_sql(n_features: int, table_alias: str = "f") -> str:
    """SQL expression of one row's text (a chain of ``||``: SQLite's printf takes at most 127 arguments)."""
    parts = [f"'{name}: ' || printf('%.6g', {table_alias}.{name})" for name in [*feature_columns(n_features), "target"]]
    return " || ', ' || ".join(parts)


def documents_query(info: DatasetInfo) -> str:
    """A SELECT of one dataset's rows as documents, split by ``:lo``/``:hi`` over the rowids of ``features``.

    Columns: ``id`` (``<dataset_name>/<sample_index>``), ``text`` (:func:`row_text_sql`), ``dataset_name``,
    ``sample_index``, ``target``. Use with ``SQLiteReader(db, query=..., rowid_table="features")``.
    """
    return (
        "SELECT d.dataset_name || '/' || f.sample_index AS id, "
        f"{row_text_sql(info.n_features)} AS text, "
        "d.dataset_name AS dataset_name, f.sample_index AS sample_index, f.target AS target "
        "FROM features f JOIN datasets d ON d.dataset_id = f.dataset_id "
        f"WHERE f.dataset_id = {int(info.dataset_id)} AND f.rowid >= :lo AND f.rowid < :hi ORDER BY f.rowid"
    )
