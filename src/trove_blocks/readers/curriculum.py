"""Readers of curriculum data: hub datasets and local dataset files through format adapters, and raw curriculum
JSONL.

Neither reader drops a bad record silently. A record that cannot be used comes out as a Document whose
``metadata["invalid_reason"]`` says why (``invalid_json``, ``missing_text``, or the adapter's reason such as
``missing_answer``) and whose ``metadata["record"]`` says where (``file:line`` or ``dataset/index``); its text
is the raw record. :func:`valid_record` (for datatrove's ``LambdaFilter`` with an exclusion writer) then drops it
with that reason, so input count = kept + excluded.

Metadata keys of the documents: ``source`` (dataset name), ``record``; from raw JSONL also the row's own
``category``, ``source`` and ``metadata`` fields, and ``file_path``.

Local dataset files (``--source NAME=PATH``) are streamed by :class:`CurriculumFileReader` in constant memory:
``datasets``' JSON loader reads a JSON-array file whole (measured: 0.73 GB peak for a 50 MB ShareGPT array,
2.3 GB for 200 MB).
"""

from __future__ import annotations

import json
from typing import Any

from datatrove.data import Document
from datatrove.io import DataFolderLike
from datatrove.pipeline.readers import HuggingFaceDatasetReader, JsonlReader
from datatrove.pipeline.readers.base import BaseDiskReader
from datatrove.utils.logging import logger

from trove_blocks.curriculum.adapters import InvalidRow, convert_row
from trove_blocks.curriculum.registry import LOCAL_SUFFIXES
from trove_blocks.json_stream import first_byte, iter_array, iter_field_array, iter_json_lines
from trove_blocks.progress import PROGRESS_CHECK_RECORDS, ByteProgress

INVALID_REASON = "invalid_reason"


def valid_record(doc: Document) -> bool | tuple[bool, str]:
    """LambdaFilter function: keep a usable record, drop an invalid one with its reason."""
    reason = doc.metadata.get(INVALID_REASON)
    return (False, reason) if reason else True


def _adapt_source_row(
    self: CurriculumSourceReader | CurriculumFileReader, data: object, path: str, id_in_file: int | str
) -> dict[str, Any]:
    record = f"{self.source_name}/{id_in_file}"
    try:
        if not isinstance(data, dict):  # not an object, or the bytes of a line that does not decode
            raise InvalidRow("invalid_json")
        converted = convert_row(self.source_format, data, self.text_field)
    except InvalidRow as reason:
        self.stat_update(f"invalid_{reason}")
        if isinstance(data, bytes):
            text = data.decode("utf-8", "replace").rstrip("\r\n")
        else:
            text = json.dumps(data, ensure_ascii=False, default=str)
        return {
            "text": text,
            "id": record,
            "metadata": {INVALID_REASON: str(reason), "record": record, "source": self.source_name},
        }
    return {
        "text": converted["text"],
        "id": converted["id"] or record,
        "metadata": converted["metadata"] | {"source": self.source_name, "record": record},
    }


class CurriculumSourceReader(HuggingFaceDatasetReader):
    """Read one curriculum dataset with datatrove's HuggingFaceDatasetReader and render rows with its adapter.

    ``dataset``/``dataset_options`` go to ``datasets.load_dataset`` as given (a hub id, or ``"json"`` with
    ``data_files`` for a local override); ``source_format`` names the adapter (see
    :mod:`trove_blocks.curriculum.adapters`). Streaming by default: rows are fetched as they are read (a
    ``limit`` then downloads only what it keeps, and nothing is copied into the datasets cache).
    """

    name = "📚 Curriculum source"

    def __init__(
        self,
        dataset: str,
        dataset_options: dict,
        source_name: str,
        source_format: str,
        text_field: str | None = None,
        limit: int = -1,
        streaming: bool = True,
    ):
        super().__init__(
            dataset, dataset_options=dataset_options, streaming=streaming, limit=limit, adapter=_adapt_source_row
        )
        self.source_name = source_name
        self.source_format = source_format
        self.text_field = text_field


