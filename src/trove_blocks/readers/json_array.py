"""Reader for top-level JSON arrays (and JSON lines) that splits even ONE file across all tasks by byte ranges.

datatrove shards by whole files, so a single 9 GB data.json would run on one task while the others idle.
Here the input files are laid end to end and cut into ``world_size`` byte ranges of equal size; each task reads
the records whose first byte lies in its range, streaming in constant memory (see
:mod:`trove_blocks.json_stream` for how a task finds its first record and why the result is exact).

Documents:
  * ``id``: the record's ``id_key`` field if it is a string, or an integer (as text); else (absent, null or of
    another type) ``"<file path>/<byte offset>"`` (stable for any number of tasks; the offset also locates the
    record in the file).
  * ``text``: the ``text_key`` field when it is a string, else "" (the raw value then stays in metadata, so a
    later filter can report the wrong type). Documents without text are NOT dropped: every record read is
    passed on, so kept + excluded = read downstream.
  * ``metadata``: the other fields; a record that is not a JSON object arrives as ``{"json_value": value}``.

A task logs its progress through its byte range with an ETA every ``progress_seconds`` (one task may read all
of a 9 GB file). Malformed or truncated input raises :class:`~trove_blocks.json_stream.JsonStreamError`
naming the file and byte offset.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from datatrove.data import Document, DocumentsPipeline
from datatrove.io import DataFolderLike
from datatrove.pipeline.readers.base import BaseDiskReader

from trove_blocks.json_stream import byte_range_shard, iter_records
from trove_blocks.progress import PROGRESS_CHECK_RECORDS, ByteProgress


class JsonArrayReader(BaseDiskReader):
    """Streams JSON arrays / JSON lines, one file split across tasks by byte ranges.

    Args:
        data_folder: folder (or DataFolder) holding the files
        glob_pattern: which files, e.g. ``"data.json"`` or ``"*.jsonl"`` (default: all files)
        text_key, id_key, adapter, default_metadata, limit (per task), recursive: as in datatrove's readers
        progress_seconds: log a progress line with an ETA at most this often (seconds; 0: never)
    """

    name = "🧩 JSON array (byte ranges)"

    def __init__(
        self,
        data_folder: DataFolderLike,
        glob_pattern: str | None = None,
        text_key: str = "text",
        id_key: str = "id",
        adapter: Callable | None = None,
        default_metadata: dict | None = None,
        limit: int = -1,
        recursive: bool = True,
        progress_seconds: float = 10.0,
    ):
        super().__init__(
            data_folder,
            limit=limit,
            adapter=adapter,
            text_key=text_key,
            id_key=id_key,
            default_metadata=default_metadata,
            recursive=recursive,
            glob_pattern=glob_pattern,
            add_file_path=False,
        )
        self.progress_seconds = progress_seconds

    def _default_adapter(self, data, path: str, id_in_file: int | str) -> dict:
        if not isinstance(data, dict):
            return {"text": "", "id": f"{path}/{id_in_file}", "metadata": {"json_value": data}}
        text = data.get(self.text_key)
        if isinstance(text, str):
            del data[self.text_key]
        else:
            text = ""
        record_id = data.pop(self.id_key, None)
        if isinstance(record_id, int) and not isinstance(record_id, bool):
            record_id = str(record_id)
        elif not isinstance(record_id, str):
            record_id = f"{path}/{id_in_file}"
        return {"text": text, "id": record_id, "metadata": data}

    def get_document_from_dict(self, data, source_file: str, id_in_file: int | str) -> Document:
        """Like datatrove's, but a document without text is kept (a filter decides, with a reason)."""
        parsed = self.adapter(data, source_file, id_in_file)
        document = Document(parsed.get("text", ""), parsed["id"], [], parsed.get("metadata", {}))
        if self.default_metadata:
            document.metadata = self.default_metadata | document.metadata
        return document

    def read_range(self, filepath: str, start: int, end: int, size: int) -> DocumentsPipeline:
        """Documents of the records of ``filepath`` whose first byte lies in ``[start, end)``."""
        shown_path = self.data_folder.resolve_paths(filepath)
        progress = ByteProgress(f"{shown_path} bytes {start:,}-{end:,}", start, end, self.progress_seconds)
        with self.data_folder.open(filepath, "rb") as handle:
            for count, record in enumerate(iter_records(handle, shown_path, start, end, size), 1):
                if not count % PROGRESS_CHECK_RECORDS:
                    progress.update(record.offset, count)
                yield self.get_document_from_dict(record.decode(shown_path), filepath, record.offset)

    def read_file(self, filepath: str) -> DocumentsPipeline:
        size = self.data_folder.size(filepath)
        yield from self.read_range(filepath, 0, size, size)

    def run(self, data: DocumentsPipeline = None, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        """Counters (documents, characters of text, time) are summed locally and reported once per range."""
        if data:
            yield from data
        files = sorted(self.data_folder.list_files(recursive=self.recursive, glob_pattern=self.glob_pattern))
        if not files:
            raise FileNotFoundError(f"no input files in {self.data_folder.path} (glob {self.glob_pattern!r})")
        sizes = [self.data_folder.size(path) for path in files]
        read = 0
        clock = time.perf_counter
        for index, start, end in byte_range_shard(sizes, rank, world_size):
            if self.limit != -1 and read >= self.limit:
                return
            documents = characters = 0
            seconds = 0.0
            stream = self.read_range(files[index], start, end, sizes[index])
            try:
                while self.limit == -1 or read < self.limit:
                    started = clock()
                    document = next(stream, None)
                    seconds += clock() - started
                    if document is None:
                        break
                    read += 1
                    documents += 1
                    characters += len(document.text)
                    yield document
            finally:
                stream.close()
                self.stat_update("input_ranges")
                self.stat_update("documents", value=documents, unit="range")
                self.stat_update("doc_len", value=characters, unit="range")
                self.track_time(unit="range").update(seconds)
