"""The tabular data module: synthetic classification datasets in SQLite, loaded as numpy, exported to Parquet.

Plain functions, no datatrove: :func:`generate_database` / :func:`populate_dataset` write the ``datasets`` and
``features`` tables, :func:`load_data` returns ``(X, y)``, :func:`export_to_parquet` writes a Feast-readable file,
:func:`get_database_path` says where the database lives (argument, ``$TROVE_TABULAR_DB``, or the default cache path).
"""

from trove_blocks.tabular.database import (
    DATABASE_ENV_VAR,
    DEFAULT_DATASETS,
    DatabaseNotFoundError,
    DatasetInfo,
    DatasetNotFoundError,
    DatasetSpec,
    TabularDataError,
    dataset_info,
    generate_database,
    get_database_path,
    list_datasets,
    load_data,
    populate_dataset,
)
from trove_blocks.tabular.export import export_to_parquet
from trove_blocks.tabular.generator import make_classification
from trove_blocks.tabular.text import documents_query

__all__ = [
    "DATABASE_ENV_VAR",
    "DEFAULT_DATASETS",
    "DatabaseNotFoundError",
    "DatasetInfo",
    "DatasetNotFoundError",
    "DatasetSpec",
    "TabularDataError",
    "dataset_info",
    "documents_query",
    "export_to_parquet",
    "generate_database",
    "get_database_path",
    "list_datasets",
    "load_data",
    "make_classification",
    "populate_dataset",
]