class CurriculumFileReader(BaseDiskReader):
    """Read one curriculum dataset from local files in its original format, streamed, rows rendered by its adapter.

    The documents are those of :class:`CurriculumSourceReader`; ``record`` (and the id of a row without one) is
    ``<source_name>/<file><place>``, the place being ``:<line>`` in JSON lines, ``[<index>]`` in a JSON array and
    ``["<json_field>"][<index>]`` in an array nested under ``json_field``. Files:

    * ``.jsonl``: one row per non-blank line; a line that does not decode is an ``invalid_json`` record.
    * ``.json``: a top-level array of rows; a top-level object holding the rows under ``json_field`` (SQuAD's
      ``data``; only when ``json_field`` is given); else JSON lines. A malformed array raises
      :class:`~trove_blocks.json_stream.JsonStreamError` naming the file and byte offset; a .json file whose first
      line is not a JSON object (one pretty-printed object, no ``json_field``) raises a ValueError saying so.

    Rows that are not JSON objects are ``invalid_json`` records. Other files in ``data_folder`` are skipped with a
    warning and counted (``skipped_files``). A file's progress is logged with an ETA every ``progress_seconds``.
    """

    name = "📚 Curriculum files"

    def __init__(
        self,
        data_folder: DataFolderLike,
        source_name: str,
        source_format: str,
        text_field: str | None = None,
        json_field: str | None = None,
        glob_pattern: str | None = "**/*.json*",
        limit: int = -1,
        progress_seconds: float = 10.0,
    ):
        super().__init__(
            data_folder, limit=limit, adapter=_adapt_source_row, glob_pattern=glob_pattern, add_file_path=False
        )
        self.source_name = source_name
        self.source_format = source_format
        self.text_field = text_field
        self.json_field = json_field
        self.progress_seconds = progress_seconds

    def read_file(self, filepath: str):
        """Documents of one file; a progress line with an ETA every ``progress_seconds`` (0: none)."""
        if not filepath.endswith(LOCAL_SUFFIXES):
            logger.warning(f"{self.source_name}: skipping {filepath} (only {' and '.join(LOCAL_SUFFIXES)} are read)")
            self.stat_update("skipped_files")
            return
        shown, size = self.data_folder.resolve_paths(filepath), self.data_folder.size(filepath)
        progress = ByteProgress(shown, 0, size, self.progress_seconds)
        with self.data_folder.open(filepath, "rb") as handle:
            for count, (offset, place, data) in enumerate(self._rows(handle, filepath, shown, size), 1):
                if not count % PROGRESS_CHECK_RECORDS:
                    progress.update(offset, count)
                yield self.get_document_from_dict(data, filepath, f"{filepath}{place}")

    def _rows(self, handle, filepath: str, shown: str, size: int):
        """``(byte offset, place in the file, row)`` of each row (see the class docstring); a JSON line that does
        not decode is given as its bytes."""
        opener = first_byte(handle) if filepath.endswith(".json") else b""
        if opener == b"[" or (opener == b"{" and self.json_field):
            if opener == b"[":
                records, field = iter_array(handle, shown, 0, size, size), ""
            else:
                records, field = iter_field_array(handle, shown, self.json_field), f'["{self.json_field}"]'
            for index, record in enumerate(records):
                yield record.offset, f"{field}[{index}]", record.decode(shown)
            return
        handle.seek(0)
        for offset, number, line, data in iter_json_lines(handle):
            if data is None and number == 1 and opener == b"{":
                raise ValueError(
                    f"{shown}: its first line is not a JSON object, so this is not JSON lines but one JSON object; "
                    f"give the key that holds its rows as json_field of {self.source_name!r} in the registry"
                )
            yield offset, f":{number}", line if data is None else data


class CurriculumJsonlReader(JsonlReader):
    """JsonlReader that turns a line that is not a JSON object (or not UTF-8), or has no non-empty ``text``, into an
    invalid record. A file's progress is logged with an ETA every ``progress_seconds``.

    (datatrove's JsonlReader logs such lines and skips them uncounted.)
    """

    name = "📚 Curriculum JSONL"

    def __init__(
        self,
        data_folder,
        paths_file=None,
        glob_pattern: str | None = "*.jsonl",
        recursive: bool = False,
        progress_seconds: float = 10.0,
    ):
        super().__init__(
            data_folder,
            paths_file=paths_file,
            glob_pattern=glob_pattern,
            recursive=recursive,
            compression=None,
            add_file_path=False,  # set below once per file, not resolved again for every line
        )
        self.progress_seconds = progress_seconds

    def read_file(self, filepath: str):
        resolved = self.data_folder.resolve_paths(filepath)
        progress = ByteProgress(resolved, 0, self.data_folder.size(filepath), self.progress_seconds)
        with self.data_folder.open(filepath, "rb") as handle:
            for count, (offset, number, line, data) in enumerate(iter_json_lines(handle), 1):
                if not count % PROGRESS_CHECK_RECORDS:
                    progress.update(offset, count)
                record = f"{filepath}:{number}"
                text = data.get("text") if isinstance(data, dict) else None
                if not isinstance(data, dict):
                    reason = "invalid_json"
                elif not (isinstance(text, str) and text and not text.isspace()):
                    reason = "missing_text"
                else:
                    document = self.get_document_from_dict(data, filepath, number - 1)
                    document.metadata["file_path"] = resolved  # the split; never taken from the row
                    document.metadata["record"] = record
                    yield document
                    continue
                self.stat_update(reason)
                yield Document(
                    text=line.decode("utf-8", "replace").rstrip("\r\n"),
                    id=record,
                    metadata={INVALID_REASON: reason, "record": record, "file_path": resolved},
                )
