"""Reader of FineWiki's parquet files, the input of the FineWiki vision pipeline.

Documents: ``text`` (the article's plain text, "" when the row has none), ``id``, ``metadata["title"]``
(None when the file has no title column).
"""

from __future__ import annotations

from datatrove.io import DataFolderLike
from datatrove.pipeline.readers import ParquetReader

from trove_blocks.progress import ByteProgress
from trove_blocks.readers.json_array import JsonArrayReader

#: the columns the pipeline uses, of FineWiki's 14 (text and id required)
FINEWIKI_COLUMNS = ("text", "id", "title")


class FineWikiReader(ParquetReader):
    """datatrove's ParquetReader for FineWiki rows, with four differences:

    * it reads every ``*.parquet`` under the folder, subfolders too (FineWiki keeps one folder per wiki);
    * it reads only :data:`FINEWIKI_COLUMNS` (among FineWiki's others, ``wikitext`` and ``infoboxes`` are about
      as large as the text) and says which file lacks ``text`` or ``id``;
    * a row with an empty or missing text is passed on with text "" (datatrove's reader drops it uncounted), so
      the token-length filter excludes it with its reason: rows read = kept + excluded;
    * each file's progress is logged with an ETA every ``progress_seconds`` (one task may read a whole wiki);
      the position is estimated from the rows read, as a share of the file's bytes.
    """

    name = "📖 FineWiki parquet"

    def __init__(
        self,
        data_folder: DataFolderLike,
        glob_pattern: str | None = "**/*.parquet",
        limit: int = -1,
        batch_size: int = 1000,
        progress_seconds: float = 10.0,
    ):
        from trove_blocks.finewiki.records import finewiki_article  # the finewiki package imports numpy and Pillow

        super().__init__(
            data_folder, limit=limit, batch_size=batch_size, adapter=finewiki_article, glob_pattern=glob_pattern
        )
        self.progress_seconds = progress_seconds

    get_document_from_dict = JsonArrayReader.get_document_from_dict  # keeps documents without text

    def read_file(self, filepath: str):
        import pyarrow as pa
        import pyarrow.parquet as pq

        shown, size = self.data_folder.resolve_paths(filepath), self.data_folder.size(filepath)
        try:
            with self.data_folder.open(filepath, "rb") as handle, pq.ParquetFile(handle) as parquet:
                yield from self._read_parquet(parquet, filepath, shown, size)
        except (pa.ArrowException, OSError) as error:  # ArrowInvalid (not parquet), truncated or damaged pages
            raise ValueError(f"{shown}: cannot read it as parquet ({error})") from error

    def _read_parquet(self, parquet, filepath: str, shown: str, size: int):
        import pyarrow as pa

        schema = parquet.schema_arrow
        missing = [column for column in FINEWIKI_COLUMNS[:2] if column not in schema.names]
        if missing:
            found = ", ".join(schema.names)
            raise ValueError(f"{shown}: not a FineWiki parquet file: no column {', '.join(missing)} (it has {found})")
        text_type, id_type = schema.field("text").type, schema.field("id").type
        if not (pa.types.is_string(text_type) or pa.types.is_large_string(text_type)):
            raise ValueError(f"{shown}: column text is {text_type}, not text")
        if not (pa.types.is_string(id_type) or pa.types.is_large_string(id_type) or pa.types.is_integer(id_type)):
            raise ValueError(f"{shown}: column id is {id_type}, not text or an integer")
        columns = [column for column in FINEWIKI_COLUMNS if column in schema.names]
        rows = max(parquet.metadata.num_rows, 1)
        progress = ByteProgress(shown, 0, size, self.progress_seconds)
        index = 0
        for batch in parquet.iter_batches(batch_size=self.batch_size, columns=columns):
            with self.track_time("batch"):
                documents = [
                    self.get_document_from_dict(row, filepath, index + offset)
                    for offset, row in enumerate(batch.to_pylist())
                ]
            index += len(documents)
            progress.update(size * index // rows, index)
            # handed on one by one, none kept here: downstream steps add to a document (the token filter its ids,
            # ~40 bytes a token), so holding the whole batch held every kept article's ids until the batch ended
            documents.reverse()
            while documents:
                yield documents.pop()
